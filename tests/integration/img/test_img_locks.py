"""Image locks (issue 11 items 1, 2, 12): vessel takes QEMU's OFD locks, so
qemu-img/qemu-io and vessel refuse each other's conflicting opens both ways,
two vessel writers refuse each other, convert never writes onto its own
source or its backing chain, and FIFOs are refused without hanging."""
import os
import pathlib
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, qemu_check, sh, to_raw  # noqa: E402

WRITE_LOCK = 'Failed to get "write" lock'
SHARED_WRITE_LOCK = 'Failed to get shared "write" lock'


class Holder:
    """A process that keeps an image open until stopped (qemu-io reading
    commands from a pipe that stays open)."""

    def __init__(self, *args):
        self.p = subprocess.Popen([str(a) for a in args], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(timeout=30)
        self.p.stdin.close()
        self.p.stderr.close()


def _locked_bytes(path):
    """Byte offsets of the OFD locks held on path (from /proc/locks)."""
    ino = os.stat(path).st_ino
    out = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if "OFDLCK" in parts and parts[-3].endswith(f":{ino}"):
                out.update(range(int(parts[-2]), int(parts[-1]) + 1))
    return out


def _wait_locked(path, byte, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if byte in _locked_bytes(path):
            return
        assert proc.poll() is None, "the holder exited early"
        time.sleep(0.05)
    raise AssertionError(f"byte {byte} of {path} never got locked")


@pytest.fixture
def img(tmp_path):
    need_qemu()
    p = tmp_path / "disk.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", p, "4M")
    return p


def _qemu_io_holder(img, *flags):
    h = Holder(QEMU_IO, *flags, "-f", "qcow2", img)
    _wait_locked(img, 100, h.p)
    return h


def test_qemu_io_writer_blocks_vessel(vessel, img):
    h = _qemu_io_holder(img)
    try:
        for args in (["snapshot", "-c", "s1"], ["resize"], ["bench", "-w", "-c", "1"],
                     ["check", "-r", "all"]):
            extra = ["8M"] if args == ["resize"] else []
            p = sh(vessel, "img", args[0], "-f", "qcow2", *args[1:], img, *extra, ok=(1,))
            assert WRITE_LOCK in p.stderr and "Is another process using the image" in p.stderr
            assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        # a read-only open does not share write: refused too, unless -U
        p = sh(vessel, "img", "info", "-f", "qcow2", img, ok=(1,))
        assert SHARED_WRITE_LOCK in p.stderr
        p = sh(vessel, "img", "info", "-U", "-f", "qcow2", img)
        assert "virtual size: 4 MiB" in p.stdout
    finally:
        h.stop()
    # nothing was changed while it was held
    p = sh(QEMU_IMG, "snapshot", "-l", img)
    assert "s1" not in p.stdout
    assert "virtual size: 4 MiB" in sh(QEMU_IMG, "info", img).stdout


def test_qemu_io_reader_allows_vessel_readers_only(vessel, img):
    h = _qemu_io_holder(img, "-r")
    try:
        sh(vessel, "img", "info", "-f", "qcow2", img)
        sh(vessel, "img", "check", "-f", "qcow2", img)
        p = sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "qcow2", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
    finally:
        h.stop()


def _vessel_holder(vessel, img, write=True):
    """A long vessel bench: holds the image open (read-write with write)."""
    args = [vessel, "img", "bench", "-c", "100000000", "-d", "1", "-s", "512", "-f", "qcow2"]
    h = Holder(*(args + (["-w"] if write else []) + [img]))
    _wait_locked(img, 100, h.p)
    return h


def test_vessel_writer_blocks_qemu(vessel, img):
    h = _vessel_holder(vessel, img)
    try:
        assert {100, 101, 103, 201, 203} <= _locked_bytes(img)  # QEMU's layout
        p = sh(QEMU_IMG, "info", img, ok=(1,))
        assert SHARED_WRITE_LOCK in p.stderr
        p = sh(QEMU_IO, "-c", "write 0 512", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
        p = sh(QEMU_IMG, "snapshot", "-c", "s", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
        sh(QEMU_IMG, "info", "-U", img)
    finally:
        h.stop()


def test_vessel_reader_blocks_qemu_writer(vessel, img):
    h = _vessel_holder(vessel, img, write=False)
    try:
        assert {100, 201, 203} <= _locked_bytes(img)
        assert 101 not in _locked_bytes(img)
        sh(QEMU_IMG, "info", img)  # readers share
        p = sh(QEMU_IO, "-c", "write 0 512", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
    finally:
        h.stop()


def test_two_vessel_writers_refused(vessel, img):
    h = _vessel_holder(vessel, img)
    try:
        p = sh(vessel, "img", "bench", "-w", "-c", "1", "-o", "2M", "-f", "qcow2", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
        p = sh(vessel, "img", "snapshot", "-c", "x", "-f", "qcow2", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
    finally:
        h.stop()
    qemu_check(img, ok=(0, 3))  # the killed writer leaks clusters, nothing worse


def test_concurrent_snapshot_creates_never_lose_one(vessel, img):
    """Both succeed one after the other, or one is refused; never both
    'succeed' with one snapshot lost (issue 11: 4 of 5 tries lost one)."""
    for i in range(5):
        procs = [subprocess.Popen([vessel, "img", "snapshot", "-c", f"s{i}{k}", "-f", "qcow2",
                                   str(img)], stderr=subprocess.PIPE, text=True)
                 for k in range(2)]
        rcs = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
        listing = sh(QEMU_IMG, "snapshot", "-l", img).stdout
        for k, (rc, err) in enumerate(rcs):
            if rc == 0:
                assert f"s{i}{k}" in listing
            else:
                # which of QEMU's two refusals depends on which process took
                # its lock bytes first: ours (the other holds "write"), or
                # the other's shared-write byte (it cannot share with us)
                assert WRITE_LOCK in err or SHARED_WRITE_LOCK in err, err
        qemu_check(img)


def test_backing_chain_locked_read_only(vessel, img, tmp_path):
    top = tmp_path / "top.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", img, "-F", "qcow2", top)
    h = _vessel_holder(vessel, top)
    try:
        assert {100, 201, 203} <= _locked_bytes(img) and 101 not in _locked_bytes(img)
        p = sh(QEMU_IO, "-c", "write 0 512", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
        sh(QEMU_IMG, "info", img)
    finally:
        h.stop()
    # and the other way round: a base that qemu-io writes cannot back a vessel open
    h = _qemu_io_holder(img)
    try:
        p = sh(vessel, "img", "info", "--backing-chain", "-f", "qcow2", top, ok=(1,))
        assert SHARED_WRITE_LOCK in p.stderr
    finally:
        h.stop()


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_convert_onto_its_source_refused(vessel, img, tmp_path, fmt):
    sh(QEMU_IO, "-c", "write -P 0x5a 0 1M", img)
    before = to_raw(img, "qcow2", tmp_path / "before.raw")
    for flags in ([], ["-U"]):
        p = sh(vessel, "img", "convert", *flags, "-f", "qcow2", "-O", fmt, img, img, ok=(1,))
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    link = tmp_path / "hardlink.qcow2"
    os.link(img, link)
    sh(vessel, "img", "convert", "-f", "qcow2", "-O", fmt, img, link, ok=(1,))
    assert to_raw(img, "qcow2", tmp_path / "after.raw") == before
    qemu_check(img)


def test_convert_onto_backing_file_refused(vessel, img, tmp_path):
    sh(QEMU_IO, "-c", "write -P 0x5a 0 1M", img)
    top = tmp_path / "top.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", img, "-F", "qcow2", top)
    before = to_raw(top, "qcow2", tmp_path / "before.raw")
    for flags in ([], ["-U"]):
        sh(vessel, "img", "convert", *flags, "-f", "qcow2", "-O", "qcow2", top, img, ok=(1,))
    assert to_raw(top, "qcow2", tmp_path / "after.raw") == before


def test_convert_onto_image_held_by_qemu_refused(vessel, img, tmp_path):
    src = tmp_path / "src.raw"
    src.write_bytes(b"\x11" * 65536)
    h = _qemu_io_holder(img, "-r")
    try:
        p = sh(vessel, "img", "convert", "-f", "raw", "-O", "qcow2", src, img, ok=(1,))
        assert WRITE_LOCK in p.stderr
    finally:
        h.stop()
    assert "virtual size: 4 MiB" in sh(QEMU_IMG, "info", img).stdout  # not truncated


def test_fifo_image_refused_without_hanging(vessel, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for verb in (["info"], ["info", "-f", "raw"], ["check"], ["map"], ["bench", "-c", "1"],
                 ["convert", "-O", "raw"]):
        out = [tmp_path / "out.raw"] if verb[0] == "convert" else []
        p = sh(vessel, "img", *verb, fifo, *out, ok=(1,), timeout=20)
        assert "not a regular file or block device" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = sh(vessel, "img", "create", "-f", "qcow2", fifo, "1M", ok=(1,), timeout=20)
    assert "not a regular file or block device" in p.stderr, p.stderr


def test_fifo_backing_file_refused_without_hanging(vessel, tmp_path):
    need_qemu()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    top = tmp_path / "top.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", "-b", fifo, "-F", "raw", top, ok=(1,), timeout=20)
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-u", "-b", fifo, "-F", "raw", top, "1M")
    for verb in (["info", "--backing-chain"], ["map"], ["bench", "-c", "1"],
                 ["convert", "-O", "raw"]):
        out = [tmp_path / "out.raw"] if verb[0] == "convert" else []
        p = sh(vessel, "img", *verb, "-f", "qcow2", top, *out, ok=(1,), timeout=20)
        assert "not a regular file or block device" in p.stderr, p.stderr


def test_raw_images_locked_both_ways(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "disk.raw"
    sh(QEMU_IMG, "create", "-q", "-f", "raw", img, "4M")
    h = Holder(QEMU_IO, "-f", "raw", img)
    _wait_locked(img, 100, h.p)
    try:
        # qemu-io shares write on raw images; vessel's writer does not (two
        # writers of one guest disk corrupt its file system): refused
        p = sh(vessel, "img", "bench", "-w", "-c", "1", "-f", "raw", img, ok=(1,))
        assert SHARED_WRITE_LOCK in p.stderr
        p = sh(vessel, "img", "info", "-f", "raw", img, ok=(1,))
        assert SHARED_WRITE_LOCK in p.stderr
        sh(vessel, "img", "info", "-U", "-f", "raw", img)
    finally:
        h.stop()
    args = [vessel, "img", "bench", "-w", "-c", "100000000", "-d", "1", "-s", "512", "-f",
            "raw", img]
    h = Holder(*args)
    _wait_locked(img, 101, h.p)
    try:
        p = sh(QEMU_IO, "-f", "raw", "-c", "write 0 512", img, ok=(1,))
        assert WRITE_LOCK in p.stderr
    finally:
        h.stop()
