#!/usr/bin/env python3
"""Sums the JUnit XML files that meson test and pytest wrote and prints the
closing line CI reads: 'N passed, N failed, N skipped'. Exits 1 if any
failed or if no result file exists (a run that ran nothing has failed)."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(paths):
    totals = [0, 0, 0]
    found = 0
    for p in paths:
        try:
            c = count(p)
        except (OSError, ET.ParseError) as e:
            print(f"summarize: {p}: {e}", file=sys.stderr)
            totals[1] += 1
            continue
        found += 1
        totals = [a + b for a, b in zip(totals, c)]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] or not found or totals[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
