"""`vessel img check -r all` rebuilds refcount structures that are missing or
zeroed (images qemu-img check calls corrupt), like `qemu-img check -r all`."""
import os
import pathlib
import struct
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, qemu_check, sh, to_raw  # noqa: E402

CLUSTER = 4096  # 16-bit refcounts: one refcount block covers 8 MiB of file


def _rt(path):
    with open(path, "rb") as f:
        hdr = f.read(104)
        rt_off = struct.unpack(">Q", hdr[48:56])[0]
        f.seek(rt_off)
        return rt_off, list(struct.unpack(">8Q", f.read(64)))


def _image(path):
    """A qemu-made image with a snapshot and 20 MiB of data: three refcount
    blocks."""
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", f"cluster_size={CLUSTER}", path, "64M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 12M", "-c", "write -c -P 2 12M 1M", path)
    sh(QEMU_IMG, "snapshot", "-c", "s", path)
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 3 4M 8M", path)
    _, rt = _rt(path)
    assert len([e for e in rt if e]) >= 3


@pytest.mark.parametrize("damage", ["zeroed-first", "zeroed-middle", "missing-middle",
                                    "missing-last"])
def test_check_repair_all_rebuilds_refcount_block(vessel, tmp_path, damage):
    need_qemu()
    img = tmp_path / "r.qcow2"
    _image(img)
    want = to_raw(img, "qcow2", tmp_path / "want.raw")
    rt_off, rt = _rt(img)
    idx = {"zeroed-first": 0, "zeroed-middle": 1, "missing-middle": 1,
           "missing-last": max(i for i, e in enumerate(rt) if e)}[damage]
    with open(img, "r+b") as f:
        if damage.startswith("zeroed"):
            f.seek(rt[idx])
            f.write(b"\0" * CLUSTER)
        else:
            f.seek(rt_off + 8 * idx)
            f.write(b"\0" * 8)
    p = qemu_check(img, ok=(2,))
    assert "ERROR" in p.stderr
    sh(vessel, "img", "check", img, ok=(2,))
    p = sh(vessel, "img", "check", "-r", "all", img)
    assert "corruptions" in p.stdout and "No errors were found" in p.stdout
    qemu_check(img)
    assert to_raw(img, "qcow2", tmp_path / "got.raw") == want
    sh(QEMU_IMG, "snapshot", "-a", "s", img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 1 0 12M", "-c", "read -P 2 12M 1M", img)
    qemu_check(img)


def _l1(path):
    with open(path, "rb") as f:
        hdr = f.read(104)
        l1_size, l1_off = struct.unpack(">IQ", hdr[36:48])
        f.seek(l1_off)
        return l1_off, list(struct.unpack(f">{l1_size}Q", f.read(8 * l1_size)))


OFFSET_MASK = 0x00FFFFFFFFFFFE00
PAST_EOF = 1 << 30  # the images are a few MiB long


@pytest.mark.parametrize("compat", ["1.1", "0.10"])
def test_check_repair_all_drops_references_outside_the_file(vessel, tmp_path, compat):
    """An active L2 entry and an L1 entry pointing past the end of the file:
    qemu-img -r all leaves both (its double check still finds corruption);
    ours makes the entry a zero cluster (unallocated on v2) and the L1 entry
    unallocated, giving an image qemu-img calls clean. A snapshot sharing
    other tables keeps its data."""
    need_qemu()
    img = tmp_path / "o.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", f"cluster_size={CLUSTER},compat={compat}",
       img, "64M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 6M", img)
    sh(QEMU_IMG, "snapshot", "-c", "s", img)
    # after the snapshot, the active tables of 2M-4M and 4M-6M are own copies
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 3 2M 64k", "-c", "write -P 3 4M 64k", img)
    l1_off, l1 = _l1(img)
    with open(img, "r+b") as f:
        l2 = l1[1] & OFFSET_MASK  # 2M-4M: entry 3 (2M + 12k) goes past EOF
        f.seek(l2 + 3 * 8)
        f.write(struct.pack(">Q", (1 << 63) | PAST_EOF))
        f.seek(l1_off + 2 * 8)  # 4M-6M: the whole table is past EOF
        f.write(struct.pack(">Q", (1 << 63) | (PAST_EOF + CLUSTER)))
    qemu_check(img, ok=(2,))
    p = sh(vessel, "img", "check", img, ok=(2,))
    assert "exceeding the end of the file" in p.stderr
    p = sh(vessel, "img", "check", "-r", "all", img)
    assert "No errors were found" in p.stdout, p.stdout
    assert "Repairing L1 entry 2" in p.stderr and "Repairing 1 L2 entries" in p.stderr
    qemu_check(img)
    got = to_raw(img, "qcow2", tmp_path / "got.raw")
    M = 1 << 20
    assert got[:2 * M] == b"\1" * (2 * M)
    K = 1024
    assert got[2 * M:2 * M + 12 * K] == b"\3" * (12 * K)
    assert got[2 * M + 12 * K:2 * M + 16 * K] == b"\0" * (4 * K)  # entry 3
    assert got[2 * M + 16 * K:2 * M + 64 * K] == b"\3" * (48 * K)
    assert got[2 * M + 64 * 1024:4 * M] == b"\1" * (2 * M - 64 * 1024)
    assert got[4 * M:6 * M] == b"\0" * (2 * M)  # the dropped table
    sh(vessel, "img", "snapshot", "-a", "s", img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 1 0 6M", img)
    qemu_check(img)


def _end(img):
    p = sh(QEMU_IMG, "check", "--output=json", img, ok=(0, 2, 3))
    import json
    return json.loads(p.stdout)["image-end-offset"]


@pytest.mark.parametrize("bits", [16, 1])
def test_repair_of_garbage_refcount_block_stays_small(vessel, tmp_path, bits):
    """check -r all allocates the rebuilt metadata after what the tables
    reference, not after what garbage refcounts claim (it used to push the
    image end to 2 GiB, 32 GiB with 1-bit refcounts)."""
    need_qemu()
    img, ref = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-o", f"refcount_bits={bits}", img, "64M")
    sh(QEMU_IO, "-c", "write -P 1 0 4M", img)
    want = to_raw(img, "qcow2", tmp_path / "want.raw")
    rt_off, rt = _rt(img)
    with open(img, "r+b") as f:
        f.seek(rt[0])
        f.write(b"\xff" * 65536)
    ref.write_bytes(img.read_bytes())
    sh(QEMU_IMG, "check", "-r", "all", ref, ok=(0, 2, 3))
    sh(vessel, "img", "check", "-r", "all", img)
    qemu_check(img)
    assert os.path.getsize(img) <= os.path.getsize(ref) + (1 << 20)
    assert _end(img) <= _end(ref) + (1 << 20)
    assert to_raw(img, "qcow2", tmp_path / "got.raw") == want


@pytest.mark.parametrize("damage", ["rt-entry-past-eof", "l1-past-eof"])
def test_check_repair_opens_what_it_repairs(vessel, tmp_path, damage):
    need_qemu()
    img = tmp_path / "r.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "64M")
    sh(QEMU_IO, "-c", "write -P 1 0 1M", img)
    rt_off, _ = _rt(img)
    with open(img, "r+b") as f:
        if damage == "rt-entry-past-eof":
            f.seek(rt_off + 8)
        else:
            f.seek(40)  # l1_table_offset
        f.write(struct.pack(">Q", 1 << 40))
    sh(vessel, "img", "check", img, ok=(1,))  # refused read-only, as before
    if damage == "l1-past-eof":  # freeing "leaks" under the old L1 would lose data
        p = sh(vessel, "img", "check", "-r", "leaks", img, ok=(1,))
        assert "-r all" in p.stderr
    sh(vessel, "img", "check", "-r", "all", img)
    qemu_check(img)
    if damage == "rt-entry-past-eof":
        sh(QEMU_IO, "-c", "read -P 1 0 1M", img)
    assert os.path.getsize(img) < 4 << 20


@pytest.mark.parametrize("damage", ["l1-past-eof", "l1-unaligned", "l1-huge", "extra-huge"])
def test_check_repair_drops_invalid_snapshot_entries(vessel, tmp_path, damage):
    """An invalid snapshot table entry no longer keeps check -r from opening
    the image: -r all writes the table without it and the rest is intact
    (qemu-img leaves these images with errors); -r leaks refuses, since it
    would free the dropped snapshot's clusters under the old table."""
    need_qemu()
    img = tmp_path / "s.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "4M")
    sh(QEMU_IO, "-c", "write -P 1 0 64k", img)
    sh(QEMU_IMG, "snapshot", "-c", "a", img)
    sh(QEMU_IO, "-c", "write -P 2 0 64k", img)
    sh(QEMU_IMG, "snapshot", "-c", "b", img)
    with open(img, "r+b") as f:
        f.seek(64)
        (so,) = struct.unpack(">Q", f.read(8))
        f.seek(so)
        (l1,) = struct.unpack(">Q", f.read(8))
        where, data = {"l1-past-eof": (so, struct.pack(">Q", 1 << 40)),
                       "l1-unaligned": (so, struct.pack(">Q", l1 + 8)),
                       "l1-huge": (so + 8, struct.pack(">I", 0x10000000)),
                       "extra-huge": (so + 36, struct.pack(">I", 5000))}[damage]
        f.seek(where)
        f.write(data)
    sh(vessel, "img", "info", img, ok=(1,))  # still refused outside repair
    p = sh(vessel, "img", "check", "-r", "leaks", img, ok=(1,))
    assert "-r all" in p.stderr
    p = sh(vessel, "img", "check", "-r", "all", img)
    assert "Discarding" in p.stderr
    qemu_check(img)
    snaps = sh(QEMU_IMG, "snapshot", "-l", img).stdout
    assert " a " not in snaps
    sh(QEMU_IO, "-c", "read -P 2 0 64k", img)
    if damage != "extra-huge":  # there the table cannot be walked past entry 0
        assert " b " in snaps
        sh(QEMU_IMG, "snapshot", "-a", "b", img)
        sh(QEMU_IO, "-c", "read -P 2 0 64k", img)
