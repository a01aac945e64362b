#!/usr/bin/env python3
"""Writes the seed corpora of the image formats other than qcow2 (VDI, VMDK):
small valid images and hostile variants, replayed by fuzz-img-replay.

good-*: valid (fuzzing seeds). bad-*: must be refused at open with a one-line
error. odd-*: open may succeed; every operation must fail cleanly or work.
Run from anywhere: python3 tests/fuzz/gen-img-corpus.py (rewrites corpus/vdi
and corpus/vmdk)."""
import pathlib
import struct
import zlib

ROOT = pathlib.Path(__file__).parent / "corpus"
MIB = 1 << 20


def vdi(blocks=4, disk=None, itype=1, version=0x00010001, hsize=0x180, bmap=512,
        data=None, sector=512, bsize=MIB, extra=0, alloc=None, entries=None,
        payload=b"", sig=0xBEDA107F, pad=True):
    """A VDI image: header, block map, then payload as the data area."""
    if disk is None:
        disk = blocks * bsize
    if entries is None:
        entries = [0xFFFFFFFF] * blocks
    if data is None:
        data = bmap + ((len(entries) * 4 + 511) // 512) * 512
    if alloc is None:
        alloc = sum(1 for e in entries if e < 0xFFFFFFFE)
    h = bytearray(512)
    h[0:40] = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
    struct.pack_into("<IIIII", h, 0x40, sig, version, hsize, itype, 0)
    struct.pack_into("<IIIIIII", h, 0x154, bmap, data, 0, 0, 0, sector, 0)
    struct.pack_into("<QIIII", h, 0x170, disk, bsize, extra, blocks, alloc)
    h[0x188:0x198] = bytes(range(16))
    out = bytearray(h)
    out += bytes(max(0, bmap - len(out)))
    mp = b"".join(struct.pack("<I", e) for e in entries)
    out = out[:bmap] + mp
    if not pad:
        return bytes(out) + payload
    out += bytes(max(0, data - len(out)))
    return bytes(out[:data]) + payload


def block(byte, n=4096):
    """The first n bytes of a data block (the rest is past EOF: zeros)."""
    return bytes([byte]) * n


def write_vdi(out):
    two = block(0x11)  # index 1 lies past EOF: reads as zeros
    seeds = {
        "good-empty": vdi(),
        "good-two-blocks": vdi(entries=[1, 0xFFFFFFFF, 0, 0xFFFFFFFE], payload=two),
        "good-static": vdi(itype=2, entries=[0, 1, 2, 3], payload=block(0x33)),
        "good-odd-size": vdi(blocks=2, disk=MIB + 4096, entries=[0, 0xFFFFFFFF],
                             payload=block(0x44)),
        "good-lchs-header": vdi(hsize=0x190),
        "bad-signature": vdi(sig=0x12345678),
        "bad-version": vdi(version=0x00020000),
        "bad-type-diff": vdi(itype=4),
        "bad-block-size": vdi(bsize=4096),
        "bad-block-extra": vdi(extra=512),
        "bad-sector-size": vdi(sector=4096),
        "bad-header-size": vdi(hsize=0x20),
        "bad-bmap-unaligned": vdi(bmap=600, data=1024),
        "bad-data-unaligned": vdi(data=1100),
        "bad-disk-too-big": vdi(disk=5 * MIB),
        "bad-map-overlaps-data": vdi(blocks=300, entries=[0xFFFFFFFF] * 300, data=1024),
        "bad-map-past-eof": vdi(blocks=1 << 28, entries=[0xFFFFFFFF] * 8, data=1 << 31,
                                pad=False),
        "bad-too-many-blocks": vdi(blocks=0x7FFFFFFF, entries=[], data=512),
        "bad-truncated": vdi()[:300],
        "odd-entry-too-large": vdi(entries=[7, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF],
                                   alloc=1),
        "odd-entry-duplicate": vdi(entries=[0, 0, 0xFFFFFFFF, 0xFFFFFFFF], payload=block(5)),
        "odd-count-wrong": vdi(entries=[0, 1, 0xFFFFFFFF, 0xFFFFFFFF], alloc=0,
                               payload=block(6)),
        "odd-count-too-big": vdi(entries=[0xFFFFFFFF] * 4, alloc=4),
        "odd-data-far-past-eof": vdi(blocks=4, entries=[3, 2, 1, 0]),
        "odd-zero-blocks": vdi(blocks=0, disk=0, entries=[]),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


def sparse(capacity=2048, grain=128, gtes=512, flags=3, desc=b"", gd=None, rgd=None,
           gts=None, grains=b"", version=1, compress=0, gd_off=None, pad_to=None):
    """A hosted sparse VMDK extent: header, descriptor at sector 1 (2
    sectors), GD at 3, GTs from 4, grains after (caller gives raw bytes)."""
    n_gt = max(1, -(-capacity // max(1, grain * gtes)))
    if gts is None:
        gts = [[0] * gtes for _ in range(n_gt)]
    gt_sec = max(1, -(-gtes * 4 // 512))
    if gd is None:
        gd = [4 + i * gt_sec for i in range(len(gts))]
    h = struct.pack("<IIIQQQQIQQQBccccH", 0x564D444B, version, flags, capacity, grain,
                    1 if desc else 0, 2 if desc else 0, gtes, 0 if rgd is None else 3,
                    3 if gd_off is None else gd_off, 64, 0, b"\n", b" ", b"\r", b"\n",
                    compress)
    out = bytearray(h + bytes(512 - len(h)))
    out += desc.ljust(1024, b"\0")
    out += b"".join(struct.pack("<I", e) for e in gd).ljust(512, b"\0")
    for t in gts:
        out += b"".join(struct.pack("<I", e) for e in t).ljust(gt_sec * 512, b"\0")
    if pad_to:
        out += bytes(max(0, pad_to - len(out)))
    return bytes(out) + grains


def write_vmdk(out):
    desc = (b'# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n'
            b'createType="monolithicSparse"\nRW 2048 SPARSE "x.vmdk"\n')
    gt = [0] * 512
    gt[1] = 16  # grain 1 at sector 16 (after the single GT at 4..7)
    data = bytes([0x61]) * 65536
    z = zlib.compress(data)
    marker = struct.pack("<QI", 128, len(z)) + z
    gtc = [0] * 512
    gtc[1] = 16
    zero = [0] * 512
    zero[2] = 1
    far = [0] * 512
    far[0] = 0x7FFFFFF0
    huge = [0] * 512
    huge[0] = 16
    seeds = {
        "good-mono": sparse(desc=desc, gts=[gt], pad_to=16 * 512, grains=data[:4096]),
        "good-no-desc": sparse(gts=[gt], pad_to=16 * 512, grains=data[:512]),
        "good-stream": sparse(desc=desc, gts=[gtc], flags=0x30003, version=3, compress=1,
                              pad_to=16 * 512, grains=marker.ljust(-(-len(marker) // 512) * 512,
                                                                   b"\0") + bytes(512)),
        "good-zero-grain": sparse(desc=desc, flags=7, gts=[zero]),
        "good-desc-zero-extents": b"# Disk DescriptorFile\nversion=1\ncreateType=\"custom\"\n"
                                  b"RW 100 ZERO\nRDONLY 28 ZERO\n",
        "bad-grain-huge": sparse(grain=1 << 20),
        "bad-grain-zero": sparse(grain=0, gts=[[0] * 512]),
        "bad-gtes-zero": sparse(gtes=0, gts=[[0]]),
        "bad-gd-past-eof": sparse(gd_off=1 << 30),
        "bad-version": sparse(version=9),
        "bad-compress-unknown": sparse(flags=0x30003, compress=7),
        "bad-compressed-no-markers": sparse(flags=0x10003, compress=1),
        "bad-stream-no-footer": sparse(flags=0x30003, compress=1, gd_off=0xFFFFFFFFFFFFFFFF),
        "bad-desc-line-too-long": b"# Disk DescriptorFile\n" + b"x" * 5000 + b"\nRW 1 ZERO\n",
        "bad-desc-too-many-extents": b"# Disk DescriptorFile\n" + b"RW 1 ZERO\n" * 5000,
        "bad-desc-no-extent": b"# Disk DescriptorFile\nversion=1\n",
        "bad-desc-extent-type": b"# Disk DescriptorFile\nRW 100 VMFSSPARSE \"a.vmdk\"\n",
        "bad-desc-parent": b"# Disk DescriptorFile\nparentFileNameHint=\"base.vmdk\"\n"
                           b"RW 100 ZERO\n",
        "bad-desc-size-overflow": b"# Disk DescriptorFile\nRW 18446744073709551615 ZERO\n",
        "bad-desc-extent-missing": b"# Disk DescriptorFile\nRW 100 FLAT \"nowhere.vmdk\" 0\n",
        "bad-desc-capacity-small": b"# Disk DescriptorFile\nRW 0 ZERO\n",
        "odd-gt-past-eof": sparse(desc=desc, gd=[0x7FFFFFF0]),
        "odd-grain-past-eof": sparse(desc=desc, gts=[far]),
        "odd-compressed-size-huge": sparse(desc=desc, gts=[huge], flags=0x30003, version=3,
                                           compress=1, pad_to=16 * 512,
                                           grains=struct.pack("<QI", 0, 0x7FFFFFFF)),
        "odd-compressed-garbage": sparse(desc=desc, gts=[huge], flags=0x30003, version=3,
                                         compress=1, pad_to=16 * 512,
                                         grains=struct.pack("<QI", 0, 100) + bytes(100)),
        "odd-gd-zero": sparse(desc=desc, gd=[0]),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


def main():
    for fmt, write in (("vdi", write_vdi), ("vmdk", write_vmdk)):
        out = ROOT / fmt
        out.mkdir(parents=True, exist_ok=True)
        for f in out.iterdir():
            f.unlink()
        write(out)


if __name__ == "__main__":
    main()
