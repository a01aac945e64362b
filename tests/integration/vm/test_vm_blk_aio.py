"""The disks' asynchronous engines (src/block/aio.h, docs/virtio.md): the
test guest's virtio-blk test (guest/testkernel/test-virtio-blk.c: writes,
flush, write-zeroes, discard, reads) and its virtio-blk-bench (many
requests in flight) run on each engine, `aio=threads` and `aio=io_uring`,
raw and qcow2, through the page cache and with cache=none; `-v` says which
engine each disk got; with io_uring refused by a seccomp filter (as a
container runtime's default profile does) the default falls back to the
thread pool and says why, and `aio=io_uring` is refused in one line."""
import os
import re
import struct
import subprocess

import pytest

from test_vm_blk import (expected_sectors, make_raw, need_qemu_img, passed, qemu_blk_guest,
                         read_sectors)
from vesseltest import BUILD, TESTKERNEL, run, skip

NO_IO_URING = BUILD / "vessel-no-io-uring"


def boot(vessel, accel, disk, test="virtio-blk", wrap=()):
    args = [*wrap, vessel, "vm", "run", "-v", "--accel", accel, "--kernel", TESTKERNEL,
            "--append", f"vessel.test={test}", "--disk", disk]
    return run(args, timeout=300, stdin=open("/dev/null"))


def io_uring_allowed():
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() == "0"
    except FileNotFoundError:
        return True  # older kernels: no switch


def need_io_uring():
    if not io_uring_allowed():
        skip("io_uring is disabled on this host (kernel.io_uring_disabled)")


@pytest.mark.parametrize("aio", ["threads", "io_uring"])
@pytest.mark.parametrize("fmt,cache", [("raw", "writeback"), ("raw", "none"),
                                       ("qcow2", "writeback"), ("qcow2", "none")])
def test_each_engine_holds_what_the_guest_wrote(vessel, accel, tmp_path, aio, fmt, cache):
    if aio == "io_uring":
        need_io_uring()
    disk = tmp_path / f"d.{fmt}"
    if fmt == "raw":
        make_raw(disk, 4 << 20)
    else:
        need_qemu_img()
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "4M"], check=True)
    r = boot(vessel, accel, f"{disk},format={fmt},cache={cache},aio={aio}")
    passed(r)
    assert f"vessel: disk {disk}: aio={aio}\n" in r.stderr, r.stderr
    want = expected_sectors(0, 8192)
    assert read_sectors(disk, fmt, want) == want
    if fmt == "qcow2":
        c = run(["qemu-img", "check", disk])
        assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


@pytest.mark.parametrize("aio", ["threads", "io_uring"])
def test_many_requests_in_flight(vessel, kvm, tmp_path, aio):
    """virtio-blk-bench: 1 MiB sequential writes and reads, then 4 KiB
    random reads one at a time and 16 at a time; the guest checks what it
    reads back."""
    if aio == "io_uring":
        need_io_uring()
    disk = tmp_path / "bench.raw"
    make_raw(disk, 48 << 20)
    r = boot(vessel, "kvm", f"{disk},format=raw,cache=none,aio={aio}", test="virtio-blk-bench:32")
    assert "virtio-blk-bench: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stderr
    assert f"aio={aio}" in r.stderr


def bench_pattern_mib():
    """The MiB virtio-blk-bench-user and virtio-blk-ab-user write over and
    over (test-virtio-blk.c's upat_fill): word w is (w + 1) * 0x9E37...15."""
    mul, mask = 0x9E3779B97F4A7C15, (1 << 64) - 1
    return b"".join(struct.pack("<Q", ((w + 1) * mul) & mask) for w in range(1 << 17))


def assert_bench_pattern(data, mib):
    """The first mib MiB of data are the pattern MiB, what follows is zeros."""
    pat = bench_pattern_mib()
    for i in range(mib):
        assert data[i << 20:(i + 1) << 20] == pat, f"MiB {i} is not the pattern"
    assert data[mib << 20:] == bytes(len(data) - (mib << 20))


def read_flat(image, tmp_path):
    """The guest-visible bytes of a qcow2 image (qemu-img, an independent
    reader)."""
    out = tmp_path / "flat.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", str(image),
                    str(out)], check=True)
    return out.read_bytes()


@pytest.mark.parametrize("aio", ["threads", "io_uring"])
def test_cpl3_request_loop(vessel, kvm, tmp_path, aio):
    """virtio-blk-bench-user: virtio-blk-bench's passes with the requests
    submitted and the used ring polled at CPL3 (bench/blk.py's default:
    under KVM-PVM the CPL0 loop times the instruction emulator). Every
    request completes with status OK on its own slot, the guest checks what
    its reads bring back (the last MiB of the sequential reads, each random
    block against its sector), the host file holds the pattern in each of
    the first 32 MiB and zeros after, and the device saw exactly the
    requests the guest counted."""
    if aio == "io_uring":
        need_io_uring()
    disk = tmp_path / "bench.raw"
    make_raw(disk, 48 << 20)
    r = boot(vessel, "kvm", f"{disk},format=raw,cache=none,aio={aio}",
             test="virtio-blk-bench-user:32")
    assert "virtio-blk-bench-user: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stderr
    assert re.search(r"virtio-blk-bench-user: MiB=32 seq-write-MBps=[1-9]\d* seq-read-MBps=[1-9]"
                     r"\d* rand-read-4k-iops=[1-9]\d* rand-read-4k-qd16-iops=[1-9]", r.stdout), \
        r.stdout
    assert "virtio-blk-bench-user: requests=32/32/20000/20000 kicks=" in r.stdout, r.stdout
    assert " data checked\n" in r.stdout
    if aio == "io_uring":
        # the 32 O_DIRECT writes, one at a time, each find a worker free:
        # mapped by the ring, issued by the worker (src/block/aio-uring.c)
        assert (f"vessel: disk {disk}: 40032 requests on io_uring, 32 O_DIRECT writes mapped "
                "for the pool, 1 on the pool\n") in r.stderr, r.stderr
    assert_bench_pattern(disk.read_bytes(), 32)


def test_cpl3_request_loop_runs_the_passes_asked_for(vessel, kvm, tmp_path):
    """virtio-blk-bench-user:MiB/PASSES/N (bench/blk.py --passes, --rand):
    only the passes named run (the others print 0), with N random reads
    each; the device saw exactly those requests; a pass letter that is not
    one fails the test in one line."""
    need_io_uring()
    disk = tmp_path / "bench.raw"
    make_raw(disk, 48 << 20)
    r = boot(vessel, "kvm", f"{disk},format=raw,cache=none,aio=io_uring",
             test="virtio-blk-bench-user:32/wq/100")
    assert "virtio-blk-bench-user: PASS" in r.stdout, r.stdout + r.stderr
    assert re.search(r"virtio-blk-bench-user: MiB=32 seq-write-MBps=[1-9]\d* seq-read-MBps=0 "
                     r"rand-read-4k-iops=0 rand-read-4k-qd16-iops=[1-9]", r.stdout), r.stdout
    assert "virtio-blk-bench-user: requests=32/0/0/100 kicks=" in r.stdout, r.stdout
    assert (f"vessel: disk {disk}: 100 requests on io_uring, 32 O_DIRECT writes mapped "
            "for the pool, 1 on the pool\n") in r.stderr, r.stderr
    assert_bench_pattern(disk.read_bytes(), 32)
    r = boot(vessel, "kvm", f"{disk},format=raw", test="virtio-blk-bench-user:32/wx")
    assert "virtio-blk-bench-user: FAIL virtio-blk-bench-user: pass 'x' is none of w, r, k, q" \
        in r.stdout, r.stdout


def test_cpl3_request_loop_against_qemus_device(kvm, tmp_path):
    """The same guest test against QEMU's virtio-blk-pci under kvm (the
    anchor bench/blk.py times it against): it passes, and the host file
    holds the same bytes."""
    disk = tmp_path / "q.raw"
    make_raw(disk, 48 << 20)
    r = qemu_blk_guest(disk, "virtio-blk-bench-user:32", "kvm", 256, ",cache=none,aio=threads",
                       300)
    assert "virtio-blk-bench-user: PASS" in r.stdout, r.stdout + r.stderr
    assert "virtio-blk-bench-user: requests=32/32/20000/20000 kicks=" in r.stdout, r.stdout
    assert_bench_pattern(disk.read_bytes(), 32)


@pytest.mark.parametrize("test", ["virtio-blk-ab", "virtio-blk-ab-user"])
def test_allocated_qcow2_takes_the_ring_as_raw_does(vessel, kvm, tmp_path, test):
    """virtio-blk-ab (bench/blk.py's qcow2/raw comparison in one VM): a raw
    disk and a qcow2 disk whose clusters are all allocated, driven in
    alternating slices. With io_uring every read of both goes to the ring
    and every write is mapped by it, the qcow2 one's included (its driver
    maps allocated clusters for the ring as raw does; the O_DIRECT writes
    are then issued by a free pool worker at that place, not through the
    driver), and only each disk's flush takes the pool through the driver;
    `-v` reports the counts when the VM exits. virtio-blk-ab-user does the
    same from CPL3, and both disks then hold its pattern."""
    need_io_uring()
    need_qemu_img()
    raw, qcow2 = tmp_path / "a.raw", tmp_path / "b.qcow2"
    make_raw(raw, 48 << 20)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata",
                    str(qcow2), "48M"], check=True)
    r = run([vessel, "vm", "run", "-v", "--accel", "kvm", "--kernel", TESTKERNEL,
             "--append", f"vessel.test={test}:32",
             "--disk", f"{raw},format=raw,cache=none,aio=io_uring",
             "--disk", f"{qcow2},format=qcow2,cache=none,aio=io_uring"],
            timeout=300, stdin=open("/dev/null"))
    assert f"{test}: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stderr
    for d in ("vda", "vdb"):
        assert f"{test}: {d} MiB=32 seq-write-MBps=" in r.stdout, r.stdout
        if test.endswith("-user"):
            assert f"{test}: {d} requests=32/32/20000/20000 kicks=" in r.stdout, r.stdout
    if test.endswith("-user"):
        assert_bench_pattern(raw.read_bytes(), 32)
        assert_bench_pattern(read_flat(qcow2, tmp_path), 32)
    # 32 sequential 1 MiB reads and 2 x 20000 random 4 KiB reads each on the
    # ring, the 32 1 MiB writes mapped the same way for both (a worker is
    # free for each: the guest has one in flight)
    for disk in (raw, qcow2):
        assert (f"vessel: disk {disk}: 40032 requests on io_uring, 32 O_DIRECT writes mapped "
                "for the pool, 1 on the pool\n") in r.stderr, r.stderr
    c = run(["qemu-img", "check", qcow2])
    assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


def test_default_is_io_uring_where_allowed(vessel, kvm, tmp_path):
    need_io_uring()
    disk = tmp_path / "a.raw"
    make_raw(disk, 1 << 20)
    r = boot(vessel, "kvm", f"{disk},format=raw")
    passed(r)
    assert f"vessel: disk {disk}: aio=io_uring\n" in r.stderr, r.stderr


def test_fallback_to_threads_when_io_uring_is_refused(vessel, kvm, tmp_path):
    disk = tmp_path / "a.raw"
    make_raw(disk, 1 << 20)
    r = boot(vessel, "kvm", f"{disk},format=raw,cache=none", wrap=[NO_IO_URING])
    passed(r)
    assert f"vessel: disk {disk}: aio=threads (io_uring not supported)\n" in r.stderr, r.stderr
    want = expected_sectors(0, 2048)
    assert read_sectors(disk, "raw", want) == want
    # asked for by name, it is an error: one line, and no guest ran
    r = boot(vessel, "kvm", f"{disk},format=raw,aio=io_uring", wrap=[NO_IO_URING])
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("vessel: accelerator")]
    assert len(lines) == 1 and "aio=io_uring" in lines[0] and str(disk) in lines[0], r.stderr
    assert "vessel-test" not in r.stdout


def test_unknown_engine_is_one_line(vessel, tmp_path):
    disk = tmp_path / "a.raw"
    make_raw(disk, 1 << 20)
    r = run([vessel, "vm", "run", "--accel", "emu", "--kernel", TESTKERNEL,
             "--disk", f"{disk},aio=native"], stdin=open("/dev/null"))
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert "aio engine 'native'" in r.stderr, r.stderr
    assert os.path.getsize(disk) == 1 << 20


def guest_ram_flags(pid, mib):
    """VmFlags of the VMM's guest RAM mapping (the one of mib MiB)."""
    with open(f"/proc/{pid}/smaps") as f:
        lines = f.read().splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("Size:") and int(ln.split()[1]) >= mib * 1024:
            for rest in lines[i:]:
                if rest.startswith("VmFlags:"):
                    return rest.split()[1:]
    raise AssertionError("no guest RAM mapping in smaps")


@pytest.mark.parametrize("cache,huge", [("writeback", False), ("none", True),
                                        ("directsync", True)])
def test_guest_ram_on_huge_pages_with_a_direct_disk(vessel, kvm, tmp_path, cache, huge):
    """A disk that bypasses the host page cache gets the guest RAM madvised
    for transparent huge pages (O_DIRECT into scattered 4 KiB pages is 2-3x
    slower here); otherwise it keeps 4 KiB pages."""
    from test_vm_blk import wait_for_output
    disk = tmp_path / "a.raw"
    make_raw(disk, 1 << 20)
    env = {k: v for k, v in os.environ.items() if k != "VESSEL_MEM_BACKING"}
    p = subprocess.Popen([vessel, "vm", "run", "--accel", "kvm", "--mem", "320M", "--kernel",
                          TESTKERNEL, "--append", "vessel.test=hang",
                          "--disk", f"{disk},format=raw,cache={cache}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for_output(p, b"vessel-test: start hang", 60)
        assert ("hg" in guest_ram_flags(p.pid, 320)) == huge
    finally:
        p.kill()
        p.communicate()
