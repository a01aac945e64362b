#!/usr/bin/env python3
"""Boot benchmark: vessel vs QEMU (-accel kvm, -M microvm and -M q35) with
the same test guest, side by side in one run. For each VMM and run:
process start -> first serial byte, process start -> exit; for vessel also
exec -> first KVM_RUN (VESSEL_TRACE_BOOT); and the resident memory of a
running VM (test 'hang'). Prints a markdown table of medians and ratios."""
import argparse
import os
import select
import signal
import statistics
import subprocess
import sys
import time

QEMU = "qemu-system-x86_64"


def vessel_cmd(vessel, bz, test):
    return [vessel, "vm", "run", "--accel", "kvm", "--kernel", bz, "--mem", "512M", "--append",
            f"vessel.test={test}"]


def qemu_cmd(machine, elf, test):
    # -cpu host aborts in QEMU 7.2 on this host's KVM-PVM (MSR assertion), so
    # QEMU runs its default CPU model; both boot the same guest code.
    return [QEMU, "-accel", "kvm", "-M", machine, "-m", "512", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-kernel", elf, "-append",
            f"vessel.test={test}", "-device", "isa-debug-exit,iobase=0x501,iosize=1"]


def timed_run(cmd, env=None):
    """Returns (first_byte_s, exit_s, first_kvm_run_s or None)."""
    t0 = time.monotonic_ns()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    first = None
    out = p.stdout.fileno()
    while True:
        r, _, _ = select.select([out], [], [], 30)
        if not r:
            p.kill()
            raise RuntimeError(f"timeout: {cmd}")
        chunk = os.read(out, 65536)
        if chunk and first is None:
            first = time.monotonic_ns()
        if not chunk:
            break
    p.wait()
    t_exit = time.monotonic_ns()
    err = p.stderr.read().decode(errors="replace")
    kvm_run = None
    for line in err.splitlines():
        if line.startswith("vessel-trace: first-kvm-run "):
            kvm_run = (int(line.split()[-1]) - t0) / 1e9
    if first is None:
        raise RuntimeError(f"no serial output from {cmd}: {err}")
    return (first - t0) / 1e9, (t_exit - t0) / 1e9, kvm_run


def rss_of_running(cmd):
    """Starts the guest with the 'hang' test, waits until it halts, reads
    /proc/PID/status, stops it. Returns a dict of kB values."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    deadline = time.time() + 30
    try:
        while b"hang: halting" not in buf and time.time() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                buf += os.read(p.stdout.fileno(), 65536)
        time.sleep(0.2)
        vals = {}
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    vals[k] = int(v.split()[0])
        return vals
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--bzimage", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--q35-runs", type=int, default=3,
                    help="q35 boots through SeaBIOS, emulated at ~2 MIPS here")
    a = ap.parse_args()
    env = dict(os.environ, VESSEL_TRACE_BOOT="1")
    vmms = [("vessel", vessel_cmd(a.vessel, a.bzimage, "exit:0"), a.runs, env),
            ("qemu microvm", qemu_cmd("microvm", a.elf, "exit:0"), a.runs, None),
            ("qemu q35", qemu_cmd("q35", a.elf, "exit:0"), a.q35_runs, None)]
    results = {}
    # Interleave the runs so that machine noise hits every VMM alike.
    for i in range(max(v[2] for v in vmms)):
        for name, cmd, runs, e in vmms:
            if i < runs:
                results.setdefault(name, []).append(timed_run(cmd, e))
    rss = {"vessel": rss_of_running(vessel_cmd(a.vessel, a.bzimage, "hang")),
           "qemu microvm": rss_of_running(qemu_cmd("microvm", a.elf, "hang"))}
    best_first = min(med([r[0] for r in results[n]]) for n in results if n != "vessel")
    best_exit = min(med([r[1] for r in results[n]]) for n in results if n != "vessel")
    print(f"boot benchmark, {time.strftime('%Y-%m-%d')}, medians "
          f"({a.runs} runs; q35 {a.q35_runs})\n")
    print("| VMM | start → first serial byte | start → exit | exec → first KVM_RUN | RSS (kB) |")
    print("|---|---|---|---|---|")
    for name, rs in results.items():
        kr = [r[2] for r in rs if r[2] is not None]
        r = rss.get(name)
        rss_s = "—"
        if r:
            rss_s = f"{r['VmRSS']} total, {r['RssAnon'] + r['RssFile']} beyond guest RAM" \
                if name == "vessel" else f"{r['VmRSS']} total"
        print(f"| {name} | {med([x[0] for x in rs]) * 1000:.1f} ms | "
              f"{med([x[1] for x in rs]) * 1000:.1f} ms | "
              f"{med(kr) * 1000:.2f} ms |" if kr else
              f"| {name} | {med([x[0] for x in rs]) * 1000:.1f} ms | "
              f"{med([x[1] for x in rs]) * 1000:.1f} ms | — |", end="")
        print(f" {rss_s} |")
    v = results["vessel"]
    print(f"\nratio vessel / best QEMU: first byte {med([x[0] for x in v]) / best_first:.3f}, "
          f"exit {med([x[1] for x in v]) / best_exit:.3f} (target <= 0.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
