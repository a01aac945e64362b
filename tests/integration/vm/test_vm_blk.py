"""virtio-blk with the test guest (docs/virtio.md), under kvm and emu: the
guest's driver (guest/testkernel/test-virtio-blk.c) writes a known pattern
through `--disk`, flushes and reads it back; these tests check the bytes on
the host file (raw and a qcow2 linked clone, with `qemu-img check` clean and
the base unchanged), disks in order with their sizes, a read-only disk that
refuses writes, and QEMU-compatible image locks between processes."""
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import time

import pytest

from vesseltest import TESTKERNEL, run, skip

SECTOR = 512


def boot(vessel, accel, *disks, test="virtio-blk"):
    args = [vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
            f"vessel.test={test}"]
    for d in disks:
        args += ["--disk", d]
    return run(args, timeout=180, stdin=open("/dev/null"))


def pattern(k, s):
    """Sector s of disk k as the guest writes it (test-virtio-blk.c)."""
    return bytes((((s * 31 + j + k * 101) & 0xff) ^ 0xa5) for j in range(SECTOR))


def expected_sectors(k, capacity):
    """What a writable disk holds afterwards: the pattern at 0-7 and at the
    last 8 sectors, zeros at 16-23 (write-zeroes)."""
    out = {s: pattern(k, s) for s in range(8)}
    out.update({s: pattern(k, s) for s in range(capacity - 8, capacity)})
    out.update({s: bytes(SECTOR) for s in range(16, 24)})
    return out


def passed(r):
    assert "vessel-test: virtio-blk: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr


def read_sectors(path, fmt, sectors):
    """The guest-visible bytes of the given sectors, read with qemu-img (an
    independent reader) for qcow2 and directly for raw."""
    if fmt == "raw":
        with open(path, "rb") as f:
            data = f.read()
    else:
        out = str(path) + ".flat"
        subprocess.run(["qemu-img", "convert", "-U", "-f", fmt, "-O", "raw", str(path), out],
                       check=True)
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
    return {s: data[s * SECTOR:(s + 1) * SECTOR] for s in sectors}


def qemu_blk_guest(disk, test, accel, mib, drive_opts, timeout):
    """The test guest's `test` under QEMU (q35, `accel`, `mib` MiB) with the
    raw `disk` as its modern virtio-blk-pci (`drive_opts`: more -drive
    options): an independent device for the guest's driver and benches."""
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")
    return run(["qemu-system-x86_64", "-accel", accel, "-M", "q35", "-m", str(mib),
                "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio",
                "-no-reboot", "-device", "isa-debug-exit,iobase=0x501,iosize=1",
                "-kernel", TESTKERNEL, "-append", f"vessel.test={test}",
                "-drive", f"file={disk},format=raw,if=none,id=d0{drive_opts}",
                "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
               timeout=timeout, stdin=open("/dev/null"))


def make_raw(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


def need_qemu_img():
    if not shutil.which("qemu-img"):
        skip("qemu-img is not installed")


def test_raw_disk_holds_what_the_guest_wrote(vessel, accel, tmp_path):
    disk = tmp_path / "a.raw"
    make_raw(disk, 1 << 20)
    r = boot(vessel, accel, f"{disk},format=raw")
    passed(r)
    assert "vda: slot 1 capacity 2048 sectors blk_size 512 ro 0 serial 'a.raw'" in r.stdout
    want = expected_sectors(0, 2048)
    assert read_sectors(disk, "raw", want) == want
    assert os.path.getsize(disk) == 1 << 20  # never grown
    # the discarded block (sectors 64-71) is a hole again: thin stays thin
    assert "vda: discarded 64-71 and 128-255" in r.stdout, r.stdout
    fd = os.open(disk, os.O_RDONLY)
    try:
        assert os.lseek(fd, 64 * SECTOR, os.SEEK_DATA) >= 72 * SECTOR
        assert os.lseek(fd, 128 * SECTOR, os.SEEK_DATA) >= 256 * SECTOR
    finally:
        os.close(fd)


def test_qcow2_linked_clone(vessel, accel, tmp_path):
    need_qemu_img()
    base, clone = tmp_path / "base.qcow2", tmp_path / "clone.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "4M"], check=True)
    subprocess.run(["qemu-io", "-c", "write -P 0x77 0 64k", str(base)], check=True,
                   capture_output=True)
    subprocess.run([vessel, "img", "create", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
                    str(clone)], check=True, capture_output=True)
    before = hashlib.sha256(base.read_bytes()).hexdigest()
    r = boot(vessel, accel, f"{clone},format=qcow2")
    passed(r)
    assert "vda: slot 1 capacity 8192 sectors" in r.stdout, r.stdout
    want = expected_sectors(0, 8192)
    # sector 8 was never written: the backing file's data shows through
    want[8] = b"\x77" * SECTOR
    assert read_sectors(clone, "qcow2", want) == want
    assert hashlib.sha256(base.read_bytes()).hexdigest() == before
    # the discarded cluster (64 KiB at 64 KiB) holds no data in the clone
    assert "vda: discarded 64-71 and 128-255" in r.stdout, r.stdout
    m = json.loads(run(["qemu-img", "map", "--output=json", clone]).stdout)
    at = [e for e in m if e["start"] <= 65536 < e["start"] + e["length"]]
    assert at and not at[0]["data"], m
    for img in (clone, base):
        c = run(["qemu-img", "check", img])
        assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


@pytest.mark.parametrize("fmt", ["vdi", "vmdk", "vhdx"])
def test_foreign_disk(vessel, accel, tmp_path, fmt):
    """VirtualBox, VMware and Hyper-V disks (issue 18) boot as virtio-blk disks: the
    guest's writes land where qemu-img reads them and the image stays clean."""
    need_qemu_img()
    disk = tmp_path / f"other.{fmt}"
    subprocess.run([vessel, "img", "create", "-f", fmt, str(disk), "4M"], check=True,
                   capture_output=True)
    r = boot(vessel, accel, f"{disk},format={fmt}")
    passed(r)
    assert "vda: slot 1 capacity 8192 sectors" in r.stdout, r.stdout
    want = expected_sectors(0, 8192)
    assert read_sectors(disk, fmt, want) == want
    c = run(["qemu-img", "check", "-f", fmt, disk])
    assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


def test_two_disks_in_order_and_a_read_only_one(vessel, accel, tmp_path):
    a, b = tmp_path / "first.raw", tmp_path / "second.raw"
    make_raw(a, 3 << 20)
    b.write_bytes(b"read-only!" + bytes((1 << 20) - 10))
    before = b.read_bytes()
    r = boot(vessel, accel, str(a), f"{b},ro")
    passed(r)
    out = r.stdout
    assert "vda: slot 1 capacity 6144 sectors blk_size 512 ro 0 serial 'first.raw'" in out, out
    assert "vdb: slot 2 capacity 2048 sectors blk_size 512 ro 1 serial 'second.raw'" in out, out
    assert ("vdb: read-only: write refused (IOERR); sector 0: "
            "72 65 61 64 2d 6f 6e 6c") in out, out
    assert b.read_bytes() == before
    want = expected_sectors(0, 6144)
    assert read_sectors(a, "raw", want) == want


def test_without_a_disk_the_guest_finds_none(vessel, accel):
    r = boot(vessel, accel)
    assert "virtio-blk: FAIL no virtio-blk" in r.stdout, r.stdout
    assert r.returncode == 1


def wait_for_output(proc, needle, timeout):
    """Reads proc's stdout until needle shows (the VM opened its disks
    before its guest printed anything)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and proc.poll() is None, seen
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            seen += os.read(proc.stdout.fileno(), 4096)


def test_a_disk_in_use_is_refused_unless_read_only(vessel, kvm, tmp_path):
    disk = tmp_path / "busy.raw"
    make_raw(disk, 1 << 20)
    holder = subprocess.Popen([vessel, "vm", "run", "--accel", "kvm", "--kernel", TESTKERNEL,
                               "--append", "vessel.test=hang", "--disk", f"{disk},format=raw"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_output(holder, b"vessel-test: start hang", 60)
        r = boot(vessel, "kvm", f"{disk},format=raw")
        assert r.returncode != 0
        line = r.stderr.strip()
        assert "\n" not in line and 'Failed to get "write" lock' in line, r.stderr
        assert "vessel-test" not in r.stdout  # refused before the guest ran
        # read-only shares the image: the guest reads it and cannot write
        r = boot(vessel, "kvm", f"{disk},format=raw,ro")
        passed(r)
        assert "vda: read-only: write refused (IOERR)" in r.stdout
    finally:
        holder.send_signal(signal.SIGTERM)
        try:
            holder.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.communicate()


def test_disk_errors_are_one_line(vessel, tmp_path):
    missing = tmp_path / "missing.raw"
    r = boot(vessel, "emu", str(missing))
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert str(missing) in r.stderr, r.stderr
    bad = tmp_path / "x.raw"
    make_raw(bad, 65536)
    r = boot(vessel, "emu", f"{bad},format=qed")
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert "format=qed" in r.stderr, r.stderr


def test_probed_raw_cannot_become_qcow2(vessel, tmp_path):
    """A raw disk opened without format= must not let the guest write a
    qcow2 header into sector 0 (the next probe would trust it)."""
    disk = tmp_path / "probed.raw"
    make_raw(disk, 1 << 20)
    r = boot(vessel, "emu", str(disk), test="virtio-blk-qcow2magic")
    assert "virtio-blk-qcow2magic: PASS" in r.stdout, r.stdout + r.stderr
    with open(disk, "rb") as f:
        assert f.read(4) != b"QFI\xfb"


def test_the_guest_driver_against_qemus_device(tmp_path):
    """The test guest's driver is checked against an independent device, so
    the two sides are not merely consistent with each other: QEMU's modern
    virtio-blk-pci (TCG) serves the same test, and the host file holds the
    same pattern."""
    disk = tmp_path / "q.raw"
    make_raw(disk, 1 << 20)
    r = qemu_blk_guest(disk, "virtio-blk", "tcg", 128, "", 180)
    assert "vessel-test: virtio-blk: PASS" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 1, r.stdout  # isa-debug-exit: (0 << 1) | 1
    want = expected_sectors(0, 2048)
    assert read_sectors(disk, "raw", want) == want


@pytest.mark.parametrize("cache", ["none", "directsync", "unsafe", "writeback"])
def test_cache_modes_hold_what_the_guest_wrote(vessel, accel, tmp_path, cache):
    """--disk cache= (docs/virtio.md): every mode stores the guest's writes
    (none and directsync through O_DIRECT, unsafe without flushes), raw and
    a qcow2 linked clone alike; qemu-img check stays clean."""
    disk = tmp_path / "c.raw"
    make_raw(disk, 1 << 20)
    r = boot(vessel, accel, f"{disk},format=raw,cache={cache}")
    passed(r)
    want = expected_sectors(0, 2048)
    assert read_sectors(disk, "raw", want) == want
    need_qemu_img()
    base, clone = tmp_path / "base.qcow2", tmp_path / "clone.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "4M"], check=True)
    subprocess.run([vessel, "img", "create", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
                    str(clone)], check=True, capture_output=True)
    r = boot(vessel, accel, f"{clone},format=qcow2,cache={cache}")
    passed(r)
    want = expected_sectors(0, 8192)
    assert read_sectors(clone, "qcow2", want) == want
    c = run(["qemu-img", "check", clone])
    assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


def test_cache_mode_errors_are_one_line(vessel, tmp_path):
    disk = tmp_path / "d.raw"
    make_raw(disk, 65536)
    r = boot(vessel, "emu", f"{disk},cache=fast")
    assert r.returncode != 0 and r.stderr.count("\n") == 1, r.stderr
    assert "unknown cache mode 'fast'" in r.stderr, r.stderr


def test_cache_none_where_the_file_system_refuses_o_direct(vessel, tmp_path):
    """ramfs has no O_DIRECT: cache=none and directsync fail with one line
    that says so, cache=writeback works. The ramfs is mounted in a private
    mount namespace of the test's own (gone when the command exits)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        skip("needs root and unshare(1) for a private ramfs mount")
    mnt = tmp_path / "ramfs"
    mnt.mkdir()
    script = (f"mount -t ramfs vessel-test-ramfs {mnt} && truncate -s 1M {mnt}/r.raw && "
              f"for c in none directsync writeback; do "
              f"{vessel} vm run --accel emu --kernel {TESTKERNEL} "
              f"--append vessel.test=virtio-blk --disk {mnt}/r.raw,format=raw,cache=$c "
              f"</dev/null >{tmp_path}/out.$c 2>{tmp_path}/err.$c; echo $? >{tmp_path}/rc.$c; "
              f"done")
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        skip(f"cannot mount a ramfs in a private namespace here: {p.stderr.strip()}")
    for c in ("none", "directsync"):
        err = (tmp_path / f"err.{c}").read_text()
        assert (tmp_path / f"rc.{c}").read_text().strip() != "0", err
        assert err.count("\n") == 1 and "does not support O_DIRECT" in err, err
    assert (tmp_path / "rc.writeback").read_text().strip() == "0", \
        (tmp_path / "err.writeback").read_text()
    assert "vessel-test: virtio-blk: PASS" in (tmp_path / "out.writeback").read_text()
