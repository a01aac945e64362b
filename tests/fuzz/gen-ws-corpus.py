#!/usr/bin/env python3
"""Writes the seed corpus of the WebSocket frame parser (tests/fuzz/ws-one.c):
client byte streams of good and bad frames. Rewrites tests/fuzz/corpus/ws."""
import pathlib
import struct

OUT = pathlib.Path(__file__).parent / "corpus" / "ws"
MASK = b"\x37\xfa\x21\x3d"


def frame(op, payload, fin=True, mask=True, rsv=0, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, m | n])
    elif n < 65536:
        hdr = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, m | 127]) + struct.pack(">Q", n)
    body = bytes(c ^ MASK[i % 4] for i, c in enumerate(payload)) if mask else payload
    return hdr + (MASK if mask else b"") + body


SEEDS = {
    "text": frame(1, b"echo hello\r"),
    "binary": frame(2, bytes(range(256))),
    "len16": frame(2, b"x" * 300),
    "len64": frame(2, b"y" * 70000),
    "ping-pong-close": frame(9, b"hi") + frame(10, b"") + frame(8, struct.pack(">H", 1000)),
    "fragments": frame(1, b"ec", fin=False) + frame(0, b"ho", fin=False) + frame(0, b"\r"),
    "unmasked": frame(1, b"x", mask=False),
    "rsv": frame(1, b"x", rsv=0x40),
    "opcode3": frame(3, b"x"),
    "opcode11": frame(11, b"x"),
    "control-fragmented": frame(9, b"x", fin=False),
    "control-long": frame(8, b"z" * 126),
    "nonminimal16": bytes([0x82, 0xFE, 0, 5]) + MASK + b"hello",
    "nonminimal64": bytes([0x82, 0xFF]) + struct.pack(">Q", 5) + MASK + b"hello",
    "topbit64": bytes([0x82, 0xFF]) + struct.pack(">Q", 1 << 63) + MASK,
    "truncated": frame(2, b"abcdef")[:-2],
    "header-only": bytes([0x81]),
    "empty-text": frame(1, b""),
    "many": b"".join(frame(2, bytes([i])) for i in range(64)),
    # console control messages (text frames): a resize, bad ones, near misses
    "resize": frame(1, b'{"resize":[120,40]}'),
    "resize-bad": frame(1, b'{"resize":[0,70000]}') + frame(1, b'{"resize":"80x24"}'),
    "resize-near": frame(1, b'{"resize":[80,24],"x":1}') + frame(1, b'{"resize":[80,24') +
    frame(1, b'{"resize":[80,24],"resize":[1,1]}') + frame(2, b'{"resize":[80,24]}'),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    for name, data in SEEDS.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
