"""Kernel and initrd files that must be refused before anything big is done
(issue 11, items 11 and 12): FIFOs and other non-files are refused at once
(they used to hang `vessel vm run`), and an initrd too large for guest RAM
is refused from its size, without reading it (it used to be read whole
first: 2.1 GB of RSS and seconds for a 2 GiB initrd)."""
import os
import subprocess
import tempfile
import threading
import time

import pytest

from vesseltest import TESTKERNEL, run_peak_rss


def run_measured(args, timeout=30):
    """Runs args; returns (returncode, stderr, seconds, peak RSS in KiB) of
    that one child (vesseltest.run_peak_rss)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as err:
        rc, rss = run_peak_rss(args, timeout, stderr=err)
        err.seek(0)
        text = err.read()
    return rc, text, time.monotonic() - t0, rss


def one_line(rc, err, needle):
    assert rc == 125, (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0], lines[0]


@pytest.mark.parametrize("which", ["--kernel", "--initrd"])
def test_fifo_refused(vessel, tmp_path, which):
    fifo = tmp_path / f"vessel-fifo-{os.getpid()}"
    os.mkfifo(fifo)
    args = [vessel, "vm", "run", "--accel", "emu", "--kernel", TESTKERNEL]
    args += [which, fifo]
    rc, err, secs, _ = run_measured(args, timeout=20)
    what = "kernel" if which == "--kernel" else "initrd"
    one_line(rc, err, f"{what} {fifo} is a FIFO, not a regular file or block device")
    assert secs < 10


@pytest.mark.parametrize("which", ["--kernel", "--initrd"])
def test_directory_and_chardev_refused(vessel, tmp_path, which):
    what = "kernel" if which == "--kernel" else "initrd"
    for path, kind in ((tmp_path, "a directory"), ("/dev/zero", "a character device")):
        rc, err, _, _ = run_measured([vessel, "vm", "run", "--accel", "emu", "--kernel",
                                      TESTKERNEL, which, path])
        one_line(rc, err, f"{what} {path} is {kind}")


def test_too_large_initrd_refused_without_reading_it(vessel, tmp_path):
    """A sparse 2 GiB initrd for a 64 MiB guest: refused from its size.
    Reading it would take 2 GiB of RSS (and seconds); the bound is far
    below that, and the time below what reading 2 GiB of zeroes takes here."""
    big = tmp_path / "initrd"
    with open(big, "wb") as f:
        f.truncate(2 << 30)
    rc, err, secs, rss_kib = run_measured([vessel, "vm", "run", "--accel", "emu",
                                           "--mem", "64M", "--kernel", TESTKERNEL,
                                           "--initrd", big])
    one_line(rc, err, "initrd (2147483648 bytes) does not fit in guest memory")
    assert rss_kib < 200 * 1024, f"peak RSS {rss_kib} KiB"
    assert secs < 1.5, f"took {secs:.2f} s"


def test_initrd_reaches_the_guest(vessel, tmp_path):
    """The initrd read straight into guest RAM arrives intact (the guest
    prints its CRC-32)."""
    import zlib
    data = os.urandom(3 * 1024 * 1024 + 123)
    rd = tmp_path / "initrd"
    rd.write_bytes(data)
    r = subprocess.run([vessel, "vm", "run", "--accel", "emu", "--kernel", str(TESTKERNEL),
                        "--initrd", str(rd), "--append", "vessel.test=bootparams"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"size={len(data)} crc32=0x{zlib.crc32(data):08x}" in r.stdout, r.stdout
