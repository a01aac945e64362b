#!/usr/bin/env python3
"""virtio-blk device path (issue 13): the test guest's `virtio-blk-bench`
(guest/testkernel/test-virtio-blk.c: sequential 1 MiB writes then a flush,
sequential 1 MiB reads, 4 KiB random reads, one request in flight, timed
with the guest's TSC) on the same raw image, under `vessel vm run --accel
kvm --disk` and under `qemu-system-x86_64 -accel kvm` with virtio-blk-pci
(modern only; cache=none,aio=threads as the issue asks, and cache=writeback,
which is what vessel does today: buffered I/O through the host page cache),
and vessel on a qcow2 image of the same size (the write pass allocates it, so
the read passes read allocated data).
Runs are interleaved; medians are printed with the ratio vessel/QEMU."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

QEMU = "qemu-system-x86_64"
KEYS = ("seq-write-MBps", "seq-read-MBps", "rand-read-4k-iops")


def vessel_cmd(a, img, fmt="raw"):
    return [a.vessel, "vm", "run", "--accel", "kvm", "--mem", "256M", "--kernel", a.bzimage,
            "--append", f"vessel.test=virtio-blk-bench:{a.mib}", "--disk", f"{img},format={fmt}"]


def qemu_cmd(a, img, cache):
    return [QEMU, "-accel", "kvm", "-M", "q35", "-m", "256", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", a.bzimage,
            "-append", f"vessel.test=virtio-blk-bench:{a.mib}",
            "-drive", f"file={img},format=raw,if=none,id=d0,cache={cache},aio=threads",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]


def run_once(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600)
    m = re.search(r"virtio-blk-bench: MiB=\d+ " + " ".join(f"{k}=(\\d+)" for k in KEYS),
                  p.stdout)
    if not m or "virtio-blk-bench: PASS" not in p.stdout:
        sys.exit(f"blk.py: {cmd[0]} failed:\n" + "\n".join((p.stdout + p.stderr).splitlines()[-5:]))
    return [int(g) for g in m.groups()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--dir", default=None, help="where the image goes (default: /var/tmp)")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not usable")
        return
    with tempfile.TemporaryDirectory(prefix="vessel-blkbench-", dir=a.dir or "/var/tmp") as d:
        img = os.path.join(d, "bench.raw")
        with open(img, "wb") as f:
            f.truncate((a.mib + 16) << 20)
        qimg = os.path.join(d, "bench.qcow2")
        subprocess.run([a.vessel, "img", "create", "-f", "qcow2", qimg, f"{a.mib + 16}M"],
                       check=True, capture_output=True)
        sides = {"vessel kvm": vessel_cmd(a, img),
                 "vessel kvm qcow2": vessel_cmd(a, qimg, "qcow2"),
                 "qemu cache=none": qemu_cmd(a, img, "none"),
                 "qemu cache=writeback": qemu_cmd(a, img, "writeback")}
        res = {s: [] for s in sides}
        for _ in range(a.runs):
            for s, cmd in sides.items():
                res[s].append(run_once(cmd))
    med = {s: [statistics.median(r[i] for r in v) for i in range(len(KEYS))]
           for s, v in res.items()}
    print(f"virtio-blk, test guest under KVM, {a.mib} MiB raw image, one request in flight, "
          f"medians of {a.runs} interleaved runs")
    print(f"{'':22}" + "".join(f"{k:>20}" for k in KEYS))
    for s, m in med.items():
        print(f"{s:22}" + "".join(f"{v:>20.0f}" for v in m))
    print(f"{'vessel qcow2 / raw':22}" +
          "".join(f"{v / w if w else 0:>19.2f}x"
                  for v, w in zip(med["vessel kvm qcow2"], med["vessel kvm"])))
    for q in ("qemu cache=none", "qemu cache=writeback"):
        print(f"{'vessel / ' + q[5:]:22}" +
              "".join(f"{v / w if w else 0:>19.2f}x" for v, w in zip(med["vessel kvm"], med[q])))


if __name__ == "__main__":
    main()
