"""emu's decoded-block cache is bounded (issue 11, item 9): a guest that runs
through fresh code (guest/testkernel `codewalk`: a 3-byte stub at every
third byte of an 8 MiB window, each called once: 2.8M blocks, ~560 MB of
decoded blocks without a budget) must not grow the VMM past its budget
(EMU_CODE_CACHE_DEFAULT: 32 MiB for a 64 MiB guest) plus guest RAM and
the VMM's own few MiB; and the code it runs after the flushes is right."""
import os
import struct
import subprocess
import tempfile
import threading

from vesseltest import TESTKERNEL, run_peak_rss

MIB = 1024


def run_rss(args, timeout):
    """Runs args; returns (returncode, stdout, peak RSS in KiB of that child)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        rc, rss = run_peak_rss(args, timeout, stdout=out, stderr=subprocess.STDOUT)
        out.seek(0)
        return rc, out.read(), rss


def test_codewalk_rss_bounded(vessel):
    rc, out, rss = run_rss([vessel, "vm", "run", "--accel", "emu", "--mem", "64M",
                            "--kernel", TESTKERNEL, "--append", "vessel.test=codewalk:8"],
                           timeout=240)
    assert rc == 0, out
    assert "vessel-test: codewalk: PASS" in out, out
    # budget 32 MiB + guest RAM 64 MiB + 32 MiB for the VMM and malloc slack
    assert rss < 128 * MIB, f"peak RSS {rss // MIB} MiB"


def zero_kernel(path):
    """A bzImage (protocol 2.15, 64-bit) whose kernel is 4 MiB of zeroes:
    its entry falls into zeroed RAM, which decodes as `add %al,(%rax)`
    forever, one fresh 64-instruction block every 128 bytes."""
    img = bytearray(4096 + 4 * 1024 * 1024)
    img[0x1f1] = 1                                   # setup_sects
    struct.pack_into("<H", img, 0x1fe, 0xaa55)       # boot_flag
    img[0x200], img[0x201] = 0xeb, 0x6a              # header ends at 0x26c
    struct.pack_into("<I", img, 0x202, 0x53726448)   # HdrS
    struct.pack_into("<H", img, 0x206, 0x020f)       # version
    img[0x211] = 1                                   # loadflags: LOADED_HIGH
    struct.pack_into("<I", img, 0x22c, 0x7fffffff)   # initrd_addr_max
    struct.pack_into("<H", img, 0x236, 1)            # xloadflags: XLF_KERNEL_64
    struct.pack_into("<I", img, 0x238, 255)          # cmdline_size
    struct.pack_into("<Q", img, 0x258, 0x100000)     # pref_address
    struct.pack_into("<I", img, 0x260, 0x10000)      # init_size
    path.write_bytes(bytes(img))


def test_zeroed_ram_rss_bounded(vessel, tmp_path):
    """Regression: a kernel entering zeroed RAM grew the VMM to 5.4 GB in
    20 s (--mem 512M). With a 64 MiB guest the walk through RAM decodes
    ~1.8 GB of blocks without a budget; stopped after 8 s (or crashed at
    the end of RAM), the VMM stays within budget + guest RAM."""
    k = tmp_path / "zero-bzImage"
    zero_kernel(k)
    rc, out, rss = run_rss(["timeout", "-s", "TERM", "8", vessel, "vm", "run", "--accel", "emu",
                            "--mem", "64M", "--kernel", k], timeout=60)
    assert rc == 124, out  # vessel: guest crash (fetch past RAM); timeout(1): timed out
    assert rss < 128 * MIB, f"peak RSS {rss // MIB} MiB"
