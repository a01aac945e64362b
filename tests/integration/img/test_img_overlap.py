"""Metadata overlap checks and the end-of-file bound (issue 11 items 3, 4):
an image whose refcount structures overlap other metadata, or whose tables
point far past the end of the file, is marked corrupt and never written
into, as QEMU does; qemu-img is the referee for the result."""
import os
import pathlib
import struct
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, sh, to_raw  # noqa: E402

MASK = 0x00FFFFFFFFFFFE00
COPIED = 1 << 63


def _hdr(path):
    with open(path, "rb") as f:
        h = f.read(72)
    (cbits,) = struct.unpack(">I", h[20:24])
    l1_size, l1_off, rt_off = struct.unpack(">IQQ", h[36:56])
    return dict(cs=1 << cbits, l1_size=l1_size, l1_off=l1_off, rt_off=rt_off)


def _u64(path, off):
    with open(path, "rb") as f:
        f.seek(off)
        return struct.unpack(">Q", f.read(8))[0]


def _put_u64(path, off, v):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(struct.pack(">Q", v))


def _image(tmp_path, cluster="64k", size="4M"):
    need_qemu()
    img = tmp_path / "disk.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", f"cluster_size={cluster}", img, size)
    sh(QEMU_IO, "-c", "write -P 0x5a 0 256k", "-c", "write -P 0x6b 1M 64k", img)
    sh(QEMU_IMG, "snapshot", "-c", "snap", img)
    return img


def _corrupt_flag(img):
    return "corrupt: true" in sh(QEMU_IMG, "info", "-U", img).stdout


def _refused(vessel, img, args, words):
    p = sh(vessel, "img", *args, img, ok=(1,))
    assert words in p.stderr, p.stderr
    return p


@pytest.mark.parametrize("target", ["l2", "l1", "snapshot_l1"])
def test_refcount_block_on_other_metadata(vessel, tmp_path, target):
    img = _image(tmp_path)
    h = _hdr(img)
    l2 = _u64(img, h["l1_off"]) & MASK
    snaps = sh(QEMU_IMG, "info", "--output=json", "-U", img).stdout
    assert '"snap"' in snaps
    dest = {"l2": l2, "l1": h["l1_off"]}.get(target)
    if target == "snapshot_l1":
        # the snapshot table: first entry's L1 offset (qcow2.txt)
        with open(img, "rb") as f:
            f.seek(64)
            (snap_off,) = struct.unpack(">Q", f.read(8))
        dest = _u64(img, snap_off)
    _put_u64(img, h["rt_off"], dest)  # refcount table entry 0 -> that table
    before = to_raw(img, "qcow2", tmp_path / "before.raw")
    names = {"l2": "active L2 table", "l1": "active L1 table",
             "snapshot_l1": "inactive L1 table"}
    p = sh(vessel, "img", "bench", "-w", "-c", "4", "-s", "4096", "-o", "2M", "-f", "qcow2", img,
           ok=(1,))
    assert f"refcount block at offset 0x{dest & ~(h['cs'] - 1):x} overlaps with {names[target]}" \
        in p.stderr, p.stderr
    assert "Marking image as corrupt" in p.stderr
    assert _corrupt_flag(img)
    for args in (["resize", "-f", "qcow2", img, "8M"], ["snapshot", "-c", "s2", img]):
        p = sh(vessel, "img", *args, ok=(1,))
        assert "marked corrupt" in p.stderr, p.stderr
    assert to_raw(img, "qcow2", tmp_path / "after.raw") == before
    # read-only use goes on working
    sh(vessel, "img", "info", "-f", "qcow2", img)
    sh(vessel, "img", "convert", "-f", "qcow2", "-O", "raw", img, tmp_path / "v.raw")
    assert (tmp_path / "v.raw").read_bytes() == before


def test_data_write_onto_refcount_block_prevented(vessel, tmp_path):
    """A data cluster entry that points at a refcount block: QEMU's words."""
    img = _image(tmp_path)
    h = _hdr(img)
    l2 = _u64(img, h["l1_off"]) & MASK
    rb = _u64(img, h["rt_off"]) & MASK
    _put_u64(img, l2 + 8 * 16, rb | COPIED)  # guest cluster 16 (1M) -> the refcount block
    with open(img, "rb") as f:
        f.seek(rb)
        rb_before = f.read(h["cs"])
    p = sh(vessel, "img", "bench", "-w", "-c", "1", "-s", "4096", "-o", "1M", "-f", "qcow2", img,
           ok=(1,))
    assert "Preventing invalid write on metadata (overlaps with refcount block)" in p.stderr
    with open(img, "rb") as f:
        f.seek(rb)
        assert f.read(h["cs"]) == rb_before
    assert _corrupt_flag(img)
    p = sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img, ok=(1,))
    assert "corrupt" in p.stderr


@pytest.mark.parametrize("what", ["data", "l2"])
def test_offset_far_past_eof_not_written(vessel, tmp_path, what):
    img = _image(tmp_path)
    h = _hdr(img)
    l2 = _u64(img, h["l1_off"]) & MASK
    far = 1 << 50
    if what == "data":
        _put_u64(img, l2 + 8 * 16, far | COPIED)
    else:
        _put_u64(img, h["l1_off"], far | COPIED)
    size = os.path.getsize(img)
    p = sh(vessel, "img", "bench", "-w", "-c", "1", "-s", "4096", "-o", "1M", "-f", "qcow2", img,
           ok=(1,))
    assert "past the end of the file" in p.stderr, p.stderr
    assert os.path.getsize(img) == size
    assert _corrupt_flag(img)


def test_small_cluster_resize_with_refcount_block_on_l2(vessel, tmp_path):
    img = _image(tmp_path, cluster="512", size="2M")
    h = _hdr(img)
    l2 = _u64(img, h["l1_off"]) & MASK
    _put_u64(img, h["rt_off"], l2)
    before = to_raw(img, "qcow2", tmp_path / "before.raw")
    p = sh(vessel, "img", "resize", "-f", "qcow2", img, "64M", ok=(1,))
    assert "overlaps with active L2 table" in p.stderr
    assert to_raw(img, "qcow2", tmp_path / "after.raw") == before


def test_corrupt_image_repaired_then_writable(vessel, tmp_path):
    img = _image(tmp_path)
    h = _hdr(img)
    l2 = _u64(img, h["l1_off"]) & MASK
    _put_u64(img, h["rt_off"], l2)
    sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img, ok=(1,))
    assert _corrupt_flag(img)
    sh(QEMU_IMG, "check", "-r", "all", img, ok=(0, 1, 2, 3))
    # qemu-img's repair leaves an image vessel writes again
    if not _corrupt_flag(img):
        sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img)
        sh(QEMU_IMG, "check", img)


CORPUS = pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "corpus" / "qcow2"


@pytest.mark.parametrize("name", ["odd-rb-on-l2", "odd-rb-on-l1", "odd-rb-on-snapshot-l1",
                                  "odd-rb-on-snapshot-table", "odd-l1-on-rb",
                                  "odd-l2-data-on-rb", "odd-l1-far-past-eof",
                                  "odd-l2-past-slack"])
def test_hostile_corpus_never_written(vessel, tmp_path, name):
    """The fuzz corpus' overlap and past-EOF images: every write is refused
    and nothing but the header's corrupt bit changes."""
    img = tmp_path / f"{name}.qcow2"
    orig = (CORPUS / f"{name}.qcow2").read_bytes()
    img.write_bytes(orig)
    for off in ("0", "512", "1024"):
        p = sh(vessel, "img", "bench", "-w", "-c", "1", "-s", "512", "-o", off, "-f", "qcow2",
               img, ok=(1,))
        assert len(p.stderr.strip().splitlines()) <= 2, p.stderr
    after = img.read_bytes()
    assert len(after) == len(orig)
    assert after[:72] == orig[:72] and after[80:] == orig[80:]
    if after[72:80] != orig[72:80]:
        assert int.from_bytes(after[72:80], "big") == int.from_bytes(orig[72:80], "big") | 2


@pytest.mark.parametrize("name", ["odd-l2-within-slack", "odd-l2-past-eof", "odd-l2-past-slack",
                                  "odd-l2-data-on-rb", "odd-compressed-huge", "odd-rb-on-l2",
                                  "odd-rb-on-l1", "odd-rb-on-snapshot-l1", "odd-l1-on-rb",
                                  "odd-l1-far-past-eof"])
def test_hostile_corpus_repaired(vessel, tmp_path, name):
    """check -r all leaves each of these images clean for qemu-img check and
    writable again. (When the last cluster the tables referenced was an L2
    table the rebuild copies, the rebuild once reported success and changed
    nothing.)"""
    need_qemu()
    img = tmp_path / f"{name}.qcow2"
    img.write_bytes((CORPUS / f"{name}.qcow2").read_bytes())
    sh(vessel, "img", "bench", "-w", "-c", "1", "-s", "512", "-f", "qcow2", img, ok=(0, 1))
    sh(vessel, "img", "check", "-r", "all", "-f", "qcow2", img)
    sh(QEMU_IMG, "check", img)
    assert not _corrupt_flag(img)
    sh(vessel, "img", "bench", "-w", "-c", "4", "-s", "512", "-S", "4096", "-f", "qcow2", img)
    sh(QEMU_IMG, "check", img)
