#!/usr/bin/env python3
"""STYLE.md's size budgets, checked in CI: every file under src/ at most
800 lines, every function body at most 60 lines. Prints each violation
and exits 1 if there is any. A function is a line starting in column 0
followed by a line holding only "{" (the kernel brace style the tree uses),
up to the next line holding only "}".

Usage: style-check.py REPO_ROOT"""
import pathlib
import re
import sys

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 60


def functions(lines):
    start = None
    for i, line in enumerate(lines):
        if start is None and line == "{" and i and re.match(r"[A-Za-z_]", lines[i - 1]):
            start = i
        elif start is not None and line == "}":
            yield lines[start - 1], start, i - start - 1
            start = None


def main():
    root = pathlib.Path(sys.argv[1])
    bad = 0
    for path in sorted(root.glob("src/**/*.[ch]")):
        lines = path.read_text(errors="replace").split("\n")
        rel = path.relative_to(root)
        if len(lines) - 1 > MAX_FILE_LINES:
            print(f"{rel}: {len(lines) - 1} lines (budget {MAX_FILE_LINES})")
            bad += 1
        for head, line, n in functions(lines):
            if n > MAX_FUNCTION_LINES:
                print(f"{rel}:{line}: {head.strip()[:60]}: {n} lines (budget {MAX_FUNCTION_LINES})")
                bad += 1
    print(f"{bad} violation(s) of STYLE.md's size budgets")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
