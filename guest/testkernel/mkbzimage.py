#!/usr/bin/env python3
"""mkbzimage.py SETUP_O KERNEL_ELF OUT - pack the test guest as a bzImage.

A bzImage is the real-mode part (boot sector + setup sectors, with the setup
header at 0x1F1) followed by the protected-mode kernel as a flat image loaded
at code32_start (Linux Documentation/arch/x86/boot.rst, protocol 2.15).

SETUP_O is setup.S assembled (an ELF relocatable whose .text is the whole
real-mode part, with no relocations); KERNEL_ELF is the linked guest. We
flatten the kernel's PT_LOAD segments, patch setup_sects, syssize and
init_size into the header, check the fixed fields, and write OUT.
"""
import struct
import sys

LOAD_ADDR = 0x100000
KERNEL_INFO_OFFSET = 0x100
PT_LOAD = 1
SHT_RELA, SHT_REL = 4, 9


def die(msg):
    sys.exit(f"mkbzimage: {msg}")


def elf_header(data, what):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die(f"{what}: not a little-endian ELF64 file")
    return struct.unpack_from("<HHIQQQIHHHHHH", data, 16)


def sections(data):
    """Yields (name, type, offset, size) for each section."""
    (_, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = elf_header(data, "setup")
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    for h in hdrs:
        name = data[stroff + h[0]:data.index(b"\0", stroff + h[0])].decode()
        yield name, h[1], h[4], h[5]


def real_mode_part(path):
    data = open(path, "rb").read()
    text = None
    for name, typ, off, size in sections(data):
        if typ in (SHT_RELA, SHT_REL) and name.endswith(".text"):
            die(f"{path}: setup code must not need relocations ({name})")
        if name == ".text":
            text = bytearray(data[off:off + size])
    if text is None or len(text) % 512 or len(text) < 5 * 512:
        die(f"{path}: .text must be a whole number (>= 5) of 512-byte sectors")
    return text


def flat_kernel(path):
    """Returns (image bytes from LOAD_ADDR, memory size including .bss)."""
    data = open(path, "rb").read()
    (_, _, _, _, phoff, _, _, _, phentsize, phnum, _, _, _) = elf_header(data, path)
    image, mem_end = bytearray(), 0
    for i in range(phnum):
        (ptype, _, off, _, paddr, filesz, memsz, _) = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if ptype != PT_LOAD or memsz == 0:
            continue
        if paddr < LOAD_ADDR:
            die(f"{path}: segment at {paddr:#x} is below {LOAD_ADDR:#x}")
        start = paddr - LOAD_ADDR
        if len(image) < start + filesz:
            image.extend(bytes(start + filesz - len(image)))
        image[start:start + filesz] = data[off:off + filesz]
        mem_end = max(mem_end, start + memsz)
    if not image:
        die(f"{path}: no loadable segment")
    return image, mem_end


def main():
    if len(sys.argv) != 4:
        die("usage: mkbzimage.py SETUP_O KERNEL_ELF OUT")
    setup = real_mode_part(sys.argv[1])
    kernel, mem_size = flat_kernel(sys.argv[2])
    if setup[0x1FE:0x200] != b"\x55\xaa" or setup[0x202:0x206] != b"HdrS":
        die("setup header magic missing")
    version, = struct.unpack_from("<H", setup, 0x206)
    if version != 0x020F:
        die(f"setup header version {version:#x}, expected 0x20f")
    if kernel[KERNEL_INFO_OFFSET:KERNEL_INFO_OFFSET + 4] != b"LToP":
        die("kernel_info (LToP) not at load address + 0x100")
    kver_ptr, = struct.unpack_from("<H", setup, 0x20E)
    if not setup[kver_ptr + 0x200:].startswith(b"vessel-testkernel"):
        die("kernel_version does not start with vessel-testkernel")
    init_size = (max(mem_size, len(kernel)) + 4095) & ~4095
    setup[0x1F1] = len(setup) // 512 - 1
    struct.pack_into("<I", setup, 0x1F4, (len(kernel) + 15) // 16)
    struct.pack_into("<I", setup, 0x260, init_size)
    with open(sys.argv[3], "wb") as f:
        f.write(setup)
        f.write(kernel)


if __name__ == "__main__":
    main()
