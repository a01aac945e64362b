#!/usr/bin/env python3
"""Boot to the guest command's exit, Linux under vessel's software CPU
against Linux under QEMU's TCG (issue: Linux on vessel's software CPU).

The same kernel and initramfs on every side: the default guest kit (Debian's
stock kernel, busybox, vessel's init), the same command line (the kit's,
with the command `true` encoded as vessel.cmd=), 512 MiB, one vCPU:
  vessel emu     vessel vm run --accel emu -- true
  qemu microvm   -M microvm with tsc_early_khz=2000000 no_timer_check (TCG
                 needs them there; HOST-FACTS.md)
  qemu q35       -M q35
The guest init reports the command's status on port 0x501: vessel's exit
device, QEMU's isa-debug-exit (status N exits QEMU with (N << 1) | 1).
Sides are interleaved round by round (the machine is noisy); medians and
the ratio to QEMU's best are printed. Also prints vessel's instruction
count and block-cache figures from one extra run (VESSEL_EMU_STATS=1).

usage: bench/linux-boot.py [--vessel build/vessel] [--runs 3] [--guest-dir DIR]
"""
import argparse
import base64
import os
import pathlib
import statistics
import subprocess
import sys
import time

QEMU = "qemu-system-x86_64"
KIT_CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet vessel.tty=0"


def kit_cmdline(argv):
    """The kit's command line with argv encoded as vessel-init reads it
    (guest/init/cmd-encode.h: base64 of the NUL-terminated arguments)."""
    raw = b"".join(a.encode() + b"\0" for a in argv)
    return f"{KIT_CMDLINE} vessel.cmd={base64.b64encode(raw).decode()}"


def sides(a):
    kernel, initrd = a.guest_dir / "vmlinuz", a.guest_dir / "initramfs.cpio.gz"
    cmdline = kit_cmdline(["true"])
    qemu = [QEMU, "-accel", "tcg", "-cpu", "max", "-m", "512", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1",
            "-kernel", str(kernel), "-initrd", str(initrd)]
    return {
        "vessel emu": ([a.vessel, "vm", "run", "--accel", "emu", "--mem", "512M", "--", "true"],
                       0),
        "qemu microvm": (qemu[:1] + ["-M", "microvm"] + qemu[1:] +
                         ["-append", cmdline + " tsc_early_khz=2000000 no_timer_check"], 1),
        "qemu q35": (qemu[:1] + ["-M", "q35"] + qemu[1:] + ["-append", cmdline], 1),
    }


def run_once(cmd, want, timeout, env=None):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=env)
    wall = time.monotonic() - t0
    if p.returncode != want:
        tail = "\n".join((p.stdout + p.stderr).decode(errors="replace").splitlines()[-5:])
        raise RuntimeError(f"{cmd[0]}: exit status {p.returncode}, wanted {want}:\n{tail}")
    return wall, p.stderr.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--guest-dir", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("VESSEL_GUEST_DIR",
                                                        pathlib.Path.home() /
                                                        ".cache/vessel/guest")))
    a = ap.parse_args()
    if not (a.guest_dir / "vmlinuz").exists():
        sys.exit(f"no guest kit in {a.guest_dir}: run `make guest`")
    runs = sides(a)
    times = {k: [] for k in runs}
    for r in range(a.runs):
        for name, (cmd, want) in runs.items():
            wall, _ = run_once(cmd, want, a.timeout)
            times[name].append(wall)
            print(f"round {r + 1}: {name:13s} {wall:6.2f} s", flush=True)
    env = dict(os.environ, VESSEL_EMU_STATS="1")
    _, err = run_once(runs["vessel emu"][0], 0, a.timeout, env)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M %Z')}, load average "
          f"{os.getloadavg()[0]:.1f}, medians of {a.runs} runs, boot to `true`'s exit:")
    med = {k: statistics.median(v) for k, v in times.items()}
    best = min(med["qemu microvm"], med["qemu q35"])
    for name, m in med.items():
        print(f"  {name:13s} {m:6.2f} s  (min {min(times[name]):.2f})")
    print(f"  vessel emu / QEMU TCG's best: {med['vessel emu'] / best:.2f}x")
    for line in err.splitlines():
        if "emu stats" in line:
            print("  " + line.split("vessel: ", 1)[-1])


if __name__ == "__main__":
    main()
