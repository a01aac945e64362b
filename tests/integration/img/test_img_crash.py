"""SIGKILL a writer at random moments: qemu-img check never finds corruption
(leaks are allowed and `vessel img check -r leaks` repairs them), and every
request acknowledged before the last completed flush reads back (issue 4)."""
import os
import pathlib
import random
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, bench_offsets, need_qemu, random_raw, sh  # noqa: E402

SIZE = 64 << 20
ROUNDS = int(os.environ.get("VESSEL_CRASH_ROUNDS", "25"))


def kill_writer(vessel, img, pattern, rnd):
    """Runs bench -w, SIGKILLs it, returns (request offsets, size, flushed count)."""
    size = rnd.choice([4096, 3000, 65536, 200000])
    step = size + rnd.choice([0, 512, 4096, 70000])
    count = (SIZE - size) // step
    depth = rnd.choice([1, 2, 4])
    interval = rnd.choice([1, 4, 16])
    p = subprocess.Popen([vessel, "img", "bench", "-w", "-f", "qcow2", "-c", str(count),
                          "-s", str(size), "-S", str(step), "-d", str(depth),
                          "--flush-interval", str(interval), "--pattern", str(pattern),
                          "--log-flushes", str(img)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(rnd.uniform(0.01, 0.3))
    p.kill()
    out, _ = p.communicate()
    flushed = 0
    for line in out.decode().splitlines():
        if line.startswith("flushed "):
            flushed = max(flushed, int(line.split()[1]))
    return bench_offsets(count, size, step, 0, SIZE), size, flushed


def verify(vessel, img, tmp_path, offsets, size, flushed, pattern):
    p = sh(QEMU_IMG, "check", "-f", "qcow2", img, ok=(0, 3))
    assert "ERROR" not in p.stdout + p.stderr
    raw = tmp_path / "view.raw"
    sh(QEMU_IMG, "convert", "-f", "qcow2", "-O", "raw", img, raw)
    with open(raw, "rb") as f:
        for i in range(flushed):
            f.seek(offsets[i])
            assert f.read(size) == bytes([pattern]) * size, f"request {i} of {flushed} lost"
    raw.unlink()
    if p.returncode == 3:
        sh(vessel, "img", "check", "-r", "leaks", img)
        sh(QEMU_IMG, "check", "-f", "qcow2", img)


@pytest.mark.parametrize("kind", ["fresh", "backing", "compressed"])
def test_sigkill_writer(vessel, tmp_path, kind):
    need_qemu()
    rnd = random.Random(f"crash-{kind}")
    base = random_raw(tmp_path / "base.raw", SIZE, seed=3, fill=0.7)
    img = tmp_path / "img.qcow2"
    if kind == "compressed":
        sh(QEMU_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", base, img)
    for rnd_i in range(ROUNDS):
        pattern = 1 + rnd_i % 250
        if kind == "fresh":
            sh(vessel, "img", "create", "-f", "qcow2", "-o",
               f"cluster_size={rnd.choice([4096, 65536])}", img, str(SIZE))
        elif kind == "backing":
            sh(vessel, "img", "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", img)
        offsets, size, flushed = kill_writer(vessel, img, pattern, rnd)
        verify(vessel, img, tmp_path, offsets, size, flushed, pattern)


def test_disk_full_leaves_consistent_image(vessel, tmp_path, root):
    """ENOSPC in the middle of allocating writes: a clean error, and the image
    passes qemu-img check (leaks allowed) and keeps what was written."""
    need_qemu()
    mnt = tmp_path / "small"
    mnt.mkdir()
    sh("mount", "-t", "tmpfs", "-o", "size=6M", "tmpfs", mnt)
    try:
        img = mnt / "f.qcow2"
        sh(vessel, "img", "create", "-f", "qcow2", "-o", "cluster_size=4096", img, "64M")
        p = sh(vessel, "img", "bench", "-w", "-c", "4000", "-s", "3000", "-S", "7000",
               "-d", "4", "-f", "qcow2", img, ok=(1,))
        assert "No space left on device" in p.stderr
        sh(QEMU_IMG, "check", "-f", "qcow2", img, ok=(0, 3))
        sh(QEMU_IMG, "compare", "-f", "qcow2", img, img)
    finally:
        sh("umount", mnt)


@pytest.mark.parametrize("fmt,opts", [("qcow2", "preallocation=full"),
                                      ("qcow2", "preallocation=falloc"),
                                      ("raw", "preallocation=full")])
def test_create_out_of_space_leaves_nothing(vessel, tmp_path, root, fmt, opts):
    """A create that runs out of space (preallocation on a small file
    system) fails with one line and removes the file it made."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    sh("mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", mnt)
    try:
        img = mnt / f"f.{fmt}"
        p = sh(vessel, "img", "create", "-f", fmt, "-o", opts, img, "64M", ok=(1,))
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert not img.exists()
    finally:
        sh("umount", mnt)
