#!/usr/bin/env python3
"""Writes the seed corpora of the image formats other than qcow2 (VDI, VMDK):
small valid images and hostile variants, replayed by fuzz-img-replay.

good-*: valid (fuzzing seeds). bad-*: must be refused at open with a one-line
error. odd-*: open may succeed; every operation must fail cleanly or work.
Run from anywhere: python3 tests/fuzz/gen-img-corpus.py (rewrites corpus/vdi
and corpus/vmdk); `gen-img-corpus.py vhdx DIR` writes the VHDX seeds (4 MiB
each: the build makes them in its own directory)."""
import pathlib
import struct
import sys
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
        "odd-desc-parent": b"# Disk DescriptorFile\nparentFileNameHint=\"base.vmdk\"\n"
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


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def summed(buf):
    buf = bytearray(buf)
    struct.pack_into("<I", buf, 4, 0)
    struct.pack_into("<I", buf, 4, crc32c(bytes(buf)))
    return bytes(buf)


BAT_GUID = bytes.fromhex("6677c22d23f600429d64115e9bfd4a08")
META_GUID = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")
ITEMS = {"params": bytes.fromhex("3767a1ca36fa434db3b633f0aa44e76b"),
         "size": bytes.fromhex("2442a52f1bcd7648b2115dbed83bf4b8"),
         "page83": bytes.fromhex("ab12cabee6b2234593efc309e000c746"),
         "lsec": bytes.fromhex("1dbf41816fa90947ba47f233a8faab5f"),
         "psec": bytes.fromhex("c748a3cd5d4471449cc9e9885251c556"),
         "parent": bytes.fromhex("2d5fd3a80bb34d45abf7d3d84834ab0c")}


def vhdx(disk=8 * MIB, block=MIB, lsec=512, flags=0, bat=None, items=None, log_guid=bytes(16),
         regions=None, head_ok=(True, True), log=b"", log_off=3 * MIB, size=4 * MIB,
         payload=b""):
    """A VHDX of `size` bytes: metadata at 1 MiB, BAT at 2 MiB, log at 3 MiB."""
    d = bytearray(size)
    d[0:8] = b"vhdxfile"
    for i, off in enumerate((64 << 10, 128 << 10)):
        h = bytearray(4096)
        struct.pack_into("<4sIQ", h, 0, b"head", 0, i + 1)
        h[48:64] = log_guid
        struct.pack_into("<HHIQ", h, 64, 0, 1, MIB, log_off)
        d[off:off + 4096] = summed(h) if head_ok[i] else h
    if regions is None:
        regions = [(BAT_GUID, 2 * MIB, MIB, 1), (META_GUID, MIB, MIB, 1)]
    for off in (192 << 10, 256 << 10):
        r = bytearray(64 << 10)
        struct.pack_into("<4sIII", r, 0, b"regi", 0, len(regions), 0)
        for i, (g, o, n, req) in enumerate(regions):
            r[16 + 32 * i:32 + 32 * i] = g
            struct.pack_into("<QII", r, 32 + 32 * i, o, n, req)
        d[off:off + (64 << 10)] = summed(r)
    if items is None:
        items = {"params": struct.pack("<II", block, flags), "size": struct.pack("<Q", disk),
                 "page83": bytes(16), "lsec": struct.pack("<I", lsec),
                 "psec": struct.pack("<I", 512)}
    m = bytearray(64 << 10)
    struct.pack_into("<8sHH", m, 0, b"metadata", 0, len(items))
    data = bytearray()
    for i, (k, v) in enumerate(items.items()):
        m[32 + 32 * i:48 + 32 * i] = ITEMS[k]
        struct.pack_into("<III", m, 48 + 32 * i, (64 << 10) + len(data), len(v),
                         4 if k == "params" else 6)
        data += v
    d[MIB:MIB + len(m)] = m
    d[MIB + (64 << 10):MIB + (64 << 10) + len(data)] = data
    for i, e in enumerate(bat or []):
        struct.pack_into("<Q", d, 2 * MIB + 8 * i, e)
    d[log_off:log_off + len(log)] = log
    return bytes(d) + payload


def log_entry(guid, target, byte, seq=5, flushed=4 * MIB):
    e = bytearray(8192)
    struct.pack_into("<4sIIIQII16sQQ", e, 0, b"loge", 0, 8192, 0, seq, 1, 0, guid, flushed,
                     flushed)
    sector = bytes([byte]) * 4096
    struct.pack_into("<4sI8sQQ", e, 64, b"desc", 0x01010101 * byte, sector[:8], target, seq)
    struct.pack_into("<4sI", e, 4096, b"data", 0)
    e[4096 + 8:4096 + 4092] = sector[8:4092]
    struct.pack_into("<I", e, 8188, seq)
    return summed(e)


def write_vhdx(out):
    g = bytes(range(1, 17))
    present = [(4 * MIB) | 6]
    seeds = {
        "good-dynamic": vhdx(),
        "good-one-block": vhdx(bat=present, size=5 * MIB),
        "good-4k-sectors": vhdx(lsec=4096),
        "good-dirty-log": vhdx(log_guid=g, log=log_entry(g, 4 * MIB, 0x99), bat=present,
                               size=5 * MIB),
        "bad-no-header": vhdx(head_ok=(False, False)),
        "bad-block-size": vhdx(block=3 * MIB),
        "bad-sector-size": vhdx(lsec=1000),
        "bad-differencing": vhdx(flags=2),
        "bad-parent-locator": vhdx(items={"params": struct.pack("<II", MIB, 0),
                                          "size": struct.pack("<Q", MIB),
                                          "lsec": struct.pack("<I", 512),
                                          "psec": struct.pack("<I", 512), "parent": bytes(8)}),
        "bad-meta-missing": vhdx(items={"params": struct.pack("<II", MIB, 0)}),
        "bad-region-overlap": vhdx(regions=[(BAT_GUID, MIB, MIB, 1), (META_GUID, MIB, MIB, 1)]),
        "bad-region-past-eof": vhdx(regions=[(BAT_GUID, 2 * MIB, 64 * MIB, 1),
                                             (META_GUID, MIB, MIB, 1)]),
        "bad-region-unknown-required": vhdx(regions=[(BAT_GUID, 2 * MIB, MIB, 1),
                                                     (META_GUID, MIB, MIB, 1),
                                                     (bytes(range(16)), 3 * MIB, MIB, 1)]),
        "bad-bat-too-small": vhdx(disk=1 << 40),
        "bad-log-outside": vhdx(log_off=64 * MIB),
        "bad-log-writes-header": vhdx(log_guid=g, log=log_entry(g, 4096, 0x99)),
        "odd-bat-past-eof": vhdx(bat=[(1 << 40) | 6]),
        "odd-bat-in-header": vhdx(bat=[6]),
        "odd-bat-partial": vhdx(bat=[(4 * MIB) | 7]),
        "odd-dirty-log-garbage": vhdx(log_guid=g, log=b"loge" + bytes(8188)),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


WRITERS = {"vdi": write_vdi, "vmdk": write_vmdk, "vhdx": write_vhdx}


def main():
    """With no arguments, rewrites corpus/vdi and corpus/vmdk. `FORMAT DIR`
    writes one corpus into DIR (the build writes VHDX's 4 MiB seeds there
    rather than keeping them in the tree)."""
    if len(sys.argv) == 3:
        out = pathlib.Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        WRITERS[sys.argv[1]](out)
        return
    for fmt in ("vdi", "vmdk"):
        out = ROOT / fmt
        out.mkdir(parents=True, exist_ok=True)
        for f in out.iterdir():
            f.unlink()
        WRITERS[fmt](out)


if __name__ == "__main__":
    main()
