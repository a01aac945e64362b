"""Debian's stock kernel under emu, the way a person uses it: `vessel vm run`
without a command gives the kit's interactive shell on the console (driven
here through a pty), and a kernel + initramfs that are not ours (a busybox
initramfs built by the test) boot with --kernel/--initrd. Two boots."""
import gzip
import os
import pty
import select
import shutil
import signal
import subprocess
import time

import pytest

from vesseltest import GUEST_DIR, VESSEL, read_until, run, skip

BOOT_TIMEOUT = 300


@pytest.fixture(scope="module")
def kit():
    if not (GUEST_DIR / "vmlinuz").exists() or not (GUEST_DIR / "kit.txt").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    return GUEST_DIR


def kit_release(kit):
    for line in (kit / "kit.txt").read_text().splitlines():
        if line.startswith("kernel_release="):
            return line.split("=", 1)[1]
    pytest.fail("kit.txt has no kernel_release")


def test_interactive_shell_on_the_console(kit):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(VESSEL), [str(VESSEL), "vm", "run", "--accel", "emu"])
    try:
        buf = read_until(fd, b"", b"vessel:~# ", BOOT_TIMEOUT)
        os.write(fd, b"echo hello-$((6*7))\r")
        buf = read_until(fd, buf, b"hello-42", 60)
        os.write(fd, b"\x01x")
        end = time.time() + 30
        while time.time() < end:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                break
            if select.select([fd], [], [], 0.2)[0]:
                read_nothing(fd)
        else:
            raise AssertionError("vessel did not end on Ctrl-A x")
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        pid = 0
    finally:
        os.close(fd)
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def read_nothing(fd):
    """Drains the pty so vessel never blocks writing to it."""
    try:
        os.read(fd, 4096)
    except OSError:
        pass


INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
echo "foreign-release: $(/bin/busybox uname -r)"
echo "foreign-initramfs-marker $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
"""


def build_initramfs(tmp_path):
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox) or "static" not in subprocess.run(
            ["file", "-L", busybox], capture_output=True, text=True).stdout:
        skip("busybox-static is not installed")
    if not shutil.which("cpio"):
        skip("cpio is not installed")
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "dev").mkdir()
    shutil.copy(busybox, tree / "bin/busybox")
    (tree / "init").write_text(INIT)
    (tree / "init").chmod(0o755)
    names = subprocess.run(["find", ".", "-mindepth", "1"], cwd=tree, capture_output=True,
                           text=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=tree,
                          input=names.encode(), capture_output=True, check=True).stdout
    out = tmp_path / "foreign.cpio.gz"
    out.write_bytes(gzip.compress(cpio))
    return out


def test_foreign_kernel_and_initramfs(kit, tmp_path):
    initrd = build_initramfs(tmp_path)
    # The init ends with `poweroff -f`: the kernel finds \_S5 in vessel's
    # DSDT and powers off through PM1a_CNT (docs/vm.md "ACPI"), which ends
    # vessel with status 0 and no "rebooted" line (before ACPI, this was a
    # halt that hung the VM).
    r = run([VESSEL, "vm", "run", "--accel", "emu", "--kernel", kit / "vmlinuz",
             "--initrd", initrd, "--append", "console=ttyS0 quiet"],
            timeout=BOOT_TIMEOUT, stdin=open(os.devnull))
    out = r.stdout + r.stderr
    assert "foreign-initramfs-marker console=ttyS0 quiet" in r.stdout, out[-3000:]
    assert f"foreign-release: {kit_release(kit)}" in r.stdout, out[-3000:]
    assert "vessel-init" not in out, out[-3000:]
    assert r.returncode == 0, out[-3000:]
    assert "reboot: Power down" in r.stdout, out[-3000:]
    assert "rebooted" not in r.stderr, out[-3000:]
