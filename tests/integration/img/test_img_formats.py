"""Disks from other hypervisors (issue 18): each format and subformat read and
written by vessel, with qemu-img as the referee. Images carry data at
scattered offsets, zero runs and unallocated runs."""
import json
import os
import pathlib
import random
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, bench_offsets, need_qemu, random_raw, sh  # noqa: E402

SIZE = 24 << 20
# (format, -o options for create/convert): every subformat we write
VARIANTS = [("vdi", ""), ("vdi", "static=on")] + [
    ("vmdk", f"subformat={s}") for s in ("monolithicSparse", "monolithicFlat",
                                          "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
                                          "streamOptimized")]
FORMATS = sorted({f for f, _ in VARIANTS})


def scattered_raw(path, seed):
    """Random data in some chunks, explicit zeros in others, holes elsewhere,
    including a run that ends off a block boundary."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for off in range(0, SIZE, 192 << 10):
            kind = rnd.random()
            n = rnd.choice([512, 4096, 65536, 100000])
            f.seek(off + rnd.choice([0, 512, 3072]))
            if kind < 0.35:
                f.write(rnd.randbytes(n))
            elif kind < 0.5:
                f.write(bytes(n))
        f.seek(SIZE - 700)
        f.write(rnd.randbytes(700))
    return path


def vid(variant):
    return f"{variant[0]}-{variant[1] or 'default'}"


def opts(o):
    return ["-o", o] if o else []


@pytest.mark.parametrize("variant", VARIANTS, ids=vid)
def test_qemu_made_image_reads_byte_for_byte(vessel, tmp_path, variant):
    need_qemu()
    fmt, o = variant
    raw = scattered_raw(tmp_path / "src.raw", seed=fmt + o)
    img = tmp_path / f"q.{fmt}"
    sh(QEMU_IMG, "convert", "-f", "raw", "-O", fmt, *opts(o), raw, img)
    sh(vessel, "img", "compare", "-f", "raw", "-F", fmt, raw, img)
    out = tmp_path / "back.raw"
    sh(vessel, "img", "convert", "-f", fmt, "-O", "raw", img, out)
    assert out.read_bytes() == raw.read_bytes()
    info = json.loads(sh(vessel, "img", "info", "--output", "json", img).stdout)
    qinfo = json.loads(sh(QEMU_IMG, "info", "--output", "json", img).stdout)
    for k in ("virtual-size", "format", "cluster-size", "dirty-flag"):
        assert info.get(k) == qinfo.get(k), k
    if fmt == "vmdk":  # the same extents, create type and parent
        ours, theirs = info["format-specific"]["data"], qinfo["format-specific"]["data"]
        for d in (ours, theirs):
            d.pop("cid")
        assert ours == theirs


@pytest.mark.parametrize("variant", VARIANTS, ids=vid)
def test_vessel_written_image_passes_qemu(vessel, tmp_path, variant):
    need_qemu()
    fmt, o = variant
    raw = scattered_raw(tmp_path / "src.raw", seed="w" + fmt + o)
    img = tmp_path / f"v.{fmt}"
    sh(vessel, "img", "convert", "-f", "raw", "-O", fmt, *opts(o), raw, img)
    sh(QEMU_IMG, "check", "-f", fmt, img)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", fmt, raw, img)
    # in-place writes over allocated and unallocated blocks, then qemu reads them
    sh(vessel, "img", "bench", "-w", "-f", fmt, "-c", "300", "-s", "3000", "-S", "77777",
       "-o", "1000", "--pattern", "0x5c", img)
    expect = bytearray(raw.read_bytes())
    for off in bench_offsets(300, 3000, 77777, 1000, SIZE):
        expect[off:off + 3000] = b"\x5c" * 3000
    sh(QEMU_IMG, "check", "-f", fmt, img)
    view = tmp_path / "view.raw"
    sh(QEMU_IMG, "convert", "-f", fmt, "-O", "raw", img, view)
    assert view.read_bytes() == bytes(expect)
    # the map agrees with qemu-img's (qemu 7.2 prints no "compressed")
    ours = json.loads(sh(vessel, "img", "map", "--output", "json", img).stdout)
    theirs = json.loads(sh(QEMU_IMG, "map", "--output", "json", "-f", fmt, img).stdout)
    for e in ours:
        e.pop("compressed", None)
    assert ours == theirs


@pytest.mark.parametrize("dst", ["raw", "qcow2"] + FORMATS)
@pytest.mark.parametrize("src", ["raw", "qcow2"] + FORMATS)
def test_conversions_between_every_pair_keep_the_data(vessel, tmp_path, src, dst):
    need_qemu()
    raw = scattered_raw(tmp_path / "orig.raw", seed=f"{src}>{dst}")
    a = tmp_path / f"a.{src}"
    sh(QEMU_IMG, "convert", "-f", "raw", "-O", src, raw, a)
    b = tmp_path / f"b.{dst}"
    sh(vessel, "img", "convert", "-f", src, "-O", dst, a, b)
    if dst != "raw":
        sh(QEMU_IMG, "check", "-f", dst, b)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", dst, raw, b)
    sh(vessel, "img", "compare", "-f", src, "-F", dst, a, b)


@pytest.mark.parametrize("fmt", FORMATS)
def test_thin_stays_thin(vessel, tmp_path, fmt):
    """A mostly empty disk converted by vessel allocates about its data, not
    its virtual size (thin provisioning), and no more than qemu-img's."""
    need_qemu()
    raw = random_raw(tmp_path / "src.raw", SIZE, seed=9, fill=0.1)
    ours, theirs = tmp_path / f"v.{fmt}", tmp_path / f"q.{fmt}"
    sh(vessel, "img", "convert", "-O", fmt, raw, ours)
    sh(QEMU_IMG, "convert", "-O", fmt, raw, theirs)
    used = os.stat(ours).st_blocks * 512
    assert used <= os.stat(theirs).st_blocks * 512
    assert used < SIZE // 2


def test_vmdk_split_disk_across_extents(vessel, tmp_path):
    """A 5 GiB twoGbMaxExtentSparse disk (three extents, thin): writes that
    straddle the extent boundaries read back in qemu-img, and qemu-img's
    writes read back in vessel."""
    need_qemu()
    img = tmp_path / "split.vmdk"
    sh(vessel, "img", "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", img, "5G")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "split-s001.vmdk", "split-s002.vmdk", "split-s003.vmdk", "split.vmdk"]
    two = 2 << 30
    for off in (two - 4096, 2 * two - 512, 5 * (1 << 30) - 65536):
        sh(vessel, "img", "bench", "-w", "-f", "vmdk", "-c", "1", "-s", "8192", "-o",
           str(off), "--pattern", "0x3c", img)
    sh(QEMU_IMG, "check", img)
    for off in (two - 4096, 2 * two - 512):
        p = sh("qemu-io", "-f", "vmdk", "-c", f"read -P 0x3c {off} 8192", img)
        assert "Pattern verification failed" not in p.stdout
    sh("qemu-io", "-f", "vmdk", "-c", f"write -P 0x4d {two + 12345} 70000", img)
    raw = tmp_path / "check.raw"
    with open(raw, "wb") as f:
        f.truncate(5 << 30)
        for off, n, b in ((two - 4096, 8192, 0x3c), (2 * two - 512, 8192, 0x3c),
                          (5 * (1 << 30) - 65536, 8192, 0x3c), (two + 12345, 70000, 0x4d)):
            f.seek(off)
            f.write(bytes([b]) * n)
    sh(vessel, "img", "compare", "-f", "raw", "-F", "vmdk", raw, img)
    assert sum(p.stat().st_blocks for p in tmp_path.glob("split*")) * 512 < 8 << 20


def test_vdi_static_is_preallocated_metadata(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "s.vdi"
    sh(vessel, "img", "create", "-f", "vdi", "-o", "static=on", img, "8M")
    with open(img, "rb") as f:
        f.seek(0x4C)
        assert int.from_bytes(f.read(4), "little") == 2  # VDI_TYPE_STATIC
    full = tmp_path / "f.vdi"
    sh(vessel, "img", "create", "-f", "vdi", "-o", "static=on,preallocation=full", full, "8M")
    assert os.stat(full).st_blocks * 512 >= 8 << 20
    for p in (img, full):
        sh(QEMU_IMG, "check", "-f", "vdi", p)
        assert "file format: vdi" in sh(QEMU_IMG, "info", p).stdout


@pytest.mark.parametrize("args,msg", [
    (["-f", "vdi", "-o", "cluster_size=64k"], "Invalid parameter 'cluster_size'"),
    (["-f", "vdi", "-o", "preallocation=metadata"], "Unsupported preallocation mode: metadata"),
    (["-f", "qcow2", "-o", "static=on"], "Invalid parameter 'static'"),
    (["-f", "vdi", "-b", "base.raw", "-F", "raw"], "Invalid parameter 'backing_file'"),
    (["-f", "vmdk", "-o", "static=on"], "Invalid parameter 'static'"),
    (["-f", "vmdk", "-o", "preallocation=metadata"], "Unsupported preallocation mode: metadata"),
])
def test_create_refusals_leave_nothing(vessel, tmp_path, args, msg):
    img = tmp_path / "x.img"
    p = sh(vessel, "img", "create", *args, img, "1M", ok=(1,))
    assert msg in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not img.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_resize_refused_as_qemu(vessel, tmp_path, fmt):
    img = tmp_path / f"r.{fmt}"
    sh(vessel, "img", "create", "-f", fmt, img, "4M")
    p = sh(vessel, "img", "resize", img, "8M", ok=(1,))
    assert "does not support resize" in p.stderr
    assert json.loads(sh(vessel, "img", "info", "--output", "json", img).stdout)[
        "virtual-size"] == 4 << 20


CORPUS = pathlib.Path(__file__).parents[2] / "fuzz" / "corpus"


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_images_refused_in_one_line(vessel, fmt):
    bad = sorted((CORPUS / fmt).glob("bad-*"))
    assert bad
    for img in bad:
        t = time.monotonic()
        p = sh(vessel, "img", "info", "-f", fmt, img, ok=(1,))
        assert time.monotonic() - t < 5, img
        assert len(p.stderr.strip().splitlines()) == 1, (img, p.stderr)
        assert str(img.parent) in p.stderr


def test_vdi_corrupt_map_found_and_repaired(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "c.vdi"
    sh(vessel, "img", "create", "-f", "vdi", img, "4M")
    sh(vessel, "img", "bench", "-w", "-f", "vdi", "-c", "2", "-s", "4096", "-S", str(1 << 20),
       img)
    with open(img, "r+b") as f:  # map entry 2 -> data block 0 (shared)
        f.seek(512 + 8)
        f.write((0).to_bytes(4, "little"))
    q = sh(QEMU_IMG, "check", "-f", "vdi", img, ok=(2,))
    p = sh(vessel, "img", "check", img, ok=(2,))
    assert "errors were found" in p.stdout and "ERROR" in q.stderr + q.stdout
    sh(vessel, "img", "check", "-r", "all", img)
    sh(QEMU_IMG, "check", "-f", "vdi", img)


def _kill_writer(vessel, img, fmt, rnd, pattern):
    size = rnd.choice([4096, 65536, 300000])
    step = size + rnd.choice([0, 4096, 1 << 20])
    count = (SIZE - size) // step
    p = subprocess.Popen([vessel, "img", "bench", "-w", "-f", fmt, "-c", str(count), "-s",
                          str(size), "-S", str(step), "-d", str(rnd.choice([1, 4])),
                          "--flush-interval", str(rnd.choice([1, 4])), "--pattern",
                          str(pattern), "--log-flushes", str(img)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(rnd.uniform(0.005, 0.15))
    p.kill()
    out, _ = p.communicate()
    flushed = max([int(ln.split()[1]) for ln in out.decode().splitlines()
                   if ln.startswith("flushed ")] or [0])
    return bench_offsets(count, size, step, 0, SIZE), size, flushed


@pytest.mark.parametrize("fmt", FORMATS)
def test_sigkilled_writer_leaves_an_image_qemu_accepts(vessel, tmp_path, fmt):
    """SIGKILL at random points while writing: qemu-img check finds no error
    and every request acknowledged before the last completed flush reads back."""
    need_qemu()
    rnd = random.Random(f"kill-{fmt}")
    img = tmp_path / f"k.{fmt}"
    for i in range(int(os.environ.get("VESSEL_CRASH_ROUNDS", "12"))):
        pattern = 1 + i
        sh(vessel, "img", "create", "-f", fmt, img, str(SIZE))
        offsets, size, flushed = _kill_writer(vessel, img, fmt, rnd, pattern)
        p = sh(QEMU_IMG, "check", "-f", fmt, img, ok=(0,))
        assert "ERROR" not in p.stdout + p.stderr
        view = tmp_path / "view.raw"
        sh(QEMU_IMG, "convert", "-f", fmt, "-O", "raw", img, view)
        with open(view, "rb") as f:
            for k in range(flushed):
                f.seek(offsets[k])
                assert f.read(size) == bytes([pattern]) * size, f"round {i}: request {k} lost"
        view.unlink()
