#!/usr/bin/env python3
"""Writes the virtqueue walker's seed corpus (tests/fuzz/corpus/vq).

Each file: flags (bit 0 EVENT_IDX, bit 1 INDIRECT_DESC), queue size - 1,
used length (16-bit LE), then guest RAM from RAM_GPA 0x10000 with the
descriptor table at +0, avail ring at +0x1000, used ring at +0x2000 and data
from +0x8000 (tests/unit/virtio/vq-harness.h). good-*: chains the device
accepts; bad-*: loops, wraps, huge lengths, nested indirect, avail jumps.
Run from anywhere: python3 tests/fuzz/gen-vq-corpus.py (rewrites corpus/vq)."""
import pathlib
import shutil
import struct

OUT = pathlib.Path(__file__).parent / "corpus" / "vq"
RAM = 0x10000
DESC, AVAIL, USED, DATA = 0x0, 0x1000, 0x2000, 0x8000
NEXT, WRITE, INDIRECT = 1, 2, 4


class Image:
    def __init__(self, qsize=8, flags=2, used_len=64):
        self.qsize, self.flags, self.used_len = qsize, flags, used_len
        self.ram = bytearray(0x9000)

    def desc(self, table_off, i, addr, length, flags=0, nxt=0):
        struct.pack_into("<QIHH", self.ram, table_off + 16 * i, addr, length, flags, nxt)

    def offer(self, *heads, idx=None):
        for n, h in enumerate(heads):
            struct.pack_into("<H", self.ram, AVAIL + 4 + 2 * (n % self.qsize), h)
        struct.pack_into("<H", self.ram, AVAIL + 2, len(heads) if idx is None else idx)

    def bytes(self):
        hdr = bytes([self.flags, self.qsize - 1]) + struct.pack("<H", self.used_len)
        return hdr + bytes(self.ram)


def good_chain():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 16, NEXT, 1)
    m.desc(DESC, 1, RAM + DATA + 0x100, 512, WRITE)
    m.offer(0)
    return m


def good_indirect():
    m = Image(flags=3)
    t = DATA + 0x800
    m.desc(t, 0, RAM + DATA, 16, NEXT, 1)
    m.desc(t, 1, RAM + DATA + 0x40, 64, WRITE)
    m.desc(DESC, 2, RAM + t, 32, INDIRECT)
    m.offer(2, 2, 2)
    return m


def good_wrap():
    m = Image(qsize=4, flags=1)
    m.desc(DESC, 0, RAM + DATA, 8, WRITE)
    m.offer(0, 0, 0, 0, idx=4)
    return m


def bad_loop():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 8, NEXT, 1)
    m.desc(DESC, 1, RAM + DATA, 8, NEXT, 0)
    m.offer(0)
    return m


def bad_self_loop_indirect():
    m = Image()
    t = DATA + 0x800
    m.desc(t, 0, RAM + DATA, 8, NEXT, 0)
    m.desc(DESC, 0, RAM + t, 16, INDIRECT)
    m.offer(0)
    return m


def bad_nested_indirect():
    m = Image()
    t1, t2 = DATA + 0x800, DATA + 0xc00
    m.desc(t2, 0, RAM + DATA, 8)
    m.desc(t1, 0, RAM + t2, 16, INDIRECT)
    m.desc(DESC, 0, RAM + t1, 16, INDIRECT)
    m.offer(0)
    return m


def bad_huge_len():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 0xffffffff, WRITE)
    m.offer(0)
    return m


def bad_wrapping_addr():
    m = Image()
    m.desc(DESC, 0, 0xfffffffffffffff0, 0x100, 0)
    m.offer(0)
    return m


def bad_indirect_huge_table():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 0xfffffff0, INDIRECT)
    m.offer(0)
    return m


def bad_avail_jump():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 8)
    m.offer(0, idx=0x8000)
    return m


def bad_head_range():
    m = Image()
    m.offer(0xffff)
    return m


def bad_read_after_write():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 8, WRITE | NEXT, 1)
    m.desc(DESC, 1, RAM + DATA, 8)
    m.offer(0)
    return m


def bad_zero_len():
    m = Image()
    m.desc(DESC, 0, RAM + DATA, 0, WRITE)
    m.offer(0)
    return m


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for name, fn in sorted(globals().items()):
        if callable(fn) and name.startswith(("good_", "bad_")):
            (OUT / (name.replace("_", "-", 1))).write_bytes(fn().bytes())
    (OUT / "bad-short").write_bytes(b"\x03")
    (OUT / "bad-max-queue").write_bytes(b"\x03\xff\xff\xff")


if __name__ == "__main__":
    main()
