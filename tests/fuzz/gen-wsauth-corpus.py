#!/usr/bin/env python3
"""Writes the seed corpus of the dashboard's WebSocket token decoding
(tests/fuzz/wsauth-one.c): Sec-WebSocket-Protocol values, good and bad.
Rewrites tests/fuzz/corpus/wsauth."""
import base64
import pathlib

OUT = pathlib.Path(__file__).parent / "corpus" / "wsauth"


def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


TOKEN = b"0123456789abcdef0123456789abcdef"
SEEDS = {
    "right": f"vessel.console, bearer.{b64(TOKEN)}",
    "wrong": f"bearer.{b64(b'0123456789abcdef0123456789abcdeF')},vessel.console",
    "binary-token": f"bearer.{b64(bytes(range(1, 200)))}",
    "longest": f"bearer.{b64(b'x' * 256)}",
    "too-long": f"bearer.{b64(b'x' * 257)}",
    "nul-byte": f"bearer.{b64(b'ab' + bytes(1) + b'cd')}",
    "one-digit-left": "bearer.MDEyM",
    "padding": "bearer.MDE=",
    "empty": "bearer.",
    "only-console": "vessel.console",
    "separators": " ,\t, bearer.QUJD ,",
    "prefix-only": "xbearer.QUJD, bearerQUJD",
}

OUT.mkdir(parents=True, exist_ok=True)
for old in OUT.iterdir():
    old.unlink()
for name, text in SEEDS.items():
    (OUT / name).write_bytes(text.encode())
