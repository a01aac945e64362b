#!/usr/bin/env python3
"""Writes the virtio-net harness's seed corpus (tests/fuzz/corpus/virtio-net).

Each file (tests/fuzz/virtio-net-one.c): flags (bit 0 EVENT_IDX, bit 1
INDIRECT_DESC, bit 2 MRG_RXBUF, bit 3 CSUM + HOST_TSO4, bit 4 backend frames
with a GSO header), queue size - 1, first backend frame 64*n bytes, second
256*n bytes; then guest RAM from 0x10000: RX rings at +0/+0x1000/+0x2000,
TX rings at +0x3000/+0x4000/+0x5000, buffers from +0x8000.
Run from anywhere: python3 tests/fuzz/gen-virtio-net-corpus.py (rewrites it)."""
import pathlib
import shutil
import struct

OUT = pathlib.Path(__file__).parent / "corpus" / "virtio-net"
RAM = 0x10000
RX, TX = 0x0, 0x3000
DESC, AVAIL = 0x0, 0x1000
BUFS = 0x8000
NEXT, WRITE, INDIRECT = 1, 2, 4
HDR = 12


class Image:
    def __init__(self, flags=4, qsize=16, f1=0, f2=0):
        self.head = bytes([flags, qsize - 1, f1, f2])
        self.qsize = qsize
        self.ram = bytearray(0x10000)
        self.avail = {RX: [], TX: []}
        self.idx = {}  # avail idx overrides

    def desc(self, q, i, addr, length, flags=0, nxt=0):
        struct.pack_into("<QIHH", self.ram, q + DESC + 16 * i, addr, length, flags, nxt)

    def chain(self, q, head, segs):
        """segs: (offset in RAM, length, flags) from head on, linked in order."""
        for n, (off, length, fl) in enumerate(segs):
            nxt = head + n + 1 if n + 1 < len(segs) else 0
            self.desc(q, head + n, RAM + off, length, fl | (NEXT if n + 1 < len(segs) else 0),
                      nxt)
        self.avail[q].append(head)

    def frame(self, off, length, gso=0):
        struct.pack_into("<BBHHHHH", self.ram, off, 0, gso, 0, 0, 0, 0, 0)
        self.ram[off + HDR:off + length] = bytes((i * 7) & 0xff for i in range(length - HDR))

    def bytes(self):
        for q, heads in self.avail.items():
            for n, h in enumerate(heads):
                struct.pack_into("<H", self.ram, q + AVAIL + 4 + 2 * (n % self.qsize), h)
            struct.pack_into("<H", self.ram, q + AVAIL + 2, self.idx.get(q, len(heads)))
        return self.head + bytes(self.ram).rstrip(b"\0")  # the harness zero-fills the rest


def rx_bufs(m, n, size, start=0, step=0x1000):
    for i in range(n):
        m.chain(RX, start + i, [(BUFS + step * (start + i), size, WRITE)])


def seeds():
    # TX: header + 60-byte frame split over two descriptors; RX: 4 mergeable buffers
    m = Image(flags=4, f1=22, f2=0)
    m.frame(BUFS + 0x6000, HDR + 60)
    m.chain(TX, 0, [(BUFS + 0x6000, HDR, 0), (BUFS + 0x6000 + HDR, 60, 0)])
    rx_bufs(m, 4, 512)
    yield "good-tx-rx-mrg", m
    # a 1408-byte frame into one 512-byte buffer without MRG_RXBUF: dropped
    m = Image(flags=0, f1=22)
    rx_bufs(m, 1, 512)
    yield "rx-nomrg-too-big", m
    # 64 KiB frame over 16-byte buffers: more than a frame may take
    m = Image(flags=4, qsize=128, f2=255)
    rx_bufs(m, 100, 16, step=16)
    yield "rx-mrg-too-many", m
    # first RX buffer shorter than the header
    m = Image(flags=4, f1=2)
    rx_bufs(m, 1, 4)
    rx_bufs(m, 2, 512, start=1)
    yield "rx-tiny-first", m
    # an RX chain the device cannot write (readable only) and a GSO frame not negotiated
    m = Image(flags=4 | 16, f1=3, f2=1)
    m.chain(RX, 0, [(BUFS, 512, 0)])
    yield "rx-readonly-gso", m
    # RX buffers through an indirect table
    m = Image(flags=2 | 4, f1=20)
    for i in range(3):
        struct.pack_into("<QIHH", m.ram, 0x7000 + 16 * i, RAM + BUFS + 0x1000 * i, 512,
                         WRITE | (NEXT if i < 2 else 0), i + 1)
    m.desc(RX, 0, RAM + 0x7000, 48, INDIRECT)
    m.avail[RX].append(0)
    yield "rx-indirect", m
    # TX: too short, header only, writable part, GSO without HOST_TSO4, GSO with it
    for name, flags, segs, gso in (
            ("tx-short", 0, [(BUFS, 4, 0)], 0),
            ("tx-header-only", 0, [(BUFS, HDR, 0)], 0),
            ("tx-writable", 0, [(BUFS, HDR + 60, 0), (BUFS + 0x1000, 64, WRITE)], 0),
            ("tx-gso-unnegotiated", 0, [(BUFS, HDR + 1000, 0)], 1),
            ("tx-gso-negotiated", 8, [(BUFS, HDR + 1000, 0)], 1)):
        m = Image(flags=flags)
        m.frame(BUFS, HDR + 60, gso)
        m.chain(TX, 0, segs)
        yield name, m
    # TX: a loop and a descriptor outside RAM (the queue breaks, nothing crashes)
    m = Image()
    m.desc(TX, 0, RAM + BUFS, 100, NEXT, 1)
    m.desc(TX, 1, RAM + BUFS, 100, NEXT, 0)
    m.avail[TX].append(0)
    yield "tx-loop", m
    m = Image()
    m.desc(TX, 0, 0xfffffffff000, 100)
    m.avail[TX].append(0)
    yield "tx-outside-ram", m
    # RX: avail idx far ahead (broken queue) with frames waiting
    m = Image(f1=1, f2=1)
    m.idx[RX] = 0x8000
    yield "rx-avail-jump", m


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for name, m in seeds():
        (OUT / name).write_bytes(m.bytes())


if __name__ == "__main__":
    main()
