#!/usr/bin/env python3
"""virtio-blk device path (issue 13): the test guest's `virtio-blk-bench-user`
(guest/testkernel/test-virtio-blk.c: sequential 1 MiB writes then a flush,
sequential 1 MiB reads, 4 KiB random reads with one request in flight and
with 16 in flight, timed with the guest's TSC; the requests are submitted
and the used ring polled at CPL3, which KVM-PVM runs natively, so that the
device path is timed rather than KVM-PVM's emulator running a CPL0 loop at
~2 MIPS; --cpl0 runs the CPL0 loop, `virtio-blk-bench`, instead; the same
guest test on every side) on the same raw image, under
`vessel vm run --accel kvm --disk` (cache=writeback, the default, and
cache=none, each with its default engine, io_uring here, and cache=none
with aio=threads) and under `qemu-system-x86_64 -accel kvm` with
virtio-blk-pci (modern only; cache=none with aio=threads as the issue asks
and with aio=io_uring, and cache=writeback,aio=threads), vessel on a qcow2
image of the same size, and the host reading the raw image with O_DIRECT in
1 MiB requests. The qcow2 image is created with preallocation=metadata (every
cluster allocated, in order) and both images are written once by a
warm-up run of the guest's write pass before the timed rounds, so every
pass, the write pass too, goes to allocated and written data, as issue
13's qcow2/raw target says: on a fresh qcow2 image the first round's
writes would allocate clusters, on a sparse raw file (or a preallocated
one, whose extents are unwritten) they would allocate or convert host
blocks. A VM with a cache=none disk has its RAM on transparent huge
pages (as QEMU's); "4K RAM" runs vessel's cache=none with 4 KiB pages
(VESSEL_MEM_BACKING=anon) to show what that is worth (docs/virtio.md).
Runs are interleaved (every other round in reverse order); medians are
printed, and the ratios are medians of the per-round ratios (the sides of
one round share the machine's load). "A/B" runs one VM with the raw image
as vda and the qcow2 one as vdb, the guest's virtio-blk-ab alternating
between them every 32 MiB or 1000 requests: the qcow2/raw ratio of two
disks that saw the load of the same seconds, on a host where two runs a
minute apart differ by 2x (virtio-blk-ab-user, or virtio-blk-ab with
--cpl0). --only NAME,... runs some sides only (repeatable; a side's whole
name, commas and all, is taken as it is).

Steadier ratios on a loaded host: the sides that are compared run next to
each other in every round (vessel cache=none next to QEMU's, each qcow2 side
next to its raw twin), every other round in reverse (ABBA), the random
passes are short (--rand, 5000 requests by default, about a second), and
the ratios printed are medians of the per-round ratios with their
interquartile range; --passes runs some of the guest's passes only (w r k
q: write, read, 4 KiB, 4 KiB x16; the CPL3 loops only)."""
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
            "--append", f"vessel.test={a.test}:{a.targ}",
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


def qemu_cmd(a, img, cache, aio="threads", fmt="raw"):
    return [QEMU, "-accel", "kvm", "-M", "q35", "-m", "256", "-nographic", "-nodefaults",
            "-no-user-config", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", a.bzimage,
            "-append", f"vessel.test={a.test}:{a.targ}",
            "-drive", f"file={img},format={fmt},if=none,id=d0,cache={cache},aio={aio}",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]


def ab_cmd(a, img, qimg, cache):
    """One VM with the raw image as vda and the qcow2 one as vdb, running
    the guest's virtio-blk-ab (the passes alternate between the disks)."""
    cmd = vessel_cmd(a, img, "raw", cache)
    cmd[cmd.index("--append") + 1] = f"vessel.test={a.test_ab}:{a.targ}"
    return cmd + ["--disk", f"{qimg},format=qcow2,cache={cache}"]


def run_once(cmd, test, env=None, disks=("",)):
    """The figures the guest printed, one list per disk."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=600, env=env)
    ms = [re.search(f"{test}: {d}MiB=\\d+ " + " ".join(f"{k}=(\\d+)" for k in KEYS), p.stdout)
          for d in disks]
    if not all(ms) or f"{test}: PASS" not in p.stdout:
        sys.exit(f"blk.py: {cmd[0]} failed:\n" + "\n".join((p.stdout + p.stderr).splitlines()[-5:]))
    return [[int(g) for g in m.groups()] for m in ms]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--bzimage", default="build/guest/testkernel.bzImage")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--dir", default=None, help="where the image goes (default: /var/tmp)")
    ap.add_argument("--cpl0", action="store_true",
                    help="the guest's CPL0 loop (virtio-blk-bench, virtio-blk-ab): under "
                    "KVM-PVM it times the instruction emulator")
    ap.add_argument("--rand", type=int, default=5000,
                    help="4 KiB random reads per random pass (CPL3 loops; --cpl0: 20000)")
    ap.add_argument("--passes", default="wrkq",
                    help="the guest's passes to run, of w r k q (CPL3 loops only)")
    ap.add_argument("--only", action="append", default=None,
                    help="comma-separated sides to run (default: all), e.g. "
                    "'vessel cache=none,vessel qcow2 none'; repeatable, and a value that "
                    "is one side's whole name (e.g. 'vessel none, 4K RAM') is not split")
    a = ap.parse_args()
    a.test, a.test_ab = (("virtio-blk-bench", "virtio-blk-ab") if a.cpl0 else
                         ("virtio-blk-bench-user", "virtio-blk-ab-user"))
    if a.cpl0:
        a.targ, warm = str(a.mib), str(a.mib)
    else:
        if not a.passes or set(a.passes) - set("wrkq") or a.rand < 16:
            sys.exit("blk.py: --passes takes letters of w r k q, --rand at least 16")
        a.targ, warm = f"{a.mib}/{a.passes}/{a.rand}", f"{a.mib}/w"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is not usable")
        return
    with tempfile.TemporaryDirectory(prefix="vessel-blkbench-", dir=a.dir or "/var/tmp") as d:
        img = os.path.join(d, "bench.raw")
        qimg = os.path.join(d, "bench.qcow2")
        with open(img, "wb") as f:
            f.truncate((a.mib + 16) << 20)
        subprocess.run([a.vessel, "img", "create", "-f", "qcow2", "-o", "preallocation=metadata",
                        qimg, f"{a.mib + 16}M"], check=True, capture_output=True)
        for path, fmt in ((img, "raw"), (qimg, "qcow2")):  # the warm-up write pass
            cmd = vessel_cmd(a, path, fmt, "none")
            cmd[cmd.index("--append") + 1] = f"vessel.test={a.test}:{warm}"
            run_once(cmd, a.test)
        ab = dict(disks=("vda ", "vdb "))
        small = dict(os.environ, VESSEL_MEM_BACKING="anon")
        ring_writes = dict(os.environ, VESSEL_AIO_URING_WRITES="1")
        # side: (the names of its results, vm command, run_once's keywords);
        # the sides compared most run next to each other (their ratio is per
        # round): vessel and QEMU at cache=none, vessel's qcow2 and raw and
        # vessel's ring-writes side, vessel and QEMU at writeback
        sides = {"qemu qcow2 none": (("qemu qcow2 none",),
                                     qemu_cmd(a, qimg, "none", fmt="qcow2"), {}),
                 "vessel qcow2 none": (("vessel qcow2 none",),
                                       vessel_cmd(a, qimg, "qcow2", "none"), {}),
                 "vessel cache=none": (("vessel cache=none",), vessel_cmd(a, img, cache="none"),
                                       {}),
                 "qemu cache=none": (("qemu cache=none",), qemu_cmd(a, img, "none"), {}),
                 "vessel none ring-writes": (("vessel none ring-writes",),
                                              vessel_cmd(a, img, cache="none"),
                                              dict(env=ring_writes)),
                 "vessel none threads": (("vessel none threads",),
                                         vessel_cmd(a, img, cache="none", aio="threads"), {}),
                 "qemu none io_uring": (("qemu none io_uring",),
                                        qemu_cmd(a, img, "none", "io_uring"), {}),
                 "vessel none, 4K RAM": (("vessel none, 4K RAM",),
                                         vessel_cmd(a, img, cache="none"), dict(env=small)),
                 "A/B none": (("A/B raw none", "A/B qcow2 none"), ab_cmd(a, img, qimg, "none"),
                              ab),
                 "A/B writeback": (("A/B raw wb", "A/B qcow2 wb"),
                                   ab_cmd(a, img, qimg, "writeback"), ab),
                 "qemu cache=writeback": (("qemu cache=writeback",),
                                          qemu_cmd(a, img, "writeback"), {}),
                 "vessel": (("vessel",), vessel_cmd(a, img), {}),
                 "vessel qcow2": (("vessel qcow2",), vessel_cmd(a, qimg, "qcow2"), {})}
        if a.only:
            want = [w for v in a.only for w in ([v] if v in sides else v.split(","))]
            if not set(want) <= set(sides):
                sys.exit("blk.py: --only: no side named " + "; ".join(
                    repr(w) for w in want if w not in sides) + "; the sides are " +
                    "; ".join(repr(s) for s in sides))
            sides = {s: c for s, c in sides.items() if s in want}
        res = {n: [] for names, _, _ in sides.values() for n in names}
        host = []
        for rnd in range(a.runs):
            # every other round in reverse: a side's neighbours share its load
            for names, cmd, kw in (reversed if rnd % 2 else iter)(list(sides.values())):
                for n, v in zip(names, run_once(cmd, a.test_ab if "disks" in kw else a.test,
                                                **kw)):
                    res[n].append(v)
                    print(f"round {rnd + 1} {n:24}" + "".join(f"{x:>10}" for x in v),
                          file=sys.stderr, flush=True)
            host.append(host_direct_read(img, a.mib))
    med = {s: [statistics.median(r[i] for r in v) for i in range(len(KEYS))]
           for s, v in res.items()}
    hmed = statistics.median(host)
    print(f"virtio-blk, test guest under KVM ({a.test}:{a.targ}: requests from CPL"
          f"{0 if a.cpl0 else 3}), {a.mib} MiB image, medians of {a.runs} interleaved runs;"
          " ratios: median of the per-round ratios (interquartile range)")
    print(f"{'':24}" + "".join(f"{k:>24}" for k in KEYS))
    for s, m in med.items():
        print(f"{s:24}" + "".join(f"{v:>24.0f}" for v in m))
    print(f"{'host O_DIRECT read':24}{'':>24}{hmed:>24.0f}")

    def ratio(name, x, y):
        """The median of the per-round ratios: each round runs the sides
        back to back, so a pair shares the machine's load of the moment
        (on a shared host it drifts by 2x over a run)."""
        if x not in res or y not in res:
            return
        cells = []
        for i in range(len(KEYS)):
            r = [p[i] / q[i] for p, q in zip(res[x], res[y]) if q[i]]
            if not r:
                cells.append(f"{'-':>24}")
                continue
            q1, _, q3 = (statistics.quantiles(r, n=4, method="inclusive") if len(r) > 1
                          else (r[0], 0, r[0]))
            cells.append(f"{statistics.median(r):.2f}x ({q1:.2f}-{q3:.2f})".rjust(24))
        print(f"{name:24}" + "".join(cells))
    ratio("qcow2 / raw", "vessel qcow2", "vessel")
    ratio("qcow2 / raw, none", "vessel qcow2 none", "vessel cache=none")
    ratio("  qemu qcow2 / raw, none", "qemu qcow2 none", "qemu cache=none")
    ratio("qcow2 / raw, none, A/B", "A/B qcow2 none", "A/B raw none")
    ratio("qcow2 / raw, wb, A/B", "A/B qcow2 wb", "A/B raw wb")
    ratio("vessel none / qemu none", "vessel cache=none", "qemu cache=none")
    ratio("  threads / qemu threads", "vessel none threads", "qemu cache=none")
    ratio("  / qemu io_uring", "vessel cache=none", "qemu none io_uring")
    ratio("  4K RAM / qemu none", "vessel none, 4K RAM", "qemu cache=none")
    ratio("  ring writes / qemu", "vessel none ring-writes", "qemu cache=none")
    ratio("vessel wb / qemu wb", "vessel", "qemu cache=writeback")
    for s in ("vessel cache=none", "vessel none, 4K RAM", "qemu cache=none"):
        if s not in res or not any(v[1] for v in res[s]):
            continue
        r = statistics.median(v[1] / h for v, h in zip(res[s], host))
        print(f"{'seq read / host O_DIRECT':24}{s:>24}{r:>23.2f}x")


if __name__ == "__main__":
    main()
