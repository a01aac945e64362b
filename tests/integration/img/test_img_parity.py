"""Matching qemu-img (issue 11 item 6): images qemu-img refuses to open are
refused with its words, and check reports what qemu-img check reports (and
-r all repairs it). qemu-img is asked each time: it is the referee."""
import importlib.util
import pathlib
import struct
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, sh  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "gen_corpus", pathlib.Path(__file__).resolve().parents[2] / "fuzz" / "gen-corpus.py")
gc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gc)
BM = 0x23852875


def _bm(*fields, **kw):
    return gc.image(autoclear=1, ext=gc.ext(BM, struct.pack(">IIQQ", *fields) + kw.get("tail", b"")))


REFUSED = {
    "snapshot-offset-unaligned-no-snapshots": gc.image(nb_snap=0, snap_off=0x1234),
    "compression-bit-with-zlib": gc.image(incompat=1 << 3, ctype=0),
    "backing-format-ext-oversized": gc.image(ext=gc.ext(0xE2792ACA, b"r" * 300)),
    "bitmaps-ext-short": gc.image(autoclear=1, ext=gc.ext(BM, b"\0" * 16)),
    "bitmaps-ext-long": _bm(1, 0, 32, 8 * gc.CS, tail=b"\0" * 8),
    "bitmaps-zero": _bm(0, 0, 32, 8 * gc.CS),
    "bitmaps-too-many": _bm(70000, 0, 32, 8 * gc.CS),
    "bitmaps-dir-size-zero": _bm(1, 0, 0, 8 * gc.CS),
    "bitmaps-dir-huge": _bm(1, 0, 1 << 40, 8 * gc.CS),
    "bitmaps-dir-unaligned": _bm(1, 0, 32, 8 * gc.CS + 8),
    "bitmaps-reserved": _bm(1, 1, 32, 8 * gc.CS),
    "crypto-ext-without-luks": gc.image(ext=gc.ext(0x0537BE77, b"\0" * 16)),
    "backing-name-too-long": gc.image(bfo=120, bfs=1024),
    "image-too-big": gc.image(size=1 << 56),
    # the directory itself (QEMU's check_dir_entry)
    "bitmap-dir-past-eof": _bm(1, 0, 32, 1 << 30),
    "bitmap-granularity-small": _bm(1, 0, 32, 8 * gc.CS) + struct.pack(
        ">QIIBBHI", 9 * gc.CS, 1, 0, 1, 8, 1, 0) + b"b" + b"\0" * 7,
    "bitmap-type-unknown": _bm(1, 0, 32, 8 * gc.CS) + struct.pack(
        ">QIIBBHI", 9 * gc.CS, 1, 0, 2, 16, 1, 0) + b"b" + b"\0" * 7,
    "bitmap-extra-data": _bm(1, 0, 40, 8 * gc.CS) + struct.pack(
        ">QIIBBHI", 9 * gc.CS, 1, 0, 1, 16, 1, 8) + b"\0" * 8 + b"b" + b"\0" * 7,
    "bitmap-count-mismatch": _bm(2, 0, 32, 8 * gc.CS) + struct.pack(
        ">QIIBBHI", 9 * gc.CS, 1, 1, 1, 16, 1, 0) + b"b" + b"\0" * 7,
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_as_qemu_img_refuses(vessel, tmp_path, name):
    need_qemu()
    img = tmp_path / f"{name}.qcow2"
    img.write_bytes(REFUSED[name])
    q = sh(QEMU_IMG, "info", "-f", "qcow2", img, ok=(1,))
    words = q.stderr.strip().splitlines()[0].split(f"'{img}': ", 1)[1]
    for verb in (["info"], ["check"], ["bench", "-c", "1"], ["bench", "-w", "-c", "1"]):
        p = sh(vessel, "img", *verb, "-f", "qcow2", img, ok=(1,))
        assert words in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert img.read_bytes() == REFUSED[name]


def _damage(img, case):
    with open(img, "r+b") as f:
        f.seek(40)
        (l1,) = struct.unpack(">Q", f.read(8))
        f.seek(l1)
        (e,) = struct.unpack(">Q", f.read(8))
        l2 = e & 0x00FFFFFFFFFFFE00
        f.seek(l2)
        (d,) = struct.unpack(">Q", f.read(8))
        where, val = {"l1-reserved": (l1, e | 2), "l1-compressed": (l1, e | 1 << 62),
                      "l2-reserved": (l2, d | 4), "compressed-copied": (l2, d | 1 << 63)}[case]
        f.seek(where)
        f.write(struct.pack(">Q", val))


@pytest.mark.parametrize("case", ["l1-reserved", "l1-compressed", "l2-reserved",
                                  "compressed-copied"])
def test_check_reports_what_qemu_reports(vessel, tmp_path, case):
    need_qemu()
    img = tmp_path / "c.qcow2"
    if case == "compressed-copied":
        src = tmp_path / "s.qcow2"
        sh(QEMU_IMG, "create", "-q", "-f", "qcow2", src, "4M")
        sh(QEMU_IO, "-c", "write -P 1 0 128k", src)
        sh(QEMU_IMG, "convert", "-c", "-O", "qcow2", src, img)
    else:
        sh(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "4M")
        sh(QEMU_IO, "-c", "write -P 1 0 128k", img)
    _damage(img, case)
    q = sh(QEMU_IMG, "check", img, ok=(2,))
    finding = q.stdout.strip().splitlines()[0] if q.stdout.startswith("ERROR") else \
        q.stderr.strip().splitlines()[0]
    p = sh(vessel, "img", "check", img, ok=(2,))
    assert finding in p.stderr, (finding, p.stderr)
    assert "1 errors were found on the image." in p.stdout
    # -r all repairs it (qemu-img's own repair leaves these)
    sh(vessel, "img", "check", "-r", "all", img)
    sh(QEMU_IMG, "check", img)
    sh(QEMU_IO, "-c", "read -P 1 0 128k", img)


def test_unaligned_size_read_as_qemu_reads_it(vessel, tmp_path):
    """A size field that is not a multiple of 512: both see whole sectors."""
    need_qemu()
    img = tmp_path / "odd.qcow2"
    img.write_bytes(gc.image(size=1000))
    q = sh(QEMU_IMG, "info", "--output=json", img).stdout
    v = sh(vessel, "img", "info", "--output", "json", img).stdout
    assert '"virtual-size": 512' in q and '"virtual-size": 512' in v, (q, v)


@pytest.mark.parametrize("size", [0, 1000, 1000000, 1023999, 1048064, 5000000000])
def test_raw_size_and_human_size_as_qemu_img(vessel, tmp_path, size):
    """A raw file is whole sectors to QEMU (its tail reads as zeros), and
    sizes print as qemu-img prints them (never '1e+03 B')."""
    need_qemu()
    img = tmp_path / "r.raw"
    with open(img, "wb") as f:
        f.truncate(size)
    want = [ln for ln in sh(QEMU_IMG, "info", "-f", "raw", img).stdout.splitlines()
            if ln.startswith("virtual size")]
    got = [ln for ln in sh(vessel, "img", "info", "-f", "raw", img).stdout.splitlines()
           if ln.startswith("virtual size")]
    assert got == want
