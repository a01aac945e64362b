#!/usr/bin/env python3
"""Host CPU per 1 MiB O_DIRECT read under Linux's virtio-blk driver: Linux
under vessel's software CPU against Linux under QEMU's TCG (the same
kernel, initramfs, command line and disk as bench/blk-linux.py), counted
in CPU time rather than guest time because on this loaded 2-core host the
wall clock scatters more than the interpreter's changes.

The guest prints a marker, reads ROUNDS x MIB MiB of /dev/vda with busybox
dd (bs=1M iflag=direct), and prints another; the bench reads the whole
process's CPU time (user + system, all threads: vessel's I/O thread and
QEMU's workers count) from /proc/PID/stat as each marker arrives. The disk
is a fresh sparse image, so the host's reads are of holes: what is left is
the guest's work per request and the VMM's device path. Sides are
interleaved run by run; medians and the ratios to QEMU are printed.
--vessel may be given more than once (e.g. a build before a change), and
may carry environment settings for its side after commas
(`--vessel build/vessel,VESSEL_EMU_JIT=0`: the same build without its
generated code).

usage: bench/blk-linux-cpu.py [--vessel build/vessel[,VAR=VAL...] ...] [--runs 3]
                              [--rounds 8] [--mib 256] [--guest-dir DIR]
"""
import argparse
import importlib.util
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("linux_boot", HERE / "linux-boot.py")
lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lb)

SCRIPT = ("echo blk-cpu: start; i=0; while [ $i -lt {rounds} ]; do dd if=/dev/vda of=/dev/null "
          "bs=1M count={mib} iflag=direct 2>/dev/null||echo blk-cpu: failed; i=$((i+1)); done; "
          "echo blk-cpu: end")


def commands(a, img, vessel):
    argv = ["sh", "-c", SCRIPT.format(rounds=a.rounds, mib=a.mib)]
    if vessel is None:
        g = a.guest_dir
        return [lb.QEMU, "-accel", "tcg", "-cpu", "max", "-M", "q35", "-m", "512", "-nographic",
                "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0x501,iosize=1",
                "-kernel", str(g / "vmlinuz"), "-initrd", str(g / "initramfs.cpio.gz"),
                "-append", lb.kit_cmdline(argv),
                "-drive", f"file={img},format=raw,if=none,id=d0,cache=none,aio=threads",
                "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"], None
    path, *assigns = vessel.split(",")
    extra = dict(kv.split("=", 1) for kv in assigns)
    return ([path, "vm", "run", "--accel", "emu", "--mem", "512M", "--disk",
             f"{img},format=raw,cache=none", "--", *argv], lb.vessel_env("stock", **extra))


def proc_cpu(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(a, img, vessel):
    """CPU milliseconds per 1 MiB request between the guest's markers."""
    cmd, env = commands(a, img, vessel)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    marks, tail = {}, []  # "in": QEMU's first line starts with the BIOS's escapes
    deadline = time.monotonic() + a.timeout
    for raw in p.stdout:
        line = raw.decode(errors="replace")
        tail = (tail + [line])[-5:]
        for m in ("start", "end"):
            if f"blk-cpu: {m}" in line and m not in marks:
                marks[m] = proc_cpu(p.pid)
        if "blk-cpu: failed" in line or time.monotonic() > deadline:
            p.kill()
    p.wait()
    if "start" not in marks or "end" not in marks:
        raise RuntimeError(f"{cmd[0]}: no markers:\n" + "".join(tail))
    return 1000.0 * (marks["end"] - marks["start"]) / (a.rounds * a.mib)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", action="append")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--guest-dir", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get(
                        "VESSEL_GUEST_DIR", pathlib.Path.home() / ".cache/vessel/guest")))
    a = ap.parse_args()
    if not (a.guest_dir / "vmlinuz").exists():
        print(f"SKIP: no guest kit in {a.guest_dir} (make guest)")
        return
    sides = [(v, v) for v in (a.vessel or ["build/vessel"])] + [("qemu tcg q35", None)]
    res = {name: [] for name, _ in sides}
    t0 = time.strftime("%H:%M", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="vessel-blkcpu-", dir="/var/tmp") as d:
        img = os.path.join(d, "disk.raw")
        with open(img, "wb") as f:
            f.truncate((a.mib + 16) << 20)
        for r in range(a.runs):
            for name, vessel in sides:
                ms = run_once(a, img, vessel)
                res[name].append(ms)
                print(f"run {r + 1}: {name:34} {ms:.3f} ms CPU per request", flush=True)
    load = os.getloadavg()[0]
    print(f"\nhost CPU per 1 MiB O_DIRECT read ({a.rounds} x {a.mib} MiB, holes), medians of "
          f"{a.runs} interleaved runs, {time.strftime('%Y-%m-%d')} {t0}-"
          f"{time.strftime('%H:%M', time.gmtime())} UTC, load average {load:.1f}:")
    qemu = statistics.median(res["qemu tcg q35"])
    for name, v in res.items():
        m = statistics.median(v)
        print(f"  {name:34} {m:.3f} ms  ({m / qemu:.2f}x QEMU TCG's CPU)")


if __name__ == "__main__":
    main()
