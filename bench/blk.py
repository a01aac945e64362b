#!/usr/bin/env python3
"""virtio-blk device path (issue 13): the test guest's `virtio-blk-bench`
(guest/testkernel/test-virtio-blk.c: sequential 1 MiB writes then a flush,
sequential 1 MiB reads, 4 KiB random reads with one request in flight and
with 16 in flight, timed with the guest's TSC) on the same raw image, under
`vessel vm run --accel kvm --disk` (cache=writeback, the default, and
cache=none, each with its default engine, io_uring here, and cache=none
with aio=threads) and under `qemu-system-x86_64 -accel kvm` with
virtio-blk-pci (modern only; cache=none with aio=threads as the issue asks
and with aio=io_uring, and cache=writeback,aio=threads), vessel on a qcow2
image of the same size (the write pass allocates it, so the read passes
read allocated data), and the host reading the raw image with O_DIRECT in
1 MiB requests. A VM with a cache=none disk has its RAM on transparent huge
pages (as QEMU's); "4K RAM" runs vessel's cache=none with 4 KiB pages
(VESSEL_MEM_BACKING=anon) to show what that is worth (docs/virtio.md).
Runs are interleaved; medians are printed, and the ratios are medians of
the per-round ratios (the sides of one round share the machine's load)."""
import argparse
import mmap
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

QEMU = "qemu-system-x86_64"
KEYS = ("seq-write-MBps", "seq-read-MBps", "rand-read-4k-iops", "rand-read-4k-qd16-iops")


def vessel_cmd(a, img, fmt="raw", cache="writeback", aio=None):
    return [a.vessel, "vm", "run", "--accel", "kvm", "--mem", "256M", "--kernel", a.bzimage,
            "--append", f"vessel.test=virtio-blk-bench:{a.mib}",
            "--disk", f"{img},format={fmt},cache={cache}" + (f",aio={aio}" if aio else "")]


def host_direct_read(img, mib):
    """MB/s of the host reading the first mib MiB of img with O_DIRECT,
    1 MiB per request."""
    buf = mmap.mmap(-1, 1 << 20)  # page-aligned, as O_DIRECT wants
    fd = os.open(img, os.O_RDONLY | os.O_DIRECT)
    try:
        t0 = time.perf_counter()
        for off in range(0, mib << 20, 1 << 20):
            if os.preadv(fd, [buf], off) != 1 << 20:
                sys.exit("blk.py: short O_DIRECT read")
        return (mib << 20) / (time.perf_counter() - t0) / 1e6
    finally:
        os.close(fd)


def qemu_cmd(a, img, cache, aio="threads"):
    return [QEMU, "-accel", "kvm", "-M", "q35", "-m", "256", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", a.bzimage,
            "-append", f"vessel.test=virtio-blk-bench:{a.mib}",
            "-drive", f"file={img},format=raw,if=none,id=d0,cache={cache},aio={aio}",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]


def run_once(cmd, env=None):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600, env=env)
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
        small = dict(os.environ, VESSEL_MEM_BACKING="anon")
        sides = {"vessel": vessel_cmd(a, img),
                 "vessel cache=none": vessel_cmd(a, img, cache="none"),
                 "vessel none threads": vessel_cmd(a, img, cache="none", aio="threads"),
                 "vessel none, 4K RAM": (vessel_cmd(a, img, cache="none"), small),
                 "vessel qcow2": vessel_cmd(a, qimg, "qcow2"),
                 "vessel qcow2 none": vessel_cmd(a, qimg, "qcow2", "none"),
                 "qemu cache=none": qemu_cmd(a, img, "none"),
                 "qemu none io_uring": qemu_cmd(a, img, "none", "io_uring"),
                 "qemu cache=writeback": qemu_cmd(a, img, "writeback")}
        res = {s: [] for s in sides}
        host = []
        for _ in range(a.runs):
            for s, cmd in sides.items():
                res[s].append(run_once(*cmd) if isinstance(cmd, tuple) else run_once(cmd))
            host.append(host_direct_read(img, a.mib))
    med = {s: [statistics.median(r[i] for r in v) for i in range(len(KEYS))]
           for s, v in res.items()}
    hmed = statistics.median(host)
    print(f"virtio-blk, test guest under KVM, {a.mib} MiB image, "
          f"medians of {a.runs} interleaved runs")
    print(f"{'':24}" + "".join(f"{k:>24}" for k in KEYS))
    for s, m in med.items():
        print(f"{s:24}" + "".join(f"{v:>24.0f}" for v in m))
    print(f"{'host O_DIRECT read':24}{'':>24}{hmed:>24.0f}")

    def ratio(name, x, y):
        """The median of the per-round ratios: each round runs the sides
        back to back, so a pair shares the machine's load of the moment
        (on a shared host it drifts by 2x over a run)."""
        print(f"{name:24}" + "".join(
            f"{statistics.median(p[i] / q[i] if q[i] else 0 for p, q in zip(res[x], res[y])):>23.2f}x"
            for i in range(len(KEYS))))
    ratio("qcow2 / raw", "vessel qcow2", "vessel")
    ratio("qcow2 / raw, none", "vessel qcow2 none", "vessel cache=none")
    ratio("vessel none / qemu none", "vessel cache=none", "qemu cache=none")
    ratio("  threads / qemu threads", "vessel none threads", "qemu cache=none")
    ratio("  / qemu io_uring", "vessel cache=none", "qemu none io_uring")
    ratio("  4K RAM / qemu none", "vessel none, 4K RAM", "qemu cache=none")
    ratio("vessel wb / qemu wb", "vessel", "qemu cache=writeback")
    for s in ("vessel cache=none", "vessel none, 4K RAM", "qemu cache=none"):
        r = statistics.median(v[1] / h for v, h in zip(res[s], host))
        print(f"{'seq read / host O_DIRECT':24}{s:>24}{r:>23.2f}x")


if __name__ == "__main__":
    main()
