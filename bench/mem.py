#!/usr/bin/env python3
"""Guest RAM backing benchmark (issue 11 item 13): vessel's three guest RAM
backings under KVM (vmm/memory.h): private anonymous memory (the default),
the same with MADV_HUGEPAGE (THP), and a memfd; in one run, alternating,
medians. For each backing and run:
  boot  process start -> exit of the test guest with `exit:0`
  first the guest's first write to each 4 KiB page of 16 MiB (test `touch`)
  again the same writes once mapped (the guest's own cost under KVM-PVM,
        which emulates CPL0 at ~2 MIPS); first - again is the mapping cost
Prints a markdown table of medians and each backing's ratio to the default."""
import argparse
import os
import re
import statistics
import subprocess
import time

BACKINGS = ("anon", "anon-thp", "memfd")
TOUCH = re.compile(r"touch: MiB=\d+ pages=\d+ first_ns=(\d+) again_ns=(\d+)")


def run(vessel, bz, backing, test, mem):
    env = dict(os.environ, VESSEL_MEM_BACKING=backing)
    t0 = time.monotonic()
    r = subprocess.run([vessel, "vm", "run", "--accel", "kvm", "--mem", mem, "--kernel", bz,
                        "--append", f"vessel.test={test}"], capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL, timeout=120)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{backing} {test}: status {r.returncode}: {r.stdout}{r.stderr}")
    return secs, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--mem", default="512M")
    ap.add_argument("--touch-mib", type=int, default=16)
    a = ap.parse_args()
    res = {b: {"boot": [], "first": [], "again": []} for b in BACKINGS}
    for _ in range(a.runs):
        for b in BACKINGS:
            secs, _ = run(a.vessel, a.bzimage, b, "exit:0", a.mem)
            res[b]["boot"].append(secs * 1e3)
            _, out = run(a.vessel, a.bzimage, b, f"touch:{a.touch_mib}", a.mem)
            m = TOUCH.search(out)
            if not m:
                raise RuntimeError(f"no touch line: {out}")
            res[b]["first"].append(int(m.group(1)) / 1e6)
            res[b]["again"].append(int(m.group(2)) / 1e6)
    print(f"{time.strftime('%Y-%m-%d')}, {a.runs} runs each, --mem {a.mem}, "
          f"touch {a.touch_mib} MiB, medians in ms")
    print("| measure | " + " | ".join(BACKINGS) + " | " +
          " | ".join(f"{b} / anon" for b in BACKINGS[1:]) + " |")
    print("|---" * (2 * len(BACKINGS)) + "|")
    for k, label in (("boot", "boot (exit:0), process start -> exit"),
                     ("first", f"first write to each page of {a.touch_mib} MiB"),
                     ("again", "the same writes again"),
                     ("net", "first - again (mapping cost)")):
        if k == "net":
            vals = {b: statistics.median([f - g for f, g in zip(res[b]["first"],
                                                                res[b]["again"])])
                    for b in res}
        else:
            vals = {b: statistics.median(res[b][k]) for b in res}
        ratios = [vals[b] / vals["anon"] if vals["anon"] > 0 else float("nan")
                  for b in BACKINGS[1:]]
        print(f"| {label} | " + " | ".join(f"{vals[b]:.2f}" for b in BACKINGS) + " | " +
              " | ".join(f"{r:.2f}x" for r in ratios) + " |")

if __name__ == "__main__":
    main()
