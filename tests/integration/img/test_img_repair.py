"""`vessel img check -r all` rebuilds refcount structures that are missing or
zeroed (images qemu-img check calls corrupt), like `qemu-img check -r all`."""
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
