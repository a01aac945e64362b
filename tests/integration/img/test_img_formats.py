"""Disks from other hypervisors (issue 18): each format and subformat read and
written by vessel, with qemu-img as the referee. Images carry data at
scattered offsets, zero runs and unallocated runs."""
import json
import os
import pathlib
import random
import struct
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from imgutil import QEMU_IMG, bench_offsets, need_qemu, random_raw, sh  # noqa: E402

SIZE = 24 << 20
# (format, -o options for create/convert): every subformat we write
VARIANTS = [("vdi", ""), ("vdi", "static=on")] + [
    ("vmdk", f"subformat={s}") for s in ("monolithicSparse", "monolithicFlat",
                                          "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
                                          "streamOptimized")] + [
    ("vhdx", "subformat=dynamic"), ("vhdx", "subformat=fixed"),
    ("vhdx", "block_size=1M,log_size=2M")]
FORMATS = sorted({f for f, _ in VARIANTS})


def scattered_raw(path, seed):
    """Random data in some chunks, explicit zeros in others, holes elsewhere,
    including a run that ends off a block boundary."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for off in range(0, SIZE, 192 << 10):
            kind = rnd.random()
            n = rnd.choice([512, 4096, 65536, 100000])
            f.seek(off + rnd.choice([0, 512, 3072]))
            if kind < 0.35:
                f.write(rnd.randbytes(n))
            elif kind < 0.5:
                f.write(bytes(n))
        f.seek(SIZE - 700)
        f.write(rnd.randbytes(700))
    return path


def vid(variant):
    return f"{variant[0]}-{variant[1] or 'default'}"


def opts(o):
    return ["-o", o] if o else []


@pytest.mark.parametrize("variant", VARIANTS, ids=vid)
def test_qemu_made_image_reads_byte_for_byte(vessel, tmp_path, variant):
    need_qemu()
    fmt, o = variant
    raw = scattered_raw(tmp_path / "src.raw", seed=fmt + o)
    img = tmp_path / f"q.{fmt}"
    sh(QEMU_IMG, "convert", "-f", "raw", "-O", fmt, *opts(o), raw, img)
    sh(vessel, "img", "compare", "-f", "raw", "-F", fmt, raw, img)
    out = tmp_path / "back.raw"
    sh(vessel, "img", "convert", "-f", fmt, "-O", "raw", img, out)
    assert out.read_bytes() == raw.read_bytes()
    info = json.loads(sh(vessel, "img", "info", "--output", "json", img).stdout)
    qinfo = json.loads(sh(QEMU_IMG, "info", "--output", "json", img).stdout)
    for k in ("virtual-size", "format", "cluster-size", "dirty-flag"):
        assert info.get(k) == qinfo.get(k), k
    if fmt == "vmdk":  # the same extents, create type and parent
        ours, theirs = info["format-specific"]["data"], qinfo["format-specific"]["data"]
        for d in (ours, theirs):
            d.pop("cid")
        assert ours == theirs


@pytest.mark.parametrize("variant", VARIANTS, ids=vid)
def test_vessel_written_image_passes_qemu(vessel, tmp_path, variant):
    need_qemu()
    fmt, o = variant
    raw = scattered_raw(tmp_path / "src.raw", seed="w" + fmt + o)
    img = tmp_path / f"v.{fmt}"
    sh(vessel, "img", "convert", "-f", "raw", "-O", fmt, *opts(o), raw, img)
    sh(QEMU_IMG, "check", "-f", fmt, img)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", fmt, raw, img)
    # in-place writes over allocated and unallocated blocks, then qemu reads them
    sh(vessel, "img", "bench", "-w", "-f", fmt, "-c", "300", "-s", "3000", "-S", "77777",
       "-o", "1000", "--pattern", "0x5c", img)
    expect = bytearray(raw.read_bytes())
    for off in bench_offsets(300, 3000, 77777, 1000, SIZE):
        expect[off:off + 3000] = b"\x5c" * 3000
    sh(QEMU_IMG, "check", "-f", fmt, img)
    view = tmp_path / "view.raw"
    sh(QEMU_IMG, "convert", "-f", fmt, "-O", "raw", img, view)
    assert view.read_bytes() == bytes(expect)
    if fmt == "vhdx":
        return  # qemu-img 7.2 has no block status for VHDX: it maps it all as data
    # the map agrees with qemu-img's (qemu 7.2 prints no "compressed")
    ours = json.loads(sh(vessel, "img", "map", "--output", "json", img).stdout)
    theirs = json.loads(sh(QEMU_IMG, "map", "--output", "json", "-f", fmt, img).stdout)
    for e in ours:
        e.pop("compressed", None)
    assert ours == theirs


@pytest.mark.parametrize("dst", ["raw", "qcow2"] + FORMATS)
@pytest.mark.parametrize("src", ["raw", "qcow2"] + FORMATS)
def test_conversions_between_every_pair_keep_the_data(vessel, tmp_path, src, dst):
    need_qemu()
    raw = scattered_raw(tmp_path / "orig.raw", seed=f"{src}>{dst}")
    a = tmp_path / f"a.{src}"
    sh(QEMU_IMG, "convert", "-f", "raw", "-O", src, raw, a)
    b = tmp_path / f"b.{dst}"
    sh(vessel, "img", "convert", "-f", src, "-O", dst, a, b)
    if dst != "raw":
        sh(QEMU_IMG, "check", "-f", dst, b)
    sh(QEMU_IMG, "compare", "-f", "raw", "-F", dst, raw, b)
    sh(vessel, "img", "compare", "-f", src, "-F", dst, a, b)


@pytest.mark.parametrize("fmt", FORMATS)
def test_thin_stays_thin(vessel, tmp_path, fmt):
    """A mostly empty disk converted by vessel allocates about its data, not
    its virtual size (thin provisioning), and no more than qemu-img's."""
    need_qemu()
    raw = random_raw(tmp_path / "src.raw", SIZE, seed=9, fill=0.1)
    ours, theirs = tmp_path / f"v.{fmt}", tmp_path / f"q.{fmt}"
    sh(vessel, "img", "convert", "-O", fmt, raw, ours)
    sh(QEMU_IMG, "convert", "-O", fmt, raw, theirs)
    used = os.stat(ours).st_blocks * 512
    assert used <= os.stat(theirs).st_blocks * 512
    assert used < SIZE // 2


def test_vmdk_split_disk_across_extents(vessel, tmp_path):
    """A 5 GiB twoGbMaxExtentSparse disk (three extents, thin): writes that
    straddle the extent boundaries read back in qemu-img, and qemu-img's
    writes read back in vessel."""
    need_qemu()
    img = tmp_path / "split.vmdk"
    sh(vessel, "img", "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", img, "5G")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "split-s001.vmdk", "split-s002.vmdk", "split-s003.vmdk", "split.vmdk"]
    two = 2 << 30
    for off in (two - 4096, 2 * two - 512, 5 * (1 << 30) - 65536):
        sh(vessel, "img", "bench", "-w", "-f", "vmdk", "-c", "1", "-s", "8192", "-o",
           str(off), "--pattern", "0x3c", img)
    sh(QEMU_IMG, "check", img)
    for off in (two - 4096, 2 * two - 512):
        p = sh("qemu-io", "-f", "vmdk", "-c", f"read -P 0x3c {off} 8192", img)
        assert "Pattern verification failed" not in p.stdout
    sh("qemu-io", "-f", "vmdk", "-c", f"write -P 0x4d {two + 12345} 70000", img)
    raw = tmp_path / "check.raw"
    with open(raw, "wb") as f:
        f.truncate(5 << 30)
        for off, n, b in ((two - 4096, 8192, 0x3c), (2 * two - 512, 8192, 0x3c),
                          (5 * (1 << 30) - 65536, 8192, 0x3c), (two + 12345, 70000, 0x4d)):
            f.seek(off)
            f.write(bytes([b]) * n)
    sh(vessel, "img", "compare", "-f", "raw", "-F", "vmdk", raw, img)
    assert sum(p.stat().st_blocks for p in tmp_path.glob("split*")) * 512 < 8 << 20


def test_vdi_static_is_preallocated_metadata(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "s.vdi"
    sh(vessel, "img", "create", "-f", "vdi", "-o", "static=on", img, "8M")
    with open(img, "rb") as f:
        f.seek(0x4C)
        assert int.from_bytes(f.read(4), "little") == 2  # VDI_TYPE_STATIC
    full = tmp_path / "f.vdi"
    sh(vessel, "img", "create", "-f", "vdi", "-o", "static=on,preallocation=full", full, "8M")
    assert os.stat(full).st_blocks * 512 >= 8 << 20
    for p in (img, full):
        sh(QEMU_IMG, "check", "-f", "vdi", p)
        assert "file format: vdi" in sh(QEMU_IMG, "info", p).stdout


@pytest.mark.parametrize("args,msg", [
    (["-f", "vdi", "-o", "cluster_size=64k"], "Invalid parameter 'cluster_size'"),
    (["-f", "vdi", "-o", "preallocation=metadata"], "Unsupported preallocation mode: metadata"),
    (["-f", "qcow2", "-o", "static=on"], "Invalid parameter 'static'"),
    (["-f", "vdi", "-b", "base.raw", "-F", "raw"], "Invalid parameter 'backing_file'"),
    (["-f", "vmdk", "-o", "static=on"], "Invalid parameter 'static'"),
    (["-f", "vmdk", "-o", "preallocation=metadata"], "Unsupported preallocation mode: metadata"),
])
def test_create_refusals_leave_nothing(vessel, tmp_path, args, msg):
    img = tmp_path / "x.img"
    p = sh(vessel, "img", "create", *args, img, "1M", ok=(1,))
    assert msg in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not img.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_resize_refused_as_qemu(vessel, tmp_path, fmt):
    img = tmp_path / f"r.{fmt}"
    sh(vessel, "img", "create", "-f", fmt, img, "4M")
    p = sh(vessel, "img", "resize", img, "8M", ok=(1,))
    assert "does not support resize" in p.stderr
    assert json.loads(sh(vessel, "img", "info", "--output", "json", img).stdout)[
        "virtual-size"] == 4 << 20


CORPUS = pathlib.Path(__file__).parents[2] / "fuzz" / "corpus"


def corpus(fmt):
    """VHDX's seeds are generated by the build (4 MiB each)."""
    if fmt == "vhdx":
        return pathlib.Path(os.environ.get("VESSEL_BUILD", "build")) / "tests" / "fuzz" / \
            "corpus-vhdx"
    return CORPUS / fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_images_refused_in_one_line(vessel, fmt):
    bad = sorted(corpus(fmt).glob("bad-*"))
    assert bad
    for img in bad:
        t = time.monotonic()
        p = sh(vessel, "img", "info", "-f", fmt, img, ok=(1,))
        assert time.monotonic() - t < 5, img
        assert len(p.stderr.strip().splitlines()) == 1, (img, p.stderr)
        assert str(img.parent) in p.stderr


def test_vdi_corrupt_map_found_and_repaired(vessel, tmp_path):
    need_qemu()
    img = tmp_path / "c.vdi"
    sh(vessel, "img", "create", "-f", "vdi", img, "4M")
    sh(vessel, "img", "bench", "-w", "-f", "vdi", "-c", "2", "-s", "4096", "-S", str(1 << 20),
       img)
    with open(img, "r+b") as f:  # map entry 2 -> data block 0 (shared)
        f.seek(512 + 8)
        f.write((0).to_bytes(4, "little"))
    q = sh(QEMU_IMG, "check", "-f", "vdi", img, ok=(2,))
    p = sh(vessel, "img", "check", img, ok=(2,))
    assert "errors were found" in p.stdout and "ERROR" in q.stderr + q.stdout
    sh(vessel, "img", "check", "-r", "all", img)
    sh(QEMU_IMG, "check", "-f", "vdi", img)


def _kill_writer(vessel, img, fmt, rnd, pattern):
    size = rnd.choice([4096, 65536, 300000])
    step = size + rnd.choice([0, 4096, 1 << 20])
    count = (SIZE - size) // step
    p = subprocess.Popen([vessel, "img", "bench", "-w", "-f", fmt, "-c", str(count), "-s",
                          str(size), "-S", str(step), "-d", str(rnd.choice([1, 4])),
                          "--flush-interval", str(rnd.choice([1, 4])), "--pattern",
                          str(pattern), "--log-flushes", str(img)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(rnd.uniform(0.005, 0.15))
    p.kill()
    out, _ = p.communicate()
    flushed = max([int(ln.split()[1]) for ln in out.decode().splitlines()
                   if ln.startswith("flushed ")] or [0])
    return bench_offsets(count, size, step, 0, SIZE), size, flushed


@pytest.mark.parametrize("fmt", FORMATS)
def test_sigkilled_writer_leaves_an_image_qemu_accepts(vessel, tmp_path, fmt):
    """SIGKILL at random points while writing: qemu-img check finds no error
    and every request acknowledged before the last completed flush reads back."""
    need_qemu()
    rnd = random.Random(f"kill-{fmt}")
    img = tmp_path / f"k.{fmt}"
    for i in range(int(os.environ.get("VESSEL_CRASH_ROUNDS", "12"))):
        pattern = 1 + i
        sh(vessel, "img", "create", "-f", fmt, img, str(SIZE))
        offsets, size, flushed = _kill_writer(vessel, img, fmt, rnd, pattern)
        p = sh(QEMU_IMG, "check", "-f", fmt, img, ok=(0,))
        assert "ERROR" not in p.stdout + p.stderr
        view = tmp_path / "view.raw"
        sh(QEMU_IMG, "convert", "-f", fmt, "-O", "raw", img, view)
        with open(view, "rb") as f:
            for k in range(flushed):
                f.seek(offsets[k])
                assert f.read(size) == bytes([pattern]) * size, f"round {i}: request {k} lost"
        view.unlink()


def _crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def _sum(buf):
    return _crc32c(bytes(buf[:4]) + bytes(4) + bytes(buf[8:]))


def _dirty_vhdx(path):
    """Adds a log entry, as a writer that crashed after logging would leave
    it, that writes 0xEE over the first 4 KiB of block 0's data and zeroes
    the next 4 KiB, and points the current header at the log."""
    d = bytearray(path.read_bytes())
    heads = [(struct.unpack_from("<Q", d, o + 8)[0], o) for o in (0x10000, 0x20000)]
    seq, cur = max(heads)
    log_len, log_off = struct.unpack_from("<IQ", d, cur + 68)
    bat_off = struct.unpack_from("<Q", d, 0x30000 + 16 + 16)[0]
    block0 = struct.unpack_from("<Q", d, bat_off)[0] & ~((1 << 20) - 1)
    assert block0, "block 0 must be present"
    guid = bytes(range(1, 17))
    eseq = 7
    entry = bytearray(8192)  # descriptor sector + one data sector
    struct.pack_into("<4sIIIQII16sQQ", entry, 0, b"loge", 0, 8192, 0, eseq, 2, 0, guid,
                     len(d), len(d))
    sector = bytes([0xEE]) * 4096
    struct.pack_into("<4sI8sQQ", entry, 64, b"desc", struct.unpack_from("<I", sector, 4092)[0],
                     sector[:8], block0, eseq)
    struct.pack_into("<4sIQQQ", entry, 96, b"zero", 0, 4096, block0 + 4096, eseq)
    struct.pack_into("<4sI", entry, 4096, b"data", eseq >> 32)
    entry[4096 + 8:4096 + 4092] = sector[8:4092]
    struct.pack_into("<I", entry, 4096 + 4092, eseq & 0xFFFFFFFF)
    struct.pack_into("<I", entry, 4, _sum(entry))
    d[log_off:log_off + 8192] = entry
    other = 0x20000 if cur == 0x10000 else 0x10000
    h = bytearray(d[cur:cur + 4096])
    struct.pack_into("<Q", h, 8, seq + 1)
    h[48:64] = guid
    struct.pack_into("<I", h, 4, _sum(h))
    d[other:other + 4096] = h
    path.write_bytes(bytes(d))
    return block0


def test_vhdx_dirty_log_replayed_as_qemu_does(vessel, tmp_path):
    need_qemu()
    base = tmp_path / "base.vhdx"
    sh(vessel, "img", "create", "-f", "vhdx", "-o", "block_size=1M", base, "8M")
    sh("qemu-io", "-f", "vhdx", "-c", "write -P 0x42 0 65536", base)
    _dirty_vhdx(base)
    ours, theirs = tmp_path / "ours.vhdx", tmp_path / "theirs.vhdx"
    ours.write_bytes(base.read_bytes())
    theirs.write_bytes(base.read_bytes())
    # read-only: refused in one line that says what to do
    p = sh(vessel, "img", "info", ours, ok=(1,))
    assert "log must be replayed" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    sh(vessel, "img", "check", "-r", "all", ours)
    sh(QEMU_IMG, "check", "-r", "all", theirs, ok=(0, 2, 3))
    sh(QEMU_IMG, "compare", "-f", "vhdx", "-F", "vhdx", ours, theirs)
    p = sh("qemu-io", "-f", "vhdx", "-c", "read -P 0xee 0 4096", "-c", "read -P 0 4096 4096",
           "-c", "read -P 0x42 8192 57344", ours)
    assert "Pattern verification failed" not in p.stdout
    sh(QEMU_IMG, "check", ours)
    # the replayed image is clean: it opens read-only now
    sh(vessel, "img", "info", ours)


def test_vhdx_log_writing_outside_refused(vessel, tmp_path):
    img = tmp_path / "bad.vhdx"
    sh(vessel, "img", "create", "-f", "vhdx", "-o", "block_size=1M", img, "8M")
    sh("qemu-io", "-f", "vhdx", "-c", "write -P 0x42 0 4096", img)
    d = bytearray(img.read_bytes())
    _dirty_vhdx(img)
    d = bytearray(img.read_bytes())
    log_off = 1 << 20
    struct.pack_into("<Q", d, log_off + 64 + 16, 4096)  # the descriptor aims at the header area
    struct.pack_into("<I", d, log_off + 4, _sum(d[log_off:log_off + 8192]))
    img.write_bytes(bytes(d))
    before = bytes(d[:1 << 20])
    p = sh(vessel, "img", "check", "-r", "all", img, ok=(1,))
    assert "cannot be replayed" in p.stderr
    assert img.read_bytes()[:1 << 20] == before


@pytest.mark.parametrize("fmt,opts", [
    ("raw", ""), ("qcow2", ""), ("qcow2", "preallocation=metadata"),
    ("vdi", "static=on"), ("vmdk", "subformat=monolithicFlat"), ("vhdx", "subformat=fixed")])
@pytest.mark.parametrize("mode", ["off", "falloc", "full"])
def test_preallocation_thin_and_thick(vessel, tmp_path, fmt, opts, mode):
    """Thin (off) stays small, falloc and full reserve the whole disk, and
    `info` reports what the file really holds. qemu-img 7.2 does the same for
    raw and qcow2; for static VDI, flat VMDK and fixed VHDX it accepts
    falloc/full and leaves the file sparse, where vessel allocates it."""
    need_qemu()
    o = ",".join(x for x in (opts if mode == "off" or "preallocation" not in opts else "",
                             f"preallocation={mode}") if x)
    if "preallocation=metadata" in opts and mode != "off":
        o = f"preallocation={mode}"
    ours, theirs = tmp_path / f"v.{fmt}", tmp_path / f"q.{fmt}"
    size = 16 << 20
    sh(vessel, "img", "create", "-f", fmt, "-o", o, ours, str(size))
    sh(QEMU_IMG, "create", "-q", "-f", fmt, "-o", o, theirs, str(size))
    actual = json.loads(sh(vessel, "img", "info", "--output", "json", ours).stdout)["actual-size"]
    used = sum(p.stat().st_blocks * 512 for p in tmp_path.glob("v*"))
    assert actual <= used  # the descriptor's own file plus its extents
    if mode == "off":
        assert used < size // 2
    else:
        assert used >= size
    qused = sum(p.stat().st_blocks * 512 for p in tmp_path.glob("q*"))
    if fmt in ("raw", "qcow2"):
        assert (used >= size) == (qused >= size), (used, qused)
    if mode == "full":  # zeros written: no extent left unwritten (FIEMAP, where the fs has it)
        assert sum(_unwritten_extents(p) for p in tmp_path.glob("v*")) == 0
    if fmt != "raw":
        sh(QEMU_IMG, "check", ours)


def _unwritten_extents(path):
    p = subprocess.run(["filefrag", "-v", str(path)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"SKIP: filefrag cannot map {path}: {p.stderr.strip()}")
    return p.stdout.count("unwritten")


def test_vmdk_snapshot_chain_both_ways(vessel, tmp_path):
    """A VMDK with a parent (parentFileNameHint/parentCID, what `qemu-img
    create -f vmdk -b` makes): vessel reads qemu-img's child through its
    parent, and a child vessel makes and writes reads the same in qemu-img;
    the parent is never written."""
    need_qemu()
    base = tmp_path / "base.vmdk"
    sh(QEMU_IMG, "create", "-q", "-f", "vmdk", base, "8M")
    sh("qemu-io", "-f", "vmdk", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 100k", base)
    before = base.read_bytes()
    theirs, ours = tmp_path / "q.vmdk", tmp_path / "v.vmdk"
    sh(QEMU_IMG, "create", "-q", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", theirs)
    sh(vessel, "img", "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", ours)
    sh("qemu-io", "-f", "vmdk", "-c", "write -P 0x33 512k 4k", "-c", "write -P 0x44 3200k 70k",
       theirs)
    for off, n, pat in ((524288, 4096, 0x33), (3200 << 10, 70 << 10, 0x44)):
        sh(vessel, "img", "bench", "-w", "-f", "vmdk", "-c", "1", "-s", str(n), "-o", str(off),
           "--pattern", str(pat), ours)
    sh(QEMU_IMG, "check", ours)
    sh(QEMU_IMG, "compare", theirs, ours)
    sh(vessel, "img", "compare", theirs, ours)
    info = sh(vessel, "img", "info", ours).stdout
    assert "backing file: base.vmdk" in info and "backing file format: vmdk" in info
    assert base.read_bytes() == before
    p = sh(vessel, "img", "create", "-f", "vmdk", "-o", "subformat=monolithicFlat", "-b",
           "base.vmdk", "-F", "vmdk", tmp_path / "flat.vmdk", ok=(1,))
    assert "Flat image can't have backing file" in p.stderr
    assert not (tmp_path / "flat.vmdk").exists()
