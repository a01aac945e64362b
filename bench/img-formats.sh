#!/bin/bash
# Disks from other hypervisors, side by side with qemu-img in one run
# (issue 18): for each format, convert a 2 GiB image a quarter filled from
# raw into the format and from the format to qcow2, and `img bench` reads and
# writes on it; prints medians of REPS runs and the ratio qemu/vessel (>= 1.0:
# vessel at least as fast).
# Usage: bench/img-formats.sh [path/to/vessel]. Environment: REPS (default 3),
# SIZE (default 2G), FORMATS (default "vdi vmdk vhdx"), WORKDIR.
set -euo pipefail

VESSEL=${1:-build/vessel}
REPS=${REPS:-3}
SIZE=${SIZE:-2G}
FORMATS=${FORMATS:-vdi vmdk vhdx}
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img not installed"; exit 0; }
[ -x "$VESSEL" ] || { echo "bench/img-formats.sh: $VESSEL is not built" >&2; exit 1; }
VESSEL=$(realpath "$VESSEL")
W=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/vessel-fmt-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

secs() { # wall seconds of "$@", after a sync
	local t0 t1
	sync
	t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
bench_secs() { sync; "$@" | sed -n 's/^Run completed in \([0-9.]*\) seconds\./\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m}'; }
report() {
	printf '%-36s qemu-img %8ss  vessel %8ss  ratio %5s\n' "$1" "$2" "$3" \
		"$(echo "scale=2; $2 / $3" | bc -l)"
}
pair() { # name, qemu command..., --, vessel command...
	local name=$1 q=() v=() qs=() vs=() i
	shift
	while [ "$1" != -- ]; do q+=("$1"); shift; done
	shift
	v=("$@")
	for ((i = 0; i < REPS; i++)); do
		qs+=("$("${q[@]}")")
		vs+=("$("${v[@]}")")
	done
	report "$name" "$(printf '%s\n' "${qs[@]}" | median)" "$(printf '%s\n' "${vs[@]}" | median)"
}

# a quarter of the 1 MiB chunks random, the rest holes
python3 - "$SIZE" <<'PY'
import os, random, sys
units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
s = sys.argv[1]
size = int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s)
rnd = random.Random(7)
with open("src.raw", "wb") as f:
    f.truncate(size)
    for off in range(0, size, 1 << 20):
        if rnd.random() < 0.25:
            f.seek(off)
            f.write(os.urandom(1 << 20))
PY
echo "bench/img-formats.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $SIZE image a quarter filled, median of $REPS"
for fmt in $FORMATS; do
	rm -f q.$fmt v.$fmt
	pair "convert raw -> $fmt" secs qemu-img convert -O "$fmt" src.raw q.$fmt -- \
		secs "$VESSEL" img convert -O "$fmt" src.raw v.$fmt
	pair "convert $fmt -> qcow2" secs qemu-img convert -f "$fmt" -O qcow2 q.$fmt q.qcow2 -- \
		secs "$VESSEL" img convert -f "$fmt" -O qcow2 q.$fmt v.qcow2
	pair "bench read 64k ($fmt)" bench_secs qemu-img bench -f "$fmt" -c 16384 -s 65536 q.$fmt -- \
		bench_secs "$VESSEL" img bench -f "$fmt" -c 16384 -s 65536 q.$fmt
	pair "bench write 64k ($fmt)" bench_secs qemu-img bench -w -f "$fmt" -c 16384 -s 65536 q.$fmt -- \
		bench_secs "$VESSEL" img bench -w -f "$fmt" -c 16384 -s 65536 v.$fmt
	rm -f q.$fmt v.$fmt q.qcow2 v.qcow2 ./*-s0* ./*-f0* ./*-flat*
done
