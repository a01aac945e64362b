"""virtio-blk under Linux's own driver (virtio_blk, the default guest kit's
Debian kernel, --accel emu: Debian's kernel does not boot under this
machine's KVM). Two boots carry every check, because a Linux boot under emu
takes a minute or more on the shared machine:

boot 1, disks vda (raw, 64 MiB), vdb (raw, read-only: the payload), vdc (a
qcow2 linked clone of a base image): sizes and order from sysfs; the guest
formats vda and vdc as ext4 with e2fsprogs' mkfs.ext4 (the kit's), mounts
both, copies the payload from vdb into a file on each, writes a 24 MiB
scratch file on each, syncs and powers off; a write to vdb fails.
host: both file systems are ext4 (dumpe2fs: a journal, extents), the files
hold the payload (debugfs on the raw image and on a raw export of the
clone), the base image is unchanged, `qemu-img check` is clean on both.
boot 2: the files read back with the payload's hash; the scratch files are
removed and fstrim discards their blocks; the host files get smaller.

(mkfs.ext4 is e2fsprogs' dynamically linked mke2fs: glibc's loader checks
the CPU's x86-64 ISA level, which needs MMX in emu's CPUID. Before emu had
MMX the test made ext2 with busybox's mke2fs.)"""
import hashlib
import os
import shutil
import subprocess

import pytest

from vesseltest import GUEST_DIR, run, skip

BOOT_TIMEOUT = 900
MIB = 1 << 20

BOOT1 = r"""
echo "sizes: $(cat /sys/block/vda/size) $(cat /sys/block/vdb/size) $(cat /sys/block/vdc/size)"
echo "ro: $(cat /sys/block/vda/ro) $(cat /sys/block/vdb/ro) $(cat /sys/block/vdc/ro)"
dd if=/dev/zero of=/dev/vdb bs=512 count=1 2>/dev/null; echo "vdb-write-rc: $?"
for d in a c; do
  mkfs.ext4 -q /dev/vd$d || echo "mke2fs-failed: vd$d"
  mkdir -p /mnt/$d && mount -t ext4 /dev/vd$d /mnt/$d || echo "mount-failed: vd$d"
  dd if=/dev/vdb of=/mnt/$d/payload bs=64k 2>/dev/null
  for i in $(seq 24); do cat /dev/vdb; done > /mnt/$d/scratch
done
sync
echo "boot1-hash: $(sha256sum /mnt/a/payload | cut -d' ' -f1) $(sha256sum /mnt/c/payload | cut -d' ' -f1)"
umount /mnt/a && umount /mnt/c && echo boot1-done
"""

BOOT2 = r"""
for d in a c; do
  mkdir -p /mnt/$d && mount -t ext4 /dev/vd$d /mnt/$d || echo "mount-failed: vd$d"
done
echo "boot2-hash: $(sha256sum /mnt/a/payload | cut -d' ' -f1) $(sha256sum /mnt/c/payload | cut -d' ' -f1)"
rm /mnt/a/scratch /mnt/c/scratch
sync
fstrim -v /mnt/a && fstrim -v /mnt/c && echo fstrim-done
umount /mnt/a && umount /mnt/c && echo boot2-done
"""


def blocks(path):
    return os.stat(path).st_blocks * 512


def debugfs_cat(raw, name):
    p = subprocess.run(["debugfs", "-R", f"cat /{name}", str(raw)], capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def ext4_features(raw):
    """The superblock's feature list, as dumpe2fs names it."""
    p = subprocess.run(["dumpe2fs", "-h", str(raw)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    line = next(l for l in p.stdout.splitlines() if l.startswith("Filesystem features:"))
    return set(line.split(":", 1)[1].split())


def qcow2_to_raw(img, out):
    subprocess.run(["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", str(img),
                    str(out)], check=True, timeout=300)
    return out


def check_clean(img):
    c = run(["qemu-img", "check", str(img)], timeout=120)
    assert c.returncode == 0 and "No errors were found" in c.stdout, c.stdout + c.stderr


def boot(vessel, disks, script):
    args = [vessel, "vm", "run", "--accel", "emu", "--mem", "512M"]
    for d in disks:
        args += ["--disk", d]
    args += ["--", "sh", "-c", script]
    return run(args, timeout=BOOT_TIMEOUT, stdin=open(os.devnull))


@pytest.fixture(scope="module")
def linux(tmp_path_factory):
    from vesseltest import VESSEL
    if not (GUEST_DIR / "vmlinuz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    for tool in ("qemu-img", "qemu-io", "debugfs", "dumpe2fs"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")
    d = tmp_path_factory.mktemp("blk-linux")
    s = {"dir": d, "raw": d / "a.raw", "payload": d / "payload.raw",
         "base": d / "base.qcow2", "clone": d / "clone.qcow2"}
    with open(s["raw"], "wb") as f:
        f.truncate(64 * MIB)
    s["payload_bytes"] = os.urandom(MIB)
    s["payload"].write_bytes(s["payload_bytes"])
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(s["base"]), "64M"],
                   check=True)
    subprocess.run(["qemu-io", "-c", "write -P 0x5a 48M 1M", str(s["base"])], check=True,
                   capture_output=True)
    subprocess.run([VESSEL, "img", "create", "-f", "qcow2", "-b", str(s["base"]), "-F",
                    "qcow2", str(s["clone"])], check=True, capture_output=True)
    s["base_hash"] = hashlib.sha256(s["base"].read_bytes()).hexdigest()
    disks = [f"{s['raw']},format=raw", f"{s['payload']},format=raw,ro",
             f"{s['clone']},format=qcow2"]
    s["boot1"] = boot(VESSEL, disks, BOOT1)
    s["blocks1"] = (blocks(s["raw"]), blocks(s["clone"]))
    s["host_raw1"] = debugfs_cat(s["raw"], "payload")
    s["host_clone1"] = debugfs_cat(qcow2_to_raw(s["clone"], d / "clone1.raw"), "payload")
    s["features"] = (ext4_features(s["raw"]), ext4_features(d / "clone1.raw"))
    os.unlink(d / "clone1.raw")
    s["boot2"] = boot(VESSEL, disks, BOOT2)
    s["blocks2"] = (blocks(s["raw"]), blocks(s["clone"]))
    return s


def out(r):
    return r.stdout + r.stderr


def test_linux_disks_in_order_with_their_sizes(linux):
    r = linux["boot1"]
    assert r.returncode == 0, out(r)[-3000:]
    # vda 64 MiB, vdb the 1 MiB payload, vdc the clone's 64 MiB, in --disk order
    assert "sizes: 131072 2048 131072" in r.stdout, out(r)[-3000:]


def test_linux_read_only_disk_refuses_writes(linux):
    r = linux["boot1"]
    assert "ro: 0 1 0" in r.stdout, out(r)[-3000:]
    assert "vdb-write-rc: 0" not in r.stdout and "vdb-write-rc: " in r.stdout, r.stdout
    assert linux["payload"].read_bytes() == linux["payload_bytes"]


def test_linux_file_system_survives_a_reboot_and_the_host_sees_it(linux):
    want = hashlib.sha256(linux["payload_bytes"]).hexdigest()
    b1, b2 = linux["boot1"], linux["boot2"]
    assert "mke2fs-failed" not in b1.stdout and "mount-failed" not in b1.stdout, b1.stdout
    assert "boot1-done" in b1.stdout, out(b1)[-3000:]
    assert f"boot1-hash: {want} {want}" in b1.stdout, b1.stdout
    assert b2.returncode == 0 and "boot2-done" in b2.stdout, out(b2)[-3000:]
    assert f"boot2-hash: {want} {want}" in b2.stdout, b2.stdout
    # the host reads the file out of the raw image without mounting it
    assert linux["host_raw1"] == linux["payload_bytes"]
    assert debugfs_cat(linux["raw"], "payload") == linux["payload_bytes"]


def test_linux_formats_ext4(linux):
    """mkfs.ext4 ran in the guest: the host sees ext4 on both disks."""
    assert "mke2fs-failed" not in linux["boot1"].stdout, linux["boot1"].stdout
    for features in linux["features"]:
        assert {"has_journal", "extent"} <= features, features


def test_linux_on_a_qcow2_linked_clone(linux, tmp_path):
    assert linux["host_clone1"] == linux["payload_bytes"]
    flat = qcow2_to_raw(linux["clone"], tmp_path / "clone.raw")
    assert debugfs_cat(flat, "payload") == linux["payload_bytes"]
    assert hashlib.sha256(linux["base"].read_bytes()).hexdigest() == linux["base_hash"]
    check_clean(linux["clone"])
    check_clean(linux["base"])


def test_linux_discard_makes_the_host_files_smaller(linux):
    b2 = linux["boot2"]
    assert "fstrim-done" in b2.stdout, out(b2)[-3000:]
    (raw1, clone1), (raw2, clone2) = linux["blocks1"], linux["blocks2"]
    # 24 MiB of scratch data were trimmed from each
    assert raw2 <= raw1 - 20 * MIB, (raw1, raw2)
    assert clone2 <= clone1 - 20 * MIB, (clone1, clone2)
