#!/usr/bin/env python3
"""virtio-net frames per second guest -> host (bench/net.sh, part 3): the test
guest's virtio-net-bench (60-byte frames, the TX ring kept full, a kick only
when the device asks for one) under `vessel vm run --accel kvm --net tap=T`
and under `qemu-system-x86_64 -accel kvm` with virtio-net-pci (modern only,
vhost off: /dev/vhost-net does not exist here) on the same tap, in a network
namespace made here (vessel-bench-vm-<pid>, deleted at exit); interleaved
runs, medians, the ratio. Each run is also checked on the host side: the
tap's rx_packets grows by exactly the frames the guest sent.
Usage: bench/net-vm.py [--vessel build/vessel] [--bzimage ...] [--runs N] [--frames N]"""
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


def vessel_cmd(a, tap):
    return [a.vessel, "vm", "run", "--accel", "kvm", "--mem", "256M", "--kernel", a.bzimage,
            "--append", f"vessel.test=virtio-net-bench:{a.frames}", "--net", f"tap={tap}"]


def qemu_cmd(a, tap):
    return [QEMU, "-accel", "kvm", "-M", "q35", "-m", "256", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", a.bzimage,
            "-append", f"vessel.test=virtio-net-bench:{a.frames}",
            "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no,vhost=off",
            "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]


def rx_packets(ns, tap):
    return int(sh("ip", "netns", "exec", ns, "cat",
                  f"/sys/class/net/{tap}/statistics/rx_packets").stdout)


def run_once(a, ns, tap, cmd):
    before = rx_packets(ns, tap)
    p = subprocess.run(["ip", "netns", "exec", ns] + cmd, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=900)
    m = re.search(r"virtio-net-bench: frames=(\d+) frames-per-s=(\d+)", p.stdout)
    if not m or "virtio-net-bench: PASS" not in p.stdout:
        sys.exit(f"net-vm.py: {cmd[0]} failed:\n" +
                 "\n".join((p.stdout + p.stderr).splitlines()[-5:]))
    got = rx_packets(ns, tap) - before
    if got != a.frames:
        sys.exit(f"net-vm.py: {cmd[0]}: the guest sent {a.frames} frames, the tap got {got}")
    return int(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=100000)
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
        sides = {"vessel kvm": vessel_cmd(a, tap), "qemu kvm": qemu_cmd(a, tap)}
        res = {s: [] for s in sides}
        for r in range(a.runs):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for s in order:
                res[s].append(run_once(a, ns, tap, sides[s]))
    finally:
        sh("ip", "netns", "del", ns, check=False)
    for s, v in res.items():
        print(f"runs ({s}, frames/s): {' '.join(map(str, v))}")
    med = {s: statistics.median(v) for s, v in res.items()}
    print(f"virtio-net guest->host, test guest under KVM, {a.frames} 60-byte frames per run, "
          f"medians of {a.runs} interleaved runs")
    for s, m in med.items():
        print(f"{s:22}{m:>14.0f} frames/s")
    print(f"ratio vessel/qemu: {med['vessel kvm'] / med['qemu kvm']:.2f}x")


if __name__ == "__main__":
    main()
