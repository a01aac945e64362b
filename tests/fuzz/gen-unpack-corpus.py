#!/usr/bin/env python3
"""Writes the layer unpacker's seed corpus (tests/fuzz/corpus/unpack).

good-*: layers that unpack (whiteouts, opaque dirs, links, devices, xattrs,
gzip, GNU and PAX formats). bad-*: hostile layers that must be refused
(absolute paths, "..", paths through symlinks, hard links to outside, too
many entries, a decompression bomb, garbage). Run from anywhere:
python3 tests/fuzz/gen-unpack-corpus.py (rewrites corpus/unpack)."""
import gzip
import io
import pathlib
import shutil
import subprocess
import tarfile

OUT = pathlib.Path(__file__).parent / "corpus" / "unpack"


def ent(name, kind="f", data=b"", link="", mode=0o644, uid=0, xattrs=None, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.uid, ti.mtime = mode, uid, 1700000000
    ti.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
               "h": tarfile.LNKTYPE, "c": tarfile.CHRTYPE, "p": tarfile.FIFOTYPE}[kind]
    ti.linkname = link
    ti.devmajor, ti.devminor = dev
    ti.size = len(data) if kind == "f" else 0
    if xattrs:
        ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return ti, data


def tar(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.size else None)
    return buf.getvalue()


GOOD = [ent("bin", "d"), ent("bin/sh", "f", b"#!/bin/true\n", mode=0o755),
        ent("bin/ash", "h", link="bin/sh"), ent("bin/busybox", "l", link="sh"),
        ent("etc", "d"), ent("etc/.wh.shadow"), ent("var", "d"), ent("var/.wh..wh..opq"),
        ent("var/new", "f", b"x" * 3000, mode=0o4755, uid=1000),
        ent("dev", "d"), ent("dev/null", "c", dev=(1, 3)), ent("dev/fifo", "p"),
        ent("x", "f", b"attr", xattrs={"user.a": "b", "trusted.overlay.opaque": "y"}),
        ent("./dot/./slash//name", "f", b"n"), ent(".wh..wh.plnk", "d")]

CASES = {
    "good-layer.tar": tar(GOOD),
    "good-layer.tar.gz": gzip.compress(tar(GOOD), 6),
    "good-gnu.tar": tar(GOOD[:5] + [ent("long/" + "n" * 200, "f", b"long")], tarfile.GNU_FORMAT),
    "good-empty.tar": tar([]),
    "good-dup.tar": tar([ent("a", "f", b"1"), ent("a", "d"), ent("a/b", "f", b"2"),
                         ent("a", "f", b"3")]),
    "bad-dotdot.tar": tar([ent("../escape", "f", b"x")]),
    "bad-dotdot-deep.tar": tar([ent("a", "d"), ent("a/../../escape", "f", b"x")]),
    "bad-absolute.tar": tar([ent("/escape", "f", b"x")]),
    "bad-symlink-escape.tar": tar([ent("s", "l", link="/"), ent("s/escape", "f", b"x")]),
    "bad-symlink-dotdot.tar": tar([ent("s", "l", link=".."), ent("s/escape", "f", b"x")]),
    "bad-symlink-dir.tar": tar([ent("s", "l", link="../.."), ent("s/x", "d")]),
    "bad-hardlink-outside.tar": tar([ent("h", "h", link="../escape")]),
    "bad-hardlink-absolute.tar": tar([ent("h", "h", link="/etc/passwd")]),
    "bad-hardlink-through-symlink.tar": tar([ent("s", "l", link="/etc"),
                                             ent("h", "h", link="s/passwd")]),
    "bad-many-entries.tar.gz": gzip.compress(tar([ent(f"f{i}") for i in range(5000)]), 9),
    "bad-bomb.tar.gz": gzip.compress(tar([ent("zeros", "f", bytes(64 << 20))]), 9),
    "bad-truncated.tar": tar(GOOD)[:1500],
    "bad-garbage.bin": bytes(range(256)) * 8,
    "bad-empty-whiteout.tar": tar([ent(".wh.")]),
}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for name, data in CASES.items():
        (OUT / name).write_bytes(data)
    if shutil.which("zstd"):
        z = subprocess.run(["zstd", "-q", "-c"], input=tar(GOOD), capture_output=True).stdout
        (OUT / "good-layer.tar.zst").write_bytes(z)


if __name__ == "__main__":
    main()
