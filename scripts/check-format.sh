#!/usr/bin/env bash
# Checks that every C file of the tree is formatted as .clang-format says
# (clang-format --dry-run -Werror), listing the files that are not. With an
# argument, also writes a one-case JUnit XML there for scripts/summarize.py.
# Exits 1 if any file differs. `--fix` formats them instead (make format).
#
# Not C, so not formatted: headers that hold assembler macros for .S files
# (clang-format would rewrite them into something gas cannot read).
set -uo pipefail
cd "$(dirname "$0")/.."
exclude='^tests/emu-diff/corpus\.h$'
mapfile -t files < <(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'guest/*.c' \
	'guest/*.h' | grep -Ev "$exclude")
if [ "${1:-}" = "--fix" ]; then
	exec clang-format -i "${files[@]}"
fi
out=${1:-}
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ -n "$out" ]; then
	{
		echo '<?xml version="1.0" encoding="utf-8"?>'
		echo '<testsuites><testsuite name="format" tests="1">'
		echo '<testcase classname="format" name="clang-format">'
		[ ${#bad[@]} -eq 0 ] || echo "<failure message=\"${#bad[@]} of ${#files[@]} files differ from .clang-format\"/>"
		echo '</testcase></testsuite></testsuites>'
	} >"$out"
fi
if [ ${#bad[@]} -ne 0 ]; then
	printf 'check-format: %s\n' "${bad[@]}" >&2
	echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format (make format fixes them)" >&2
	exit 1
fi
echo "check-format: ${#files[@]} files formatted"
