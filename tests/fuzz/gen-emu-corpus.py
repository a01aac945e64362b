#!/usr/bin/env python3
"""Writes the software CPU's seed corpus (tests/fuzz/emu-one.c explains the
input layout: flags byte, 64 bytes of start registers, code).

Hand-written hostile guests plus deterministic random ones. Run from
anywhere: python3 tests/fuzz/gen-emu-corpus.py (rewrites corpus/emu)."""
import pathlib
import random
import struct

OUT = pathlib.Path(__file__).parent / "corpus" / "emu"
REAL, IDT, TWO_CPUS, SSE = 1, 2, 4, 8


def seed(flags, code, regs=(0,) * 8):
    return bytes([flags]) + struct.pack("<8Q", *regs) + bytes(code)


def mov_rax(v):
    return b"\x48\xb8" + struct.pack("<Q", v)


def mov_rm32(addr, v):  # mov dword [addr32], imm32 (absolute via SIB, no base)
    return b"\xc7\x04\x25" + struct.pack("<I", addr) + struct.pack("<I", v)


SEEDS = {
    "jmp-self": seed(0, b"\xeb\xfe"),
    "cli-hlt": seed(0, b"\xfa\xf4"),
    "sti-hlt-loop": seed(IDT, b"\xfb\xf4\xeb\xfc"),
    "int3-zero-idt": seed(IDT, b"\xcc"),
    "ud2-zero-idt": seed(IDT, b"\x0f\x0b"),
    "mov-cr3-garbage": seed(0, mov_rax(0xdead0000) + b"\x0f\x22\xd8\xeb\xfe"),
    "mov-cr0-clear-pg": seed(IDT, mov_rax(0x11) + b"\x0f\x22\xc0\x90\x90"),
    "lgdt-garbage-far-jmp": seed(0, mov_rax(0x3ff000) + b"\x0f\x01\x10"
                                 + b"\xff\x2c\x25\x00\x00\x20\x00"),
    "wrmsr-efer-garbage": seed(IDT, b"\xb9\x80\x00\x00\xc0" + b"\x31\xc0\x31\xd2\x0f\x30"),
    "rep-movsb-from-mmio": seed(0, b"\x48\xbe" + struct.pack("<Q", 0x20000000)
                                + b"\x48\xbf" + struct.pack("<Q", 0x200000)
                                + b"\x48\xb9" + struct.pack("<Q", 0x10000) + b"\xf3\xa4\xeb\xfe"),
    "rep-stosq-over-code": seed(0, b"\x48\xbf" + struct.pack("<Q", 0x100000)
                                + b"\x48\xb9" + struct.pack("<Q", 0x1000)
                                + b"\x48\x31\xc0\xf3\x48\xab"),
    "smc-loop": seed(0, b"\xc6\x05\x00\x00\x00\x00\x90" * 4 + b"\xeb\xe2"),
    "rep-outsb-ins": seed(0, b"\x66\xba\xf8\x03\x48\xbe" + struct.pack("<Q", 0x100000)
                          + b"\xb9\x00\x10\x00\x00\xf3\x6e\xf3\x6c"),
    "lapic-sipi-ap": seed(TWO_CPUS, mov_rm32(0xfee00310, 1 << 24) + mov_rm32(0xfee00300, 0x4500)
                          + mov_rm32(0xfee00300, 0x4608) + b"\xeb\xfe"),
    "ioapic-garbage": seed(0, mov_rm32(0xfec00000, 0x10) + mov_rm32(0xfec00010, 0xffffffff)
                           + b"\xeb\xfe"),
    "div-zero": seed(IDT, b"\x31\xc9\x48\xf7\xf1"),
    "real-mode-lidt-int": seed(REAL | IDT, b"\xcd\x10\xeb\xfe"),
    "real-mode-to-pm": seed(REAL, b"\x0f\x20\xc0\x66\x83\xc8\x01\x0f\x22\xc0\xea\x00\x00\x08\x00"),
    # SSE: strlen idiom over RAM then MMIO, unmasked #XM through a zero IDT,
    # MASKMOVDQU into MMIO, a misaligned MOVAPS, PCMPESTRI with huge lengths,
    # SSE in real mode, SSE with OSFXSR clear
    "sse-strlen-into-mmio": seed(SSE, mov_rax(0x3ffff0) + b"\x66\x0f\xef\xc0"
                                 + b"\x66\x0f\x6f\x08\x66\x0f\x74\xc8\x66\x0f\xd7\xc9"
                                 + b"\x48\x83\xc0\x10\x85\xc9\x74\xeb\xeb\xfe"),
    "sse-xm-zero-idt": seed(SSE | IDT, mov_rm32(0x80000, 0x0000) + b"\x0f\xae\x14\x25"
                            + struct.pack("<I", 0x80000) + b"\x0f\x5e\xc0\xeb\xfe"),
    "sse-maskmov-mmio": seed(SSE, b"\x48\xbf" + struct.pack("<Q", 0x3ffff8)
                             + b"\x66\x0f\x76\xc9\x66\x0f\xf7\xc1\xeb\xfe"),
    "sse-movaps-misaligned": seed(SSE | IDT, b"\x0f\x28\x04\x25\x01\x00\x10\x00"),
    "sse-pcmpestri-lengths": seed(SSE, b"\x48\xc7\xc0\x00\x00\x00\x80\x48\xf7\xd8"
                                  + b"\x48\x89\xc2\x66\x48\x0f\x3a\x61\xc1\x0c"
                                  + b"\x66\x0f\x3a\x60\x04\x25\x00\x00\x10\x00\x7f\xeb\xfe",
                                  (1 << 63, 0, 0, 1 << 63, 0, 0, 0, 0)),
    "sse-real-mode": seed(SSE | REAL, b"\x0f\x57\xc0\x66\x0f\xfe\x06\x00\x10\xeb\xfe"),
    "sse-disabled-ud": seed(IDT, b"\x0f\x58\xc1\xeb\xfe"),
    # x87: arithmetic, transcendental, FNSAVE/FRSTOR on garbage, stack faults
    "x87-mix": seed(0, b"\xdb\xe3\xd9\xe8\xd9\xeb\xde\xf9\xd9\xfa\xd9\xfe\xd9\xee"
                    b"\xd8\xf1\xdd\x1c\x25\x00\x00\x20\x00\xdd\x34\x25\x00\x01\x20\x00"
                    b"\xdd\x24\x25\x10\x00\x20\x00\xd9\xf2\xd9\xfb\xd9\xf4\xdf\x3c\x25"
                    b"\x00\x02\x20\x00\xeb\xc4"),
    # FLDCW unmasking everything, 1/0, FWAIT: #MF through a zero IDT
    "x87-unmasked-mf": seed(IDT, mov_rm32(0x200000, 0x0340) + b"\xd9\x2c\x25\x00\x00\x20\x00"
                            b"\xd9\xe8\xd9\xee\xde\xf9\x9b\xeb\xfe"),
    # CR4.OSFXSR|OSXSAVE, XSETBV, FXSAVE/XSAVE, then FXRSTOR/XRSTOR of garbage
    "fxsave-xsave": seed(0, b"\x0f\x20\xe0\x48\x0d\x00\x02\x04\x00\x0f\x22\xe0"
                         b"\xb8\x03\x00\x00\x00\x31\xd2\x31\xc9\x0f\x01\xd1"
                         b"\x0f\xae\x04\x25\x00\x00\x20\x00\x0f\xae\x24\x25\x00\x04\x20\x00"
                         b"\x0f\xae\x0c\x25\x00\x10\x20\x00\x0f\xae\x2c\x25\x00\x14\x20\x00"
                         b"\xeb\xfe"),
    # CR0.TS: the next x87 instruction is #NM
    "cr0-ts-nm": seed(IDT, b"\x0f\x20\xc0\x48\x83\xc8\x08\x0f\x22\xc0\xd9\xe8\xeb\xfe"),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        f.unlink()
    for name, data in SEEDS.items():
        (OUT / f"{name}.bin").write_bytes(data)
    rng = random.Random(20261120)
    for i in range(24):
        flags = rng.choice([0, IDT, REAL, REAL | IDT, TWO_CPUS | IDT])
        regs = [rng.getrandbits(64) for _ in range(8)]
        code = bytes(rng.getrandbits(8) for _ in range(rng.choice([16, 64, 512])))
        (OUT / f"random-{i:02d}.bin").write_bytes(seed(flags, code, regs))
    # SSE-dense random code: 0F/0F38/0F3A opcodes behind random mandatory prefixes
    for i in range(8):
        flags = SSE | rng.choice([0, IDT, REAL])
        regs = [rng.choice([0x200000, rng.getrandbits(64)]) for _ in range(8)]
        code = b""
        while len(code) < 256:
            code += bytes([rng.choice([0x66, 0xf2, 0xf3, 0x40 | rng.getrandbits(4)]), 0x0f])
            code += rng.choice([b"", b"\x38", b"\x3a"])
            code += bytes(rng.getrandbits(8) for _ in range(rng.choice([2, 3, 6])))
        (OUT / f"random-sse-{i:02d}.bin").write_bytes(seed(flags, code, regs))


if __name__ == "__main__":
    main()
