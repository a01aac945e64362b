#!/usr/bin/env python3
"""Writes the virtio-blk harness's seed corpus (tests/fuzz/corpus/blk).

Each file: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 read-only
disk), queue size - 1, then guest RAM from 0x10000 with the descriptor table
at +0, avail ring at +0x1000, used ring at +0x2000 and data from +0x8000
(tests/unit/virtio/vq-harness.h). The disk is 64 KiB (128 sectors).
good-*: requests the device serves; bad-*: requests it must fail alone.
Run from anywhere: python3 tests/fuzz/gen-blk-corpus.py (rewrites corpus/blk)."""
import pathlib
import shutil
import struct

OUT = pathlib.Path(__file__).parent / "corpus" / "blk"
RAM = 0x10000
DESC, AVAIL, USED, DATA = 0x0, 0x1000, 0x2000, 0x8000
NEXT, WRITE, INDIRECT = 1, 2, 4
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13


class Image:
    def __init__(self, qsize=16, flags=2):
        self.qsize, self.flags = qsize, flags
        self.ram = bytearray(0x9000)
        self.heads = []

    def desc(self, table_off, i, addr, length, flags=0, nxt=0):
        struct.pack_into("<QIHH", self.ram, table_off + 16 * i, addr, length, flags, nxt)

    def request(self, slot, rtype, sector, data_len=0, data_writable=None, extra=b""):
        """A 3-descriptor chain from head 3*slot: header, data, status."""
        base = DATA + 0x100 * slot
        struct.pack_into("<IIQ", self.ram, base, rtype, 0, sector)
        self.ram[base + 16:base + 16 + len(extra)] = extra
        h = 3 * slot
        w = WRITE if (data_writable if data_writable is not None else rtype in (T_IN, T_GET_ID)) else 0
        if data_len:
            self.desc(DESC, h, RAM + base, 16, NEXT, h + 1)
            self.desc(DESC, h + 1, RAM + (0x4000 if rtype != T_DISCARD and rtype != T_WZ
                                          else base + 16), data_len, NEXT | w, h + 2)
        else:
            self.desc(DESC, h, RAM + base, 16, NEXT, h + 2)
        self.desc(DESC, h + 2, RAM + base + 0xf0, 1, WRITE)
        self.heads.append(h)

    def bytes(self):
        for n, h in enumerate(self.heads):
            struct.pack_into("<H", self.ram, AVAIL + 4 + 2 * (n % self.qsize), h)
        struct.pack_into("<H", self.ram, AVAIL + 2, len(self.heads))
        return bytes([self.flags, self.qsize - 1]) + bytes(self.ram)


def seg(sector, n, flags=0):
    return struct.pack("<QII", sector, n, flags)


def seeds():
    m = Image(qsize=16)
    m.request(0, T_OUT, 2, 1024)
    m.request(1, T_FLUSH, 0)
    m.request(2, T_IN, 2, 1024)
    m.request(3, T_GET_ID, 0, 20)
    m.request(4, T_WZ, 0, 16, False, seg(4, 2, 1))
    yield "good-rw-flush-id-wz", m
    m = Image()
    m.request(0, T_DISCARD, 0, 32, False, seg(0, 8) + seg(100, 28))
    yield "good-discard", m
    m = Image(flags=3)
    t = DATA + 0x800
    struct.pack_into("<IIQ", m.ram, DATA, T_IN, 0, 127)
    m.desc(t, 0, RAM + DATA, 16, NEXT, 1)
    m.desc(t, 1, RAM + 0x4000, 256, NEXT | WRITE, 2)
    m.desc(t, 2, RAM + 0x4100, 256, NEXT | WRITE, 3)
    m.desc(t, 3, RAM + DATA + 0xf0, 1, WRITE)
    m.desc(DESC, 0, RAM + t, 64, INDIRECT)
    m.heads = [0]
    yield "good-indirect-read-last-sector", m
    m = Image()
    m.request(0, T_IN, 128, 512)
    m.request(1, T_OUT, 127, 1024)
    m.request(2, T_IN, 2**64 - 1, 512)
    m.request(3, T_OUT, 2**55, 512)
    yield "bad-past-the-end", m
    m = Image()
    m.request(0, T_IN, 0, 100)
    m.request(1, 99, 0, 512)
    m.request(2, T_DISCARD, 0, 16, False, seg(0, 1, 1))
    m.request(3, T_WZ, 0, 16, False, seg(120, 0xffffffff))
    m.request(4, T_DISCARD, 0, 24, False, seg(0, 1))
    yield "bad-requests", m
    m = Image(flags=6)
    m.request(0, T_OUT, 0, 512)
    m.request(1, T_WZ, 0, 16, False, seg(0, 1))
    m.request(2, T_IN, 0, 512)
    yield "bad-read-only-writes", m
    m = Image()
    struct.pack_into("<IIQ", m.ram, DATA, T_IN, 0, 0)
    m.desc(DESC, 0, RAM + DATA, 8, NEXT, 1)  # a header cut short
    m.desc(DESC, 1, RAM + DATA + 0xf0, 1, WRITE)
    m.desc(DESC, 2, RAM + DATA, 16, NEXT, 3)  # no writable status
    m.desc(DESC, 3, RAM + 0x4000, 512)
    m.desc(DESC, 4, RAM + 0x4000, 512, WRITE)  # no header at all
    m.heads = [0, 2, 4]
    yield "bad-chains", m


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for name, m in seeds():
        (OUT / name).write_bytes(m.bytes())


if __name__ == "__main__":
    main()
