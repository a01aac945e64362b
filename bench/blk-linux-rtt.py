#!/usr/bin/env python3
"""The virtio-blk round trip of Linux under vessel emu, from the host's
scheduler (docs/virtio.md, "The device round trip under emu, traced").

A VM (the kit's stock kernel, --accel emu, a raw cache=none disk) writes
128 MiB with dd O_DIRECT, then reads it back in 1 MiB requests over and
over; once the reads run, `perf sched record` takes SECONDS of the whole
host, and `perf sched timehist -w` gives, for vessel's threads:

  I/O thread sched delay  from a wakeup of the device's I/O thread (the
                          vCPU's ioeventfd write, a completion) to its running
  kick -> completion      from the vCPU's ioeventfd write to the host's
                          completion waking the I/O thread (the host's read
                          plus vessel's submission)
  completion -> vCPU      from that wakeup to the I/O thread waking the vCPU
                          (used ring, MSI, emu's HLT condition variable)
  vCPU sched delay        from the vCPU's wakeup to its running

plus the threads the I/O thread wakes outside vessel (io_uring's workers
when operations go through io-wq). Medians and 90th percentiles. Needs
perf and the right to record scheduler events (root).

usage: bench/blk-linux-rtt.py [--vessel build/vessel] [--seconds 2]
"""
import argparse
import collections
import os
import pathlib
import re
import statistics
import subprocess
import tempfile
import time

SCRIPT = ("dd if=/dev/zero of=/dev/vda bs=1M count=128 oflag=direct; echo READS; "
          "for i in 1 2 3 4 5 6 7 8; do dd if=/dev/vda of=/dev/null bs=1M count=128 "
          "iflag=direct; done")
LINE = re.compile(r"\s*([\d.]+)\s+\[\d+\]\s+(.*?)\[(\d+)(?:/(\d+))?\]\s+(.*)$")
WOKE = re.compile(r"awakened: .*?\[(\d+)(?:/\d+)?\]")


def record(a, d):
    img, data, con = d / "disk.raw", d / "perf.data", d / "console"
    with open(img, "wb") as f:
        f.truncate(144 << 20)
    env = dict(os.environ, VESSEL_GUEST_KERNEL="stock")
    cmd = [a.vessel, "vm", "run", "--accel", "emu", "--mem", "512M", "--disk",
           f"{img},format=raw,cache=none", "--", "sh", "-c", SCRIPT]
    with open(con, "wb") as out:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
    try:
        for _ in range(600):
            if b"READS" in con.read_bytes() or p.poll() is not None:
                break
            time.sleep(0.2)
        time.sleep(0.5)
        subprocess.run(["perf", "sched", "record", "-o", str(data), "--", "sleep",
                        str(a.seconds)], check=True, capture_output=True)
    finally:
        p.kill()
        p.wait()
    return p.pid, subprocess.run(["perf", "sched", "timehist", "-w", "-i", str(data)],
                                 capture_output=True, text=True, check=True).stdout


def parse(text, pid):
    runs, wakes, mine = collections.defaultdict(list), [], set()
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t, tid, rest = float(m.group(1)), int(m.group(3)), m.group(5)
        if int(m.group(4) or tid) == pid and not m.group(2).startswith("iou-"):
            mine.add(tid)
        w = WOKE.search(rest)
        if w:
            wakes.append((t, tid, int(w.group(1))))
        elif len(rest.split()) >= 3:
            runs[tid].append([float(x) for x in rest.split()[:3]])
    return runs, wakes, mine


def pct(xs, q):
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * q))]


def show(name, xs, unit=1e6):
    if xs:
        print(f"{name:22} median {statistics.median(xs) * unit:8.0f} us   "
              f"p90 {pct(xs, 0.9) * unit:8.0f} us   n={len(xs)}")


def analyse(text, pid):
    runs, wakes, mine = parse(text, pid)
    vcpu = max(mine, key=lambda t: sum(r[2] for r in runs.get(t, [])))
    wakers = collections.Counter(k for _, k, w in wakes if w == vcpu and k in mine - {vcpu})
    io = wakers.most_common(1)[0][0]
    kicks = [t for t, k, w in wakes if k == vcpu and w == io]
    comps = [t for t, k, w in wakes if k == io and w == vcpu]
    host = [t for t, k, w in wakes if w == io and k not in mine]
    a, b = [], []
    for t in kicks:
        c = next((x for x in comps if x > t), None)
        h = next((x for x in host if x > t), None)
        if c is not None and h is not None and h < c and c - t < 0.05:
            a.append(h - t)
            b.append(c - h)
    show("I/O thread sched delay", [r[1] / 1e3 for r in runs[io]])
    show("kick -> completion", a)
    show("completion -> vCPU", b)
    show("vCPU sched delay", [r[1] / 1e3 for r in runs[vcpu]])
    others = collections.Counter(w for _, k, w in wakes if k == io and w not in mine)
    print(f"I/O thread's wakeups of threads outside vessel (io-wq workers): "
          f"{sum(others.values())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vessel", default="build/vessel")
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    os.chdir(pathlib.Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="vessel-blkrtt-", dir="/var/tmp") as d:
        pid, text = record(a, pathlib.Path(d))
    analyse(text, pid)


if __name__ == "__main__":
    main()
