"""vessel img and qemu-img read each other's qcow2 images (issue 4)."""
import os
import pathlib
import subprocess
import sys
import zlib

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import (QEMU_IMG, QEMU_IO, bench_offsets, need_qemu, qemu_check, random_raw,
                     sh, to_raw, write_pattern_raw)

SIZE = 32 << 20

CREATE_OPTS = [
    "cluster_size=512",
    "cluster_size=4096",
    "cluster_size=65536",
    "cluster_size=2M",
    "refcount_bits=1",
    "refcount_bits=8",
    "refcount_bits=64,cluster_size=4096",
    "compat=0.10",
    "compression_type=zstd",
    "preallocation=metadata",
    "preallocation=falloc",
    "preallocation=full",
]


@pytest.mark.parametrize("opts", CREATE_OPTS)
def test_vessel_images_pass_qemu_check(vessel, tmp_path, opts):
    """Convert + bench writes through vessel; qemu-img checks and compares."""
    need_qemu()
    src = random_raw(tmp_path / "src.raw", SIZE, seed=len(opts))
    img = tmp_path / "a.qcow2"
    sh(vessel, "img", "convert", "-f", "raw", "-O", "qcow2", "-o", opts, src, img)
    qemu_check(img)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", "qcow2", src, img)
    # partial-cluster overwrites and allocations, several threads
    args = ["-c", "500", "-s", "3000", "-S", "40961", "-o", "777", "-d", "4"]
    sh(vessel, "img", "bench", "-w", "--pattern", "90", "-f", "qcow2", *args, img)
    write_pattern_raw(src, bench_offsets(500, 3000, 40961, 777, SIZE), 3000, 90)
    qemu_check(img)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", "qcow2", src, img)
    sh(vessel, "img", "check", img)


def test_create_empty_and_info(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "e.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "1G")
    qemu_check(img)
    info = sh(QEMU_IMG, "info", img).stdout
    assert "virtual size: 1 GiB" in info
    out = sh(vessel, "img", "info", "--output", "json", img).stdout
    assert '"virtual-size": 1073741824' in out
    assert os.path.getsize(img) < 1 << 20  # thin


QEMU_IMAGES = [
    ("plain-64k", ["-o", "cluster_size=65536"]),
    ("plain-4k", ["-o", "cluster_size=4096"]),
    ("plain-2m", ["-o", "cluster_size=2M"]),
    ("compressed-zlib", ["-c"]),
    ("compressed-zstd", ["-c", "-o", "compression_type=zstd"]),
    ("compressed-4k", ["-c", "-o", "cluster_size=4096"]),
    ("v2", ["-o", "compat=0.10"]),
    ("refcount1", ["-o", "refcount_bits=1"]),
]


@pytest.mark.parametrize("name,args", QEMU_IMAGES, ids=[n for n, _ in QEMU_IMAGES])
def test_qemu_images_read_identically(vessel, tmp_path, name, args):
    need_qemu()
    src = random_raw(tmp_path / "src.raw", SIZE, seed=zlib.crc32(name.encode()))
    img = tmp_path / "q.qcow2"
    sh(QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2", *args, src, img)
    sh(vessel, "img", "compare", "-f", "raw", "-F", "qcow2", src, img)
    sh(vessel, "img", "check", img)
    out = tmp_path / "out.raw"
    sh(vessel, "img", "convert", "-f", "qcow2", "-O", "raw", img, out)
    assert open(out, "rb").read() == open(src, "rb").read()


def test_backing_chain_cow(vessel, tmp_path):
    """raw base <- qcow2 mid (qemu) <- qcow2 top (vessel); partial writes COW."""
    need_qemu()
    base = random_raw(tmp_path / "base.raw", SIZE, seed=1, fill=0.9)
    mid = tmp_path / "mid.qcow2"
    top = tmp_path / "top.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", mid)
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 0x33 1M 3M", mid)
    sh(vessel, "img", "create", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top)
    sh(vessel, "img", "bench", "-w", "-c", "300", "-s", "1000", "-S", "65537", "-d", "2",
       "--pattern", "7", "-f", "qcow2", top)
    qemu_check(mid)
    qemu_check(top)
    expect = bytearray(open(base, "rb").read())
    expect[1 << 20:4 << 20] = b"\x33" * (3 << 20)
    for off in bench_offsets(300, 1000, 65537, 0, SIZE):
        expect[off:off + 1000] = b"\x07" * 1000
    assert to_raw(top, "qcow2", tmp_path / "view.raw") == bytes(expect)
    info = sh(vessel, "img", "info", "--backing-chain", top).stdout
    assert "backing file: mid.qcow2" in info and "backing file: base.raw" in info


def test_three_level_qemu_chain_read(vessel, tmp_path):
    need_qemu()
    base = random_raw(tmp_path / "b.raw", SIZE, seed=5)
    prev, prevfmt = "b.raw", "raw"
    for i in range(3):
        img = tmp_path / f"l{i}.qcow2"
        sh(QEMU_IMG, "create", "-f", "qcow2", "-b", prev, "-F", prevfmt, img)
        sh(QEMU_IO, "-f", "qcow2", "-c", f"write -P {i + 1} {i * 3}M 1500k", img)
        prev, prevfmt = img.name, "qcow2"
    ref = to_raw(tmp_path / "l2.qcow2", "qcow2", tmp_path / "ref.raw")
    out = tmp_path / "v.raw"
    sh(vessel, "img", "convert", "-f", "qcow2", "-O", "raw", tmp_path / "l2.qcow2", out)
    assert open(out, "rb").read() == ref
    del base


def test_convert_compressed_by_vessel(vessel, tmp_path):
    need_qemu()
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:  # compressible: text-like data
        for i in range(SIZE // 64):
            f.write(f"line {i:010d} of some compressible content......\n".encode()[:64])
    for ct in ("zlib", "zstd"):
        img = tmp_path / f"c-{ct}.qcow2"
        sh(vessel, "img", "convert", "-c", "-O", "qcow2", "-o", f"compression_type={ct}",
           "-f", "raw", src, img)
        qemu_check(img)
        sh(QEMU_IMG, "compare", "-f", "raw", "-F", "qcow2", src, img)
        assert os.path.getsize(img) < SIZE // 4
        chk = sh(QEMU_IMG, "check", "--output", "json", img).stdout
        assert '"compressed-clusters": 0' not in chk


def test_resize(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "r.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", "-o", "cluster_size=512", img, "1M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 64k", img)
    sh(vessel, "img", "resize", img, "+3G")
    qemu_check(img)
    assert "3 GiB" in sh(QEMU_IMG, "info", img).stdout
    sh(vessel, "img", "resize", "--shrink", img, "512k")
    qemu_check(img)
    p = sh(vessel, "img", "resize", "--shrink", img, "32k", ok=(1,))
    assert "allocated past" in p.stderr
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 1 0 64k", img)


def test_map_matches_qemu(vessel, tmp_path):
    need_qemu()
    import json
    img = tmp_path / "m.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "8M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write 0 128k", "-c", "write -z 1M 64k",
       "-c", "write 4M 64k", img)
    ours = json.loads(sh(vessel, "img", "map", "--output", "json", img).stdout)
    theirs = json.loads(sh(QEMU_IMG, "map", "--output", "json", img).stdout)
    for e in ours + theirs:
        e.pop("compressed", None)
    assert ours == theirs
    assert sh(vessel, "img", "map", img).stdout == sh(QEMU_IMG, "map", img).stdout


@pytest.mark.parametrize("layout", ["relative", "absolute", "missing", "same-dir",
                                    "snapshot"])
def test_info_backing_matches_qemu(vessel, tmp_path, layout):
    """info (text and json) is qemu-img's, byte for byte, including the full
    backing filename ("actual path") resolved against the image's directory."""
    need_qemu()
    vessel = os.path.abspath(vessel)
    sub = tmp_path / "sub"
    sub.mkdir()
    sh(QEMU_IMG, "create", "-f", "raw", sub / "base.raw", "1M")
    backing = {"absolute": str(sub / "base.raw"), "missing": "gone.raw"}.get(layout, "base.raw")
    img = sub / "a.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-b", backing, "-F", "raw", "-u", img, "1M")
    if layout == "snapshot":
        sh(QEMU_IMG, "snapshot", "-c", "snap1", img)
    arg = "a.qcow2" if layout == "same-dir" else "sub/a.qcow2"
    cwd = sub if layout == "same-dir" else tmp_path
    for extra in ([], ["--output", "json"]):
        q = subprocess.run([QEMU_IMG, "info", "-f", "qcow2", *extra, arg], cwd=cwd,
                           capture_output=True, text=True, check=True).stdout
        v = subprocess.run([vessel, "img", "info", "-f", "qcow2", *extra, arg], cwd=cwd,
                           capture_output=True, text=True, check=True).stdout
        assert v == q
    if layout == "relative":
        assert "(actual path: sub/base.raw)" in v or '"full-backing-filename": "sub/base.raw"' in v
