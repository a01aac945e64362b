"""How a VM ends, under each accelerator (the `accel` fixture): signals
stop it cleanly with 128+N, the console escape quits, a crashing guest is
reported in one line, a reboot ends vessel; and the PVM warning appears for
kernels that are not our test guest when kvm is asked for."""
import os
import signal
import subprocess
import time
import uuid

import pytest

from vesseltest import TESTKERNEL, GUEST_DIR, run, skip


def start(vessel, accel, tests, **kw):
    return subprocess.Popen([vessel, "vm", "run", "--accel", accel, "--kernel", str(TESTKERNEL),
                             "--append", f"vessel.test={tests}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def wait_for(proc, text, timeout=20):
    deadline = time.time() + timeout
    buf = ""
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            chunk = b""
        buf += chunk.decode(errors="replace")
        if text in buf:
            return buf
        if proc.poll() is not None and not chunk:
            break
        time.sleep(0.02)
    raise AssertionError(f"no {text!r} in {buf!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_vm(vessel, accel, sig):
    p = start(vessel, accel, "hang", stdin=subprocess.DEVNULL)
    try:
        wait_for(p, "vessel-test: start")
        p.send_signal(sig)
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = err.decode()
    assert p.returncode == 128 + sig, err
    assert "VM stopped" in err


def test_console_escape_quits(vessel, accel):
    r_fd, w_fd = os.pipe()
    p = start(vessel, accel, "hang", stdin=r_fd)
    os.close(r_fd)
    try:
        wait_for(p, "vessel-test: start")
        os.write(w_fd, b"\x01x")
        p.communicate(timeout=10)
    finally:
        os.close(w_fd)
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0


def test_triple_fault_is_reported(vessel, accel):
    r = run([vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append", "vessel.test=triplefault"],
            timeout=30, stdin=open(os.devnull))
    assert r.returncode == 124, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vessel: guest crashed: "), r.stderr


def test_pvm_warning_for_other_kernels(vessel, kvm):
    kernel = GUEST_DIR / "vmlinuz"
    if not kernel.exists():
        skip("no guest kit (make guest)")
    with open("/proc/cpuinfo") as f:
        hw = any(w in f.read().split() for w in ("vmx", "svm"))
    p = subprocess.Popen([vessel, "vm", "run", "--accel", "kvm", "--kernel", str(kernel),
                          "--mem", "256M"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.terminate()
    _, err = p.communicate(timeout=10)
    if hw:
        assert "no hardware virtualization" not in err
    else:
        assert "no hardware virtualization" in err
    assert p.returncode == 128 + signal.SIGTERM, err


def processes_with(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_vm_released_right_after_exit(vessel, kvm, tmp_path):
    """The child that releases the KVM VM after vessel exits must not hold
    our stdout (run() would hang) and must be gone promptly. (--name marks
    the processes; --root keeps the registered run out of the host's store.)"""
    marker = f"vessel-test-{uuid.uuid4()}"
    r = run([vessel, "--root", str(tmp_path), "vm", "run", "--accel", "kvm", "--name", marker, "--kernel", TESTKERNEL, "--append",
             "vessel.test=exit:3"], timeout=30, stdin=open(os.devnull))
    assert r.returncode == 3, r.stderr
    deadline = time.time() + 5
    while processes_with(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


@pytest.mark.parametrize("how", ["kbd", "cf9"])
def test_guest_reset_exits(vessel, accel, how):
    """A guest reboot (i8042 pulse or port 0xCF9) ends vessel with status 0
    and says so in one line (vessel exits on reboot, like Firecracker)."""
    r = run([vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
             f"vessel.test=reset:{how}"],
            timeout=30, stdin=open(os.devnull))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"reset: " in r.stdout
    assert r.stderr.strip().splitlines() == ["vessel: the guest rebooted; vessel exits on reboot"]


def test_reset_before_the_command_exits_is_a_crash(vessel, accel):
    """With `-- COMMAND` the guest must end through the exit device: a reboot
    first (the kit's kernel reboots on panic, panic=-1) is status 124 with one
    line, not a clean 0. The test guest ignores the command and reboots."""
    r = run([vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
             "vessel.test=reset:cf9", "--", "true"], timeout=30, stdin=open(os.devnull))
    assert r.returncode == 124, r.stdout + r.stderr
    assert r.stderr.strip().splitlines() == [
        "vessel: guest crashed: the guest rebooted before its command exited "
        "(kernel panic? the kit's kernel reboots on panic)"], r.stderr
