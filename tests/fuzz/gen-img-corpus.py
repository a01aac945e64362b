#!/usr/bin/env python3
"""Writes the seed corpora of the image formats other than qcow2 (VDI now):
small valid images and hostile variants, replayed by fuzz-img-replay.

good-*: valid (fuzzing seeds). bad-*: must be refused at open with a one-line
error. odd-*: open may succeed; every operation must fail cleanly or work.
Run from anywhere: python3 tests/fuzz/gen-img-corpus.py (rewrites corpus/vdi)."""
import pathlib
import struct

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


def main():
    out = ROOT / "vdi"
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        f.unlink()
    write_vdi(out)


if __name__ == "__main__":
    main()
