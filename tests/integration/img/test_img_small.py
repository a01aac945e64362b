"""The smaller refusals of issue 11 item 7, with qemu-img's words where it
has them: resize sizes, backing loops, failed creates, bench's numbers."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, QEMU_IO, need_qemu, sh  # noqa: E402


@pytest.mark.parametrize("arg,words", [
    ("-1", "The new size must be a multiple of 512"),
    ("1000001", "The new size must be a multiple of 512"),
    ("+1", "The new size must be a multiple of 512"),
    ("-2M", "New image size must be positive"),
    ("-1M", "New image size must be positive"),
])
def test_resize_refusals(vessel, tmp_path, arg, words):
    img = tmp_path / "r.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "1M")
    for sep in ([], ["--"]):
        p = sh(vessel, "img", "resize", "--shrink", "-f", "qcow2", img, *sep, arg, ok=(1,))
        assert words in p.stderr, p.stderr
    assert "virtual size: 1 MiB (1048576 bytes)" in sh(vessel, "img", "info", img).stdout


def test_resize_by_whole_sectors(vessel, tmp_path):
    img = tmp_path / "r.qcow2"
    sh(vessel, "img", "create", "-f", "qcow2", img, "1M")
    sh(vessel, "img", "resize", "--shrink", "-f", "qcow2", img, "--", "-512")
    assert "(1048064 bytes)" in sh(vessel, "img", "info", img).stdout


def test_backing_loop_is_one_short_line(vessel, tmp_path):
    need_qemu()
    a, b = tmp_path / "a.qcow2", tmp_path / "b.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", a, "1M")
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", a, "-F", "qcow2", b)
    sh(QEMU_IMG, "rebase", "-u", "-f", "qcow2", "-b", b, "-F", "qcow2", a)
    for img in (a, b):
        p = sh(vessel, "img", "info", "--backing-chain", img, ok=(1,))
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) < 300, p.stderr
        assert "creates an infinite loop" in lines[0]


@pytest.mark.parametrize("fmt,size", [("qcow2", "64P"), ("qcow2", "1E"), ("raw", "9E")])
def test_failed_create_leaves_nothing(vessel, tmp_path, fmt, size):
    img = tmp_path / "x.img"
    sh(vessel, "img", "create", "-f", fmt, img, size, ok=(1,))
    assert not img.exists()


def test_failed_create_keeps_a_locked_image(vessel, tmp_path):
    """create onto an image another process holds is refused before it
    truncates anything."""
    need_qemu()
    img = tmp_path / "held.qcow2"
    sh(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "1M")
    size = img.stat().st_size
    from test_img_locks import _qemu_io_holder  # noqa: E402
    h = _qemu_io_holder(img, "-r")
    try:
        p = sh(vessel, "img", "create", "-f", "qcow2", img, "2M", ok=(1,))
        assert 'Failed to get "write" lock' in p.stderr
    finally:
        h.stop()
    assert img.stat().st_size == size


@pytest.mark.parametrize("pattern,byte", [("0xab", 0xAB), ("171", 0xAB), ("0253", 0xAB)])
def test_bench_pattern_any_base(vessel, tmp_path, pattern, byte):
    img = tmp_path / "b.raw"
    sh(vessel, "img", "create", "-f", "raw", img, "64K")
    sh(vessel, "img", "bench", "-w", "-c", "1", "-s", "4096", "--pattern", pattern, "-f", "raw",
       img)
    assert img.read_bytes()[:4096] == bytes([byte]) * 4096


@pytest.mark.parametrize("opt", [["--pattern", "256"], ["--pattern", "-1"], ["-c", "0x"],
                                 ["-d", "abc"]])
def test_bench_bad_numbers_refused(vessel, tmp_path, opt):
    img = tmp_path / "b.raw"
    sh(vessel, "img", "create", "-f", "raw", img, "64K")
    sh(vessel, "img", "bench", *opt, "-f", "raw", img, ok=(1,))


@pytest.mark.parametrize("args", [["-O", "qcow2"], ["-O", "qcow2", "-o", "cluster_size=512"],
                                  ["-O", "qcow2", "-o", "cluster_size=2M"], ["-O", "raw"],
                                  ["-c", "-O", "qcow2"]])
def test_convert_skips_zero_extents_exactly(vessel, tmp_path, args):
    """convert skips what reads as zeros extent by extent: data extents that
    start and end inside clusters, at every cluster size, copy exactly."""
    need_qemu()
    import random
    rnd = random.Random(11)
    src = tmp_path / "frag.raw"
    with open(src, "wb") as f:
        f.truncate(24 << 20)
        for _ in range(1500):
            f.seek(rnd.randrange(0, 24 << 20))
            f.write(rnd.randbytes(rnd.randrange(1, 9000)))
    out = tmp_path / "out"
    sh(vessel, "img", "convert", "-f", "raw", *args, src, out)
    fmt = args[args.index("-O") + 1]
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", fmt, src, out)
    if fmt == "qcow2":
        sh(QEMU_IMG, "check", out)
        back = tmp_path / "back.raw"
        sh(vessel, "img", "convert", "-f", "qcow2", "-O", "raw", out, back)
        got, want = back.read_bytes(), src.read_bytes()
        assert got[:len(want)] == want and not got[len(want):].strip(b"\0")
        assert len(got) == (len(want) + 511) // 512 * 512  # whole sectors, as qemu-img


def test_snapshot_cycles_keep_the_file_end_down(vessel, tmp_path):
    """100 snapshot create/delete cycles: each commit reuses the space the
    previous one freed, so the file ends where qemu-img's does (it used to
    grow by every commit's metadata: 60 MB against qemu-img's 7 MB)."""
    need_qemu()
    ends = {}
    for tool in ("vessel", "qemu"):
        img = tmp_path / f"{tool}.qcow2"
        sh(QEMU_IMG, "create", "-q", "-f", "qcow2", img, "1G")
        sh(QEMU_IO, "-c", "write -P 1 0 4M", img)
        for i in range(100):
            if tool == "vessel":
                sh(vessel, "img", "snapshot", "-c", "s", "-f", "qcow2", img)
                sh(vessel, "img", "snapshot", "-d", "s", "-f", "qcow2", img)
            else:
                sh(QEMU_IMG, "snapshot", "-c", "s", img)
                sh(QEMU_IMG, "snapshot", "-d", "s", img)
        sh(QEMU_IMG, "check", img)
        ends[tool] = img.stat().st_size
    sh(QEMU_IO, "-c", "read -P 1 0 4M", tmp_path / "vessel.qcow2")
    assert ends["vessel"] <= ends["qemu"] + (256 << 10), ends
