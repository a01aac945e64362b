"""Helpers shared by the `vessel img` integration tests."""
import os
import random
import shutil
import subprocess

import pytest

QEMU_IMG = shutil.which("qemu-img")
QEMU_IO = shutil.which("qemu-io")


def need_qemu():
    if not QEMU_IMG or not QEMU_IO:
        print("SKIP: qemu-img/qemu-io (qemu-utils) not installed")
        pytest.skip("qemu-utils not installed")


def need_block_hooks():
    """The crash-safety tests drive the block layer's fault-injection hooks,
    which only test builds have (meson option block_test_hooks)."""
    build = os.environ.get("VESSEL_BUILD", os.path.join(os.path.dirname(__file__),
                                                        "../../../build"))
    try:
        with open(os.path.join(build, "config.h")) as f:
            on = "#define HAVE_BLOCK_TEST_HOOKS 1" in f.read()
    except OSError:
        on = True  # no build directory to ask: assume a test build
    if not on:
        print("SKIP: this build has no block test hooks (-Dblock_test_hooks=disabled or release)")
        pytest.skip("no block test hooks in this build")


def sh(*args, ok=(0,), timeout=300):
    """Runs a command; asserts its exit code is in ok; returns CompletedProcess."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode in ok, f"{args}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def qemu_check(path, ok=(0,)):
    return sh(QEMU_IMG, "check", "-f", "qcow2", path, ok=ok)


def random_raw(path, size, seed, fill=0.5, chunk=65536):
    """Writes a sparse raw file: about `fill` of the chunks random, rest holes."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        for off in range(0, size, chunk):
            if rnd.random() < fill:
                f.seek(off)
                f.write(rnd.randbytes(min(chunk, size - off)))
    return path


def to_raw(img, fmt, out):
    """qemu-img's view of an image, as a raw file."""
    sh(QEMU_IMG, "convert", "-f", fmt, "-O", "raw", img, out)
    with open(out, "rb") as f:
        return f.read()


def write_pattern_raw(path, offsets, size, pattern):
    with open(path, "r+b") as f:
        for off in offsets:
            f.seek(off)
            f.write(bytes([pattern]) * size)


def bench_offsets(count, size, step, offset, image_size):
    out = []
    for i in range(count):
        pos = (offset + i * step) % image_size
        out.append(0 if pos + size > image_size else pos)
    return out
