#!/usr/bin/env python3
"""Writes the qcow2 seed corpus: small valid images and hostile variants.

good-*: valid (fuzzing seeds). bad-*: must be refused at open with a one-line
error. odd-*: open may succeed; every operation must fail cleanly or work.
Run from anywhere: python3 tests/fuzz/gen-corpus.py (rewrites corpus/qcow2)."""
import pathlib
import struct
import zlib

OUT = pathlib.Path(__file__).parent / "corpus" / "qcow2"
CS = 512
COPIED = 1 << 63
COMPRESSED = 1 << 62


def header(**kw):
    f = dict(magic=0x514649FB, version=3, bfo=0, bfs=0, cbits=9, size=32 * 1024,
             crypt=0, l1_size=1, l1_off=3 * CS, rt_off=CS, rt_cl=1, nb_snap=0,
             snap_off=0, incompat=0, compat=0, autoclear=0, rorder=4, hlen=112, ctype=0)
    f.update(kw)
    h = struct.pack(">IIQIIQIIQQIIQQQQIIB7x", f["magic"], f["version"], f["bfo"], f["bfs"],
                    f["cbits"], f["size"], f["crypt"], f["l1_size"], f["l1_off"],
                    f["rt_off"], f["rt_cl"], f["nb_snap"], f["snap_off"], f["incompat"],
                    f["compat"], f["autoclear"], f["rorder"], f["hlen"], f["ctype"])
    return h


def image(hdr=None, ext=b"", l1=None, l2=None, rt=None, refs=None, extra=b"", **kw):
    """Layout: 0 header, 1 reftable, 2 refblock, 3 L1, 4 L2, 5.. data."""
    h = hdr if hdr is not None else header(**kw)
    c0 = (h + ext + b"\0" * 8).ljust(CS, b"\0")[:CS] if len(h + ext) < CS else (h + ext)
    rt = rt if rt is not None else [2 * CS]
    c1 = b"".join(struct.pack(">Q", e) for e in rt).ljust(CS, b"\0")
    refs = refs if refs is not None else [1, 1, 1, 1, 1, 1, 1, 1]
    c2 = b"".join(struct.pack(">H", r) for r in refs).ljust(CS, b"\0")
    l1 = l1 if l1 is not None else [4 * CS | COPIED]
    c3 = b"".join(struct.pack(">Q", e) for e in l1).ljust(CS, b"\0")
    if l2 is None:
        comp = zlib.compressobj(6, zlib.DEFLATED, -12)
        z = comp.compress(b"hello qcow2 " * 42 + b"\0" * 8) + comp.flush()
        nsec = (7 * CS + len(z) - 1) // 512 - (7 * CS) // 512
        l2 = [5 * CS | COPIED, 6 * CS | COPIED, 1, COMPRESSED | (nsec << 61) | 7 * CS]
        extra = extra or b""
        data = b"\x11" * CS + b"\x22" * CS + z.ljust(CS, b"\0")
    else:
        data = b"\x11" * CS + b"\x22" * CS + b"\0" * CS
    c4 = b"".join(struct.pack(">Q", e) for e in l2).ljust(CS, b"\0")
    return c0 + c1 + c2 + c3 + c4 + data + extra


def snap_entry(l1_off, l1_size, name=b"s", extra_size=24, id_len=None):
    ident = b"1"
    e = struct.pack(">QIHHIIQII", l1_off, l1_size, id_len if id_len is not None else 1,
                    len(name), 0, 0, 0, 0, extra_size)
    e += struct.pack(">QQQ", 0, 32 * 1024, 0)[:extra_size] if extra_size <= 24 else \
        b"\0" * extra_size
    e += ident + name
    return e.ljust((len(e) + 7) // 8 * 8, b"\0")


def feature_table(bits):
    return b"".join(struct.pack(">BB46s", 0, b, f"feature {b}".encode()) for b in bits)


def ext(t, data):
    return struct.pack(">II", t, len(data)) + data + b"\0" * (-len(data) % 8)


SEEDS = {
    "good-small.qcow2": image(),
    "good-v2.qcow2": image(hdr=header(version=2)[:72]),
    "odd-snapshot-shared-l1.qcow2": image(nb_snap=1, snap_off=8 * CS,
                                 extra=b"\0" * 0 + snap_entry(3 * CS, 1).ljust(CS, b"\0")),
    "good-backing-fmt.qcow2": image(ext=ext(0xE2792ACA, b"raw")),
    "bad-empty.qcow2": b"",
    "bad-truncated.qcow2": header()[:40],
    "bad-magic.qcow2": image(magic=0x514649FA),
    "bad-version.qcow2": image(version=4),
    "bad-cluster-bits-small.qcow2": image(cbits=8),
    "bad-cluster-bits-large.qcow2": image(cbits=22),
    "bad-cluster-bits-huge.qcow2": image(cbits=63),
    "bad-l1-size-huge.qcow2": image(l1_size=0xFFFFFFFF),
    "bad-l1-past-eof.qcow2": image(l1_size=1000),
    "bad-l1-offset-eof.qcow2": image(l1_off=1 << 40),
    "bad-l1-unaligned.qcow2": image(l1_off=3 * CS + 8),
    "bad-l1-too-small.qcow2": image(size=1 << 40),
    "bad-size-huge.qcow2": image(size=1 << 62, l1_size=0xFFFFFF),
    "bad-rt-past-eof.qcow2": image(rt_off=1 << 40),
    "bad-rt-clusters-huge.qcow2": image(rt_cl=0xFFFFFFFF),
    "bad-rt-clusters-zero.qcow2": image(rt_cl=0),
    "bad-rt-overlaps-header.qcow2": image(rt_off=0),
    "bad-rt-overlaps-l1.qcow2": image(rt_off=3 * CS),
    "bad-rt-entry-unaligned.qcow2": image(rt=[2 * CS + 7]),
    "bad-rt-entry-past-eof.qcow2": image(rt=[1 << 50]),
    "bad-snapshots-huge.qcow2": image(nb_snap=0xFFFFFFFF, snap_off=8 * CS),
    "bad-snapshot-offset.qcow2": image(nb_snap=1, snap_off=1 << 45),
    "bad-snapshot-l1-huge.qcow2": image(nb_snap=1, snap_off=8 * CS,
                                        extra=snap_entry(3 * CS, 0xFFFFFFF).ljust(CS, b"\0")),
    "bad-snapshot-overflow.qcow2": image(nb_snap=3, snap_off=8 * CS,
                                         extra=snap_entry(3 * CS, 1, id_len=65535)),
    "bad-snapshot-extra-huge.qcow2": image(nb_snap=1, snap_off=8 * CS,
                                           extra=snap_entry(3 * CS, 1, extra_size=1 << 30)[:64]),
    "bad-snapshot-table-on-reftable.qcow2": image(nb_snap=1, snap_off=CS),
    "bad-snapshot-l1-on-header.qcow2": image(nb_snap=1, snap_off=8 * CS,
                                             extra=snap_entry(0, 1).ljust(CS, b"\0")),
    "bad-header-length-small.qcow2": image(hlen=8),
    "bad-header-length-huge.qcow2": image(hlen=200000),
    "bad-header-length-odd.qcow2": image(hlen=107),
    "bad-refcount-order.qcow2": image(rorder=7),
    "bad-backing-offset.qcow2": image(bfo=1 << 40, bfs=10),
    "bad-backing-size.qcow2": image(bfo=200, bfs=5000),
    "bad-incompat-unknown.qcow2": image(incompat=1 << 63, ext=ext(0x6803F857,
                                                                 feature_table([63]))),
    "bad-incompat-bits.qcow2": image(incompat=0xF0),
    "bad-external-data.qcow2": image(incompat=1 << 2),
    "bad-extended-l2.qcow2": image(incompat=1 << 4),
    "bad-ext-overrun.qcow2": image(ext=struct.pack(">II", 0x12345678, 0xFFFFFFF0)),
    "bad-compression-type.qcow2": image(ctype=7, incompat=1 << 3),
    "bad-compression-nobit.qcow2": image(ctype=1),
    "bad-encrypted.qcow2": image(crypt=1),
    "odd-l2-unaligned.qcow2": image(l2=[5 * CS + 3 | COPIED, 0, 0, 0]),
    "odd-l2-past-eof.qcow2": image(l2=[(1 << 50) | COPIED, 0, 0, 0]),
    "odd-l1-points-header.qcow2": image(l1=[COPIED | 0]),
    "odd-l1-points-reftable.qcow2": image(l1=[CS | COPIED]),
    "odd-l1-unaligned.qcow2": image(l1=[4 * CS + 0x100 | COPIED]),
    "odd-compressed-garbage.qcow2": image(l2=[COMPRESSED | (3 << 61) | 5 * CS, 0, 0, 0]),
    "odd-compressed-huge.qcow2": image(l2=[COMPRESSED | (0 << 61) | (1 << 55) , 0, 0, 0]),
    "odd-refcount-zero-data.qcow2": image(refs=[1, 1, 1, 1, 1, 0, 0, 0]),
    "odd-refcount-zero-all.qcow2": image(refs=[0] * 8),
    "odd-dirty.qcow2": image(incompat=1),
    "odd-corrupt.qcow2": image(incompat=2),
    "odd-autoclear.qcow2": image(autoclear=3),
    # persistent bitmaps (counted by a read-only check while autoclear bit 0 is set)
    "odd-bitmaps-dir-huge.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 1, 0, 1 << 40, 8 * CS))),
    "odd-bitmaps-dir-past-eof.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 3, 0, 4096, 1 << 45))),
    "odd-bitmaps-count-overrun.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 100000, 0, 24, 8 * CS)), extra=b"\0" * CS + struct.pack(
        ">QIIBBHI", 9 * CS, 4, 1, 1, 16, 2, 0).ljust(CS, b"\0")),
    "odd-bitmaps-table-huge.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 1, 0, 32, 8 * CS)), extra=b"\0" * CS + struct.pack(
        ">QIIBBHI", 9 * CS, 0xFFFFFFFF, 1, 1, 16, 2, 0).ljust(CS, b"\0")),
    "odd-bitmaps-table-entries.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 1, 0, 32, 8 * CS)), extra=b"\0" * CS + struct.pack(
        ">QIIBBHI", 9 * CS, 3, 1, 1, 16, 2, 0).ljust(CS, b"\0") + struct.pack(
        ">QQQ", 1 << 50, 10 * CS + 5, 1).ljust(CS, b"\0")),
    # metadata overlaps (issue 11 item 3): refcount structures on other
    # tables, tables and data on refcount structures
    "odd-rb-on-l2.qcow2": image(rt=[4 * CS]),
    "odd-rb-on-l1.qcow2": image(rt=[3 * CS]),
    "odd-rb-on-snapshot-l1.qcow2": image(rt=[2 * CS, 9 * CS], nb_snap=1, snap_off=8 * CS,
                                         extra=snap_entry(9 * CS, 1).ljust(CS, b"\0") +
                                         struct.pack(">Q", 4 * CS).ljust(CS, b"\0")),
    "odd-rb-on-snapshot-table.qcow2": image(rt=[2 * CS, 8 * CS], nb_snap=1, snap_off=8 * CS,
                                            extra=snap_entry(3 * CS, 1).ljust(CS, b"\0")),
    "odd-rb-twice.qcow2": image(rt=[2 * CS, 2 * CS]),
    "odd-rb-on-data.qcow2": image(rt=[5 * CS]),
    "odd-l2-data-on-rb.qcow2": image(l2=[2 * CS | COPIED, 1 * CS | COPIED, 3 * CS | COPIED, 0]),
    "odd-l1-on-rb.qcow2": image(l1=[2 * CS | COPIED]),
    # host offsets past the end of the file (item 4)
    "odd-l1-far-past-eof.qcow2": image(l1=[(1 << 50) | COPIED]),
    "odd-l2-past-slack.qcow2": image(l2=[(1 << 30) | COPIED, (1 << 55) | COPIED, 0, 0]),
    "odd-l2-within-slack.qcow2": image(l2=[(1 << 20) | COPIED, 0, 0, 0]),
    # refused by qemu-img, so by vessel (item 6)
    "bad-snapshot-offset-unaligned-none.qcow2": image(nb_snap=0, snap_off=0x1234),
    "bad-compression-bit-zlib.qcow2": image(incompat=1 << 3, ctype=0),
    "bad-backing-format-huge.qcow2": image(ext=ext(0xE2792ACA, b"r" * 300)),
    "bad-bitmaps-ext-short.qcow2": image(autoclear=1, ext=ext(0x23852875, b"\0" * 16)),
    "bad-bitmaps-zero.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 0, 0, 32, 8 * CS))),
    "bad-bitmaps-reserved.qcow2": image(autoclear=1, ext=ext(0x23852875, struct.pack(
        ">IIQQ", 1, 1, 32, 8 * CS))),
    "bad-crypto-ext-without-luks.qcow2": image(ext=ext(0x0537BE77, b"\0" * 16)),
    "bad-image-too-big.qcow2": image(size=1 << 56),
    "odd-size-unaligned.qcow2": image(size=1000),
    # reserved bits and flags check reports (item 6)
    "odd-l1-reserved-bits.qcow2": image(l1=[4 * CS | COPIED | 2]),
    "odd-l1-compressed-flag.qcow2": image(l1=[4 * CS | COPIED | COMPRESSED]),
    "odd-l2-reserved-bits.qcow2": image(l2=[5 * CS | COPIED | 4, 6 * CS | COPIED | (1 << 60), 0,
                                            0]),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.qcow2"):
        old.unlink()
    for name, data in SEEDS.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
