"""Internal snapshots across tools; check's findings, repairs and exit codes."""
import pathlib
import struct
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, qemu_check, sh, to_raw  # noqa: E402


def test_snapshot_vessel_to_qemu(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "s.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "64M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 4M", img)
    sh(vessel, "img", "snapshot", "-c", "first", img)
    qemu_check(img)
    sh(vessel, "img", "bench", "-w", "-c", "64", "-s", "65536", "-d", "4", "--pattern", "2",
       "-f", "qcow2", img)  # overwrites shared clusters: COW
    sh(vessel, "img", "snapshot", "-c", "second", img)
    qemu_check(img)
    assert "first" in sh(QEMU_IMG, "snapshot", "-l", img).stdout
    assert "second" in sh(vessel, "img", "snapshot", "-l", img).stdout
    sh(QEMU_IMG, "snapshot", "-a", "first", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 1 0 4M", img)
    sh(vessel, "img", "snapshot", "-a", "second", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 2 0 4M", img)
    sh(vessel, "img", "snapshot", "-d", "first", img)
    qemu_check(img)
    sh(vessel, "img", "check", img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 2 0 4M", img)
    assert "first" not in sh(QEMU_IMG, "snapshot", "-l", img).stdout


def test_snapshot_qemu_to_vessel(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "q.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", "cluster_size=4096", img, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 5 0 1M", img)
    sh(QEMU_IMG, "snapshot", "-c", "qsnap", img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 6 512k 1M", img)
    sh(vessel, "img", "check", img)
    assert "qsnap" in sh(vessel, "img", "snapshot", "-l", img).stdout
    before = to_raw(img, "qcow2", tmp_path / "cur.raw")
    sh(vessel, "img", "snapshot", "-c", "vsnap", img)
    sh(vessel, "img", "snapshot", "-a", "qsnap", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 5 0 1M", "-c", "read -P 0 1M 1M", img)
    sh(QEMU_IMG, "snapshot", "-a", "vsnap", img)
    assert to_raw(img, "qcow2", tmp_path / "back.raw") == before
    sh(QEMU_IMG, "snapshot", "-d", "qsnap", img)
    sh(vessel, "img", "snapshot", "-d", "vsnap", img)
    qemu_check(img)
    sh(vessel, "img", "check", img)


def test_qemu_snapshot_table_at_unaligned_eof(vessel, tmp_path):
    """Regression: qemu-img leaves the file ending right after the snapshot
    table (not padded to 8 bytes); the table must still load."""
    need_qemu()
    img = tmp_path / "u.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", "cluster_size=4096", img, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 2M", img)
    sh(QEMU_IMG, "snapshot", "-c", "s", img)
    assert img.stat().st_size % 8
    assert "s" in sh(vessel, "img", "snapshot", "-l", img).stdout.split()
    sh(vessel, "img", "check", img)
    sh(vessel, "img", "bench", "-w", "-c", "8", "-f", "qcow2", img)
    qemu_check(img)


def _refblock_offset(path):
    with open(path, "rb") as f:
        hdr = f.read(104)
        rt_off = struct.unpack(">Q", hdr[48:56])[0]
        f.seek(rt_off)
        return struct.unpack(">Q", f.read(8))[0]


def _set_refcount16(path, cluster, value):
    rb = _refblock_offset(path)
    with open(path, "r+b") as f:
        f.seek(rb + 2 * cluster)
        f.write(struct.pack(">H", value))


def test_check_leaks_repair(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "l.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 3 0 128k", img)
    end = img.stat().st_size // 65536
    with open(img, "r+b") as f:  # two clusters inside the file nothing references
        f.truncate((end + 2) * 65536)
    _set_refcount16(img, end, 1)
    _set_refcount16(img, end + 1, 1)
    p = sh(vessel, "img", "check", img, ok=(3,))
    assert "2 leaked clusters" in p.stdout
    qemu_check(img, ok=(3,))
    sh(vessel, "img", "check", "-r", "leaks", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 3 0 128k", img)


def test_check_corruption(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "c.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 3 0 64k", img)
    with open(img, "rb") as f:
        f.seek(65536 * 3)
        l2 = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
    data_cluster = None
    with open(img, "rb") as f:
        f.seek(l2)
        data_cluster = (struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00) // 65536
    _set_refcount16(img, data_cluster, 0)
    p = sh(vessel, "img", "check", img, ok=(2,))
    assert "errors were found" in p.stdout
    qemu_check(img, ok=(2,))
    sh(vessel, "img", "check", "-r", "all", img)
    qemu_check(img)


def test_raw_check_unsupported(vessel, tmp_path):
    raw = tmp_path / "r.raw"
    raw.write_bytes(b"\0" * 4096)
    sh(vessel, "img", "check", "-f", "raw", raw, ok=(63,))


def _set_incompat(path, bits):
    with open(path, "r+b") as f:
        f.seek(72)
        f.write(struct.pack(">Q", bits))


@pytest.mark.parametrize("bit,word", [(1, "dirty"), (2, "corrupt")])
def test_dirty_and_corrupt_bits(vessel, tmp_path, bit, word):
    need_qemu()
    img = tmp_path / "d.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "16M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 4 0 1M", img)
    _set_incompat(img, bit)
    if word == "dirty":  # repaired on a writable open, as QEMU does
        sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img)
        assert '"dirty-flag": false' in sh(vessel, "img", "info", "--output", "json", img).stdout
        qemu_check(img)
        return
    p = sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img, ok=(1,))
    assert word in p.stderr
    sh(vessel, "img", "bench", "-c", "16", "-f", "qcow2", img)  # read-only is fine
    sh(vessel, "img", "check", "-r", "all", img)
    sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 4 4096 1020k", img)


def test_grow_over_larger_backing_reads_zeros(vessel, tmp_path):
    need_qemu()
    base = tmp_path / "base.raw"
    base.write_bytes(b"\x11" * (4 << 20))
    top = tmp_path / "top.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top, "1M")
    sh(vessel, "img", "resize", top, "6M")
    qemu_check(top)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 0x11 0 1M", "-c", "read -P 0 1M 5M", top)


def test_unknown_header_extension_survives(vessel, tmp_path):
    """Extensions we do not know are kept through writes, resize, snapshots."""
    need_qemu()
    img = tmp_path / "x.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "16M")
    blob = struct.pack(">II", 0x7e57e57e, 12) + b"keep me ok!!" + b"\0" * 4
    with open(img, "r+b") as f:
        hdr = bytearray(f.read(65536))
        hlen = struct.unpack(">I", hdr[100:104])[0]
        ext = hdr[hlen:]
        hdr[hlen:hlen + len(blob)] = blob  # first extension: ours
        hdr[hlen + len(blob):] = ext[:len(hdr) - hlen - len(blob)]
        f.seek(0)
        f.write(hdr)
    sh(vessel, "img", "bench", "-w", "-c", "64", "-s", "65536", "-f", "qcow2", img)
    sh(vessel, "img", "resize", img, "64M")
    sh(vessel, "img", "snapshot", "-c", "s", img)
    sh(vessel, "img", "snapshot", "-d", "s", img)
    qemu_check(img)
    assert blob in img.read_bytes()[:65536]


def test_qemu_lazy_refcounts_crash_repaired_on_open(vessel, tmp_path):
    """qemu-io aborts with lazy refcounts: the image is left dirty with stale
    refcounts; vessel's check sees it, a writable open repairs it."""
    need_qemu()
    img = tmp_path / "lazy.qcow2"
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", "lazy_refcounts=on", img, "64M")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 7 0 3M", "-c", "abort", img, ok=(-6, 134))
    assert '"dirty-flag": true' in sh(vessel, "img", "info", "--output", "json", img).stdout
    sh(vessel, "img", "check", img, ok=(2,))
    sh(vessel, "img", "bench", "-w", "-c", "1", "-o", "8M", "--pattern", "9", "-f", "qcow2", img)
    qemu_check(img)
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 7 0 3M", "-c", "read -P 9 8M 4k", img)


def test_check_json_matches_qemu(vessel, tmp_path):
    """The same text as qemu-img check --output json: keys, their order and
    figures, also for an image with a leak and corruption."""
    need_qemu()
    import json
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:
        f.truncate(16 << 20)
        for i in range(0, 16 << 20, 3 << 20):
            f.seek(i)
            f.write((b"abc" * 100000)[: 1 << 20])
    for args in ([], ["-c"], ["-o", "cluster_size=4096"], ["damaged"]):
        img = tmp_path / "j.qcow2"
        damaged = args == ["damaged"]
        sh(QEMU_IMG, "convert", *([] if damaged else args), "-f", "raw", "-O", "qcow2", src,
           img)
        sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 5M 100k", img)
        ok = (0,)
        if damaged:  # an L2 entry past EOF: 2 corruptions (its ref, COPIED), 1 leak
            ok = (2,)
            with open(img, "r+b") as f:
                f.seek(struct.unpack(">Q", f.read(48)[40:48])[0])
                l2 = struct.unpack(">Q", f.read(8))[0] & 0x00FFFFFFFFFFFE00
                f.seek(l2)
                f.write(struct.pack(">Q", (1 << 63) | (1 << 30)))
        ours = sh(vessel, "img", "check", "--output", "json", img, ok=ok).stdout
        theirs = sh(QEMU_IMG, "check", "--output", "json", img, ok=ok).stdout
        assert json.loads(ours) == json.loads(theirs), args
        assert ours == theirs, args
