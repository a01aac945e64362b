#!/usr/bin/env python3
"""virtio-net frames per second guest -> host (bench/net.sh, part 3): the test
guest's virtio-net-bench-user (60-byte frames, the TX ring kept full, a kick
only when the device asks for one, the producer loop at CPL3) under `vessel
vm run --accel kvm --net tap=T` and under `qemu-system-x86_64 -accel kvm`
with virtio-net-pci (modern only, vhost off: /dev/vhost-net does not exist
here) on the same tap, in a network namespace made here
(vessel-bench-vm-<pid>, deleted at exit); interleaved runs, medians, the
ratio. Each run is also checked on the host side: the tap's rx_packets grows
by exactly the frames the guest sent. The CPL3 producer runs twice: with
notification suppression by used->flags (NO_NOTIFY), and with
VIRTIO_F_EVENT_IDX negotiated (a kick when avail->idx passes the device's
avail_event, as Linux's driver does); --no-event-idx skips the second.

Where KVM runs guest CPL3 natively but emulates CPL0 (KVM-PVM, our build
machines), the CPL0 loop (virtio-net-bench) times KVM's instruction emulator
rather than the device; it is run too, with --cpl0-frames frames (0: not at
all), and reported apart.
Usage: bench/net-vm.py [--vessel build/vessel] [--bzimage ...] [--runs N] [--frames N]
                       [--cpl0-frames N] [--no-event-idx]"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

QEMU = "qemu-system-x86_64"


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def vessel_cmd(a, tap, test):
    return [a.vessel, "vm", "run", "--accel", "kvm", "--mem", "256M", "--kernel", a.bzimage,
            "--append", f"vessel.test={test}", "--net", f"tap={tap}"]


def qemu_cmd(a, tap, test):
    return [QEMU, "-accel", "kvm", "-M", "q35", "-m", "256", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", a.bzimage,
            "-append", f"vessel.test={test}",
            "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no,vhost=off",
            "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]


def rx_packets(ns, tap):
    return int(sh("ip", "netns", "exec", ns, "cat",
                  f"/sys/class/net/{tap}/statistics/rx_packets").stdout)


def run_once(ns, tap, cmd, test, frames):
    """One boot; returns the guest's frames/s after checking the tap's count."""
    before = rx_packets(ns, tap)
    p = subprocess.run(["ip", "netns", "exec", ns] + cmd, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=900)
    m = re.search(rf"^{test}: frames=(\d+) frames-per-s=(\d+)", p.stdout, re.M)
    if not m or f"{test}: PASS" not in p.stdout:
        sys.exit(f"net-vm.py: {cmd[0]} failed:\n" +
                 "\n".join((p.stdout + p.stderr).splitlines()[-5:]))
    got = rx_packets(ns, tap) - before
    if got != frames:
        sys.exit(f"net-vm.py: {cmd[0]}: the guest sent {frames} frames, the tap got {got}")
    return int(m.group(2))


def measure(a, ns, tap, test, frames, opt=""):
    """Interleaved runs of `test:frames[opt]` under both VMMs: {side: [frames/s]}."""
    arg = f"{test}:{frames}{opt}"
    sides = {"vessel kvm": vessel_cmd(a, tap, arg), "qemu kvm": qemu_cmd(a, tap, arg)}
    res = {s: [] for s in sides}
    for r in range(a.runs):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for s in order:
            res[s].append(run_once(ns, tap, sides[s], test, frames))
    return res


def report(a, res, what, frames):
    for s, v in res.items():
        print(f"runs ({s}, {what}, frames/s): {' '.join(map(str, v))}")
    med = {s: statistics.median(v) for s, v in res.items()}
    print(f"virtio-net guest->host, test guest under KVM, {what}, {frames} 60-byte frames "
          f"per run, medians of {a.runs} interleaved runs")
    for s, m in med.items():
        print(f"{s:22}{m:>14.0f} frames/s")
    print(f"ratio vessel/qemu ({what}): {med['vessel kvm'] / med['qemu kvm']:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=200000)
    ap.add_argument("--cpl0-frames", type=int, default=10000)
    ap.add_argument("--no-event-idx", action="store_true")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not usable")
        return
    if not shutil.which(QEMU):
        print(f"SKIP: {QEMU} is not installed")
        return
    ns, tap = f"vessel-bench-vm-{os.getpid()}", "vessel-bt0"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap")
        sh("ip", "-n", ns, "link", "set", tap, "up")
        user = measure(a, ns, tap, "virtio-net-bench-user", a.frames)
        ei = None if a.no_event_idx else measure(a, ns, tap, "virtio-net-bench-user", a.frames,
                                                 ":event-idx")
        cpl0 = measure(a, ns, tap, "virtio-net-bench", a.cpl0_frames) if a.cpl0_frames else None
    finally:
        sh("ip", "netns", "del", ns, check=False)
    report(a, user, "producer at CPL3", a.frames)
    if ei:
        report(a, ei, "producer at CPL3, EVENT_IDX", a.frames)
    if cpl0:
        report(a, cpl0, "producer at CPL0", a.cpl0_frames)


if __name__ == "__main__":
    main()
