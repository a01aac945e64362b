#!/usr/bin/env python3
"""CPU benchmark: vessel's software CPU (`vessel vm run --accel emu`) vs
QEMU's TCG (`qemu-system-x86_64 -accel tcg`), both running the test guest's
`bench` test (guest/testkernel/test-bench.c) from the same bzImage, runs
interleaved so that machine noise hits both alike.

The guest prints, per loop, the instructions it executed (counted by the
assembler, REP string instructions as one) and the TSC time it took:
    vessel-test: bench: <loop> insns=<N> ns=<T> [bytes=<B>]
From the medians over the runs this prints a markdown table: per loop and in
total, guest instructions per second (and bytes per second for the string
loops), the wall time of the whole VM process, and the ratio vessel/QEMU.

Until vessel runs `--accel emu` for real, the vessel side is reported as
unavailable (with the reason) and QEMU's numbers are printed alone; the exit
status is then 1."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

QEMU = "qemu-system-x86_64"
LINE = re.compile(r"vessel-test: bench: (\w+) insns=(\d+) ns=(\d+)(?: bytes=(\d+))?\s*$")
# KVM-PVM runs guest CPL0 at ~2 MIPS; emu is meant to run it at >= 100.
# A vessel "emu" run below this rate is not emu.
EMU_MIN_MIPS = 20


class RunError(Exception):
    pass


def vessel_cmd(a, test):
    return [a.vessel, "vm", "run", "--accel", "emu", "--kernel", a.bzimage, "--mem", "256M",
            "--append", f"vessel.test={test}"]


def qemu_cmd(a, test):
    # -cpu host needs KVM; "max" is every feature TCG implements.
    return [QEMU, "-accel", "tcg", "-cpu", a.qemu_cpu, "-M", "q35", "-m", "256", "-nographic",
            "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1",
            "-kernel", a.bzimage, "-append", f"vessel.test={test}"]


def run_once(cmd, timeout, qemu, env=None):
    """Runs one VM; returns (wall seconds, stdout, stderr). Raises RunError
    unless the guest reported PASS and exited 0."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        raise RunError(f"timed out after {timeout} s")
    except OSError as e:
        raise RunError(str(e))
    wall = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    # QEMU's isa-debug-exit turns guest status N into (N << 1) | 1.
    ok = p.returncode == 1 if qemu else p.returncode == 0
    if not ok or "vessel-test: result: 1 passed, 0 failed" not in out:
        tail = "\n".join((out + err).strip().splitlines()[-5:])
        raise RunError(f"exit status {p.returncode}:\n{tail}")
    return wall, out, err


def parse(out):
    """{loop: (insns, ns, bytes or None)} in the guest's order; 'total' last."""
    loops = {}
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            loops[m.group(1)] = (int(m.group(2)), int(m.group(3)),
                                 int(m.group(4)) if m.group(4) else None)
    if "total" not in loops:
        raise RunError("no 'vessel-test: bench: total' line")
    return loops


def probe_vessel(a):
    """None if `--accel emu` runs the guest under emu, else why not. KVM's
    vCPU thread announces its first KVM_RUN under VESSEL_TRACE_BOOT."""
    if not os.path.exists(a.vessel):
        return f"{a.vessel} does not exist"
    env = dict(os.environ, VESSEL_TRACE_BOOT="1")
    cmd = vessel_cmd(a, "exit:0")
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                           env=env)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(map(str, cmd))}` did not exit within 60 s"
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        return f"`{' '.join(map(str, cmd))}` exited {p.returncode}: " + \
            (err.strip().splitlines() or ["(no message)"])[-1]
    if "vessel-trace: first-emu-run" not in err:
        return "`--accel emu` did not run the guest on the software CPU (no first-emu-run trace)"
    return None


def collect(a):
    """Interleaved runs. Returns ({side: [(wall, loops)]}, {side: error})."""
    sides = {"qemu tcg": (qemu_cmd(a, a.test), True), "vessel emu": (vessel_cmd(a, a.test), False)}
    results = {s: [] for s in sides}
    errors = {}
    why = probe_vessel(a)
    if why:
        errors["vessel emu"] = why
    for i in range(a.runs):
        for side, (cmd, qemu) in sides.items():
            if side in errors:
                continue
            try:
                wall, out, _ = run_once(cmd, a.timeout, qemu)
                results[side].append((wall, parse(out)))
            except RunError as e:
                errors[side] = f"run {i + 1}: {e}"
            print(f"  run {i + 1}/{a.runs} {side}: " +
                  (f"{results[side][-1][0]:.2f} s" if side not in errors else "failed"),
                  file=sys.stderr, flush=True)
    return results, errors


def medians(runs):
    """{loop: (insns, median ns, bytes)} and the median wall time."""
    out = {}
    for loop, (insns, _, nbytes) in runs[0][1].items():
        out[loop] = (insns, statistics.median(r[1][loop][1] for r in runs), nbytes)
    return out, statistics.median(r[0] for r in runs)


def fmt_rate(insns, ns, nbytes):
    s = f"{insns / ns * 1000:.1f} MIPS"
    if nbytes:
        s += f", {nbytes / ns * 1000:.0f} MB/s"
    return s


def print_table(a, results, errors):
    med = {s: medians(r) for s, r in results.items() if r and s not in errors}
    print(f"emu benchmark: test guest `bench` (scale {a.scale}%), {time.strftime('%Y-%m-%d')}, "
          f"medians of {a.runs} runs; QEMU -accel tcg -cpu {a.qemu_cpu}\n")
    for side, why in errors.items():
        print(f"**{side}: unavailable**: {why}\n")
    if "qemu tcg" not in med:
        return
    loops = med["qemu tcg"][0]
    print("| loop | guest insns | QEMU TCG ms | QEMU TCG rate | vessel emu ms | vessel emu rate "
          "| speed vessel/QEMU |")
    print("|---|---|---|---|---|---|---|")
    for loop, (insns, qns, nbytes) in loops.items():
        row = f"| {loop} | {insns} | {qns / 1e6:.1f} | {fmt_rate(insns, qns, nbytes)} |"
        if "vessel emu" in med:
            vns = med["vessel emu"][0][loop][1]
            row += f" {vns / 1e6:.1f} | {fmt_rate(insns, vns, nbytes)} | {qns / vns:.3f} |"
        else:
            row += " — | — | — |"
        print(row)
    qwall = med["qemu tcg"][1]
    row = f"| wall (process start → exit) | | {qwall * 1000:.0f} | |"
    if "vessel emu" in med:
        vwall = med["vessel emu"][1]
        row += f" {vwall * 1000:.0f} | | {qwall / vwall:.3f} |"
    else:
        row += " — | | — |"
    print(row)
    print("\nrates: guest instructions per second of guest TSC time (REP string instructions "
          "count once; bytes/s for the string loops). speed: vessel rate / QEMU rate, and "
          "QEMU wall / vessel wall; > 1: vessel faster. Target now: total >= 0.1.")
    if "vessel emu" in med:
        t = med["vessel emu"][0]["total"]
        if t[0] / t[1] * 1000 < EMU_MIN_MIPS:
            print(f"\nwarning: vessel ran at {t[0] / t[1] * 1000:.1f} MIPS: that is KVM-PVM's "
                  "CPL0 emulation, not emu")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=int, default=100,
                    help="iteration counts in percent of the guest's defaults (1-1000)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per VM run")
    ap.add_argument("--qemu-cpu", default="max")
    a = ap.parse_args()
    a.test = "bench" if a.scale == 100 else f"bench:{a.scale}"
    if not os.path.exists(a.bzimage):
        print(f"{a.bzimage} is not built (ninja -C build)", file=sys.stderr)
        return 2
    results, errors = collect(a)
    print_table(a, results, errors)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
