"""qcow2 features vessel does not implement, on images made by qemu-img:
external data files, extended L2 entries and encryption are refused by every
verb with a one-line error naming the feature, leaving the file untouched;
an image that merely carries persistent bitmaps is used, and its bitmaps are
handled as QEMU handles what it does not understand (issue 4)."""
import json
import os
import pathlib
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, qemu_check, sh, to_raw  # noqa: E402

SECRET = ["--object", "secret,id=sec0,data=pw"]
REFUSED = {
    "data_file": (["-o", "data_file=ext.raw"], "external data file"),
    "extended_l2": (["-o", "extended_l2=on"], "extended L2 entries"),
    "luks": (SECRET + ["-o", "encrypt.format=luks,encrypt.key-secret=sec0,"
                                  "encrypt.iter-time=10"], "encryption (LUKS)"),
    "aes": (SECRET + ["-o", "encrypt.format=aes,encrypt.key-secret=sec0"],
            "encryption (AES-CBC)"),
}
VERBS = [["info"], ["info", "--output", "json"], ["check"], ["check", "-r", "all"],
         ["map"], ["snapshot", "-l"], ["snapshot", "-c", "s"], ["resize", None, "2M"],
         ["bench", "-w", "-c", "1"], ["convert", "-O", "raw", None, "out.raw"]]


def _create(path, feature):
    args, _ = REFUSED[feature]
    for _ in range(10):  # qemu's LUKS key-derivation timing fails now and then here
        p = subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", *args, str(path), "1M"],
                           cwd=path.parent, capture_output=True, text=True)
        if p.returncode == 0:
            return
    if "accurate CPU usage" in p.stderr:
        print(f"SKIP: qemu-img cannot time LUKS key derivation here: {p.stderr}")
        pytest.skip("qemu-img cannot create a LUKS image on this host right now")
    pytest.fail(f"qemu-img create {feature}: {p.stderr}")


@pytest.mark.parametrize("feature", sorted(REFUSED))
def test_refused_with_the_feature_named(vessel, tmp_path, feature):
    need_qemu()
    img = tmp_path / "f.qcow2"
    _create(img, feature)
    before = img.read_bytes()
    for verb in VERBS:
        args = [str(img) if a is None else a for a in verb]
        if None not in verb:
            args.append(str(img))
        p = subprocess.run([os.path.abspath(vessel), "img", *args], cwd=tmp_path, capture_output=True,
                           text=True)
        assert p.returncode == 1, (verb, p.returncode, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and REFUSED[feature][1] in lines[0], (verb, p.stderr)
        assert "unsupported qcow2 feature" in lines[0]
    assert img.read_bytes() == before


def test_feature_named_without_a_name_table(vessel, tmp_path):
    """The image's feature name table is what names bits usually; without
    it (the extension's type renamed to an unknown one) the name still shows."""
    need_qemu()
    img = tmp_path / "f.qcow2"
    _create(img, "extended_l2")
    data = bytearray(img.read_bytes())
    hdr = bytes(data[:4096])
    assert struct.pack(">I", 0x6803F857) in hdr
    data[:4096] = hdr.replace(struct.pack(">I", 0x6803F857), struct.pack(">I", 0x12345678), 1)
    img.write_bytes(data)
    p = sh(vessel, "img", "info", img, ok=(1,))
    assert "unsupported qcow2 feature(s): extended L2 entries" in p.stderr


def _bitmap_image(path):
    sh(QEMU_IMG, "create", "-f", "qcow2", "-o", "cluster_size=4096", path, "4M")
    sh(QEMU_IMG, "bitmap", "--add", path, "b0")
    sh(QEMU_IMG, "bitmap", "--add", "-g", "4096", path, "b1")
    sh(QEMU_IO, "-f", "qcow2", "-c", "write -P 1 0 256k", "-c", "write -P 2 2M 64k", path)
    assert "b1" in sh(QEMU_IMG, "info", path).stdout


def test_image_carrying_bitmaps_read_only(vessel, tmp_path):
    """Read-only verbs keep the bitmaps valid, and check counts their
    clusters as QEMU does (clean, same image end)."""
    need_qemu()
    img = tmp_path / "b.qcow2"
    _bitmap_image(img)
    before = img.read_bytes()
    sh(vessel, "img", "info", img)
    ours = json.loads(sh(vessel, "img", "check", "--output", "json", img).stdout)
    theirs = json.loads(sh(QEMU_IMG, "check", "--output", "json", img).stdout)
    assert ours == theirs
    sh(vessel, "img", "bench", "-c", "16", "-f", "qcow2", img)
    assert img.read_bytes() == before
    assert "b1" in sh(QEMU_IMG, "info", img).stdout


def test_image_carrying_bitmaps_written(vessel, tmp_path):
    """A write clears the bitmaps' autoclear bit (they would go stale): QEMU
    then ignores the bitmaps, the data is intact, and the bitmaps' clusters
    are at worst leaks, which `check -r` frees with either tool."""
    need_qemu()
    img = tmp_path / "b.qcow2"
    _bitmap_image(img)
    sh(vessel, "img", "bench", "-w", "-c", "4", "-s", "4096", "-o", "1M", "--pattern", "3",
       "-f", "qcow2", img)
    with open(img, "rb") as f:
        f.seek(88)
        assert struct.unpack(">Q", f.read(8))[0] & 1 == 0
    p = qemu_check(img, ok=(0, 3))
    assert "ERROR" not in p.stdout + p.stderr
    assert "b1" not in sh(QEMU_IMG, "info", img).stdout
    sh(QEMU_IO, "-f", "qcow2", "-c", "read -P 1 0 256k", "-c", "read -P 3 1M 16k",
       "-c", "read -P 2 2M 64k", img)
    sh(vessel, "img", "check", "-r", "all", img)
    qemu_check(img)
    assert to_raw(img, "qcow2", tmp_path / "v.raw")[:4096] == b"\1" * 4096
