"""Each user error of `vessel vm run` gives one line on stderr and a
non-zero status, without booting anything."""
import os
import shutil
import subprocess

import pytest

from vesseltest import TESTKERNEL, run, skip


def vm_run(vessel, *args, **kw):
    return run([vessel, "vm", "run", *args], stdin=open(os.devnull), **kw)


def one_line_error(r, needle):
    assert r.returncode == 125, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("vessel: ")
    assert needle in lines[0], lines[0]
    assert r.stdout == ""


def test_not_a_bzimage(vessel, tmp_path):
    f = tmp_path / "kernel"
    f.write_bytes(b"\x7fELF" + os.urandom(8192))
    one_line_error(vm_run(vessel, "--kernel", f), "not a bzImage")


def test_missing_kernel(vessel):
    one_line_error(vm_run(vessel, "--kernel", "/nonexistent/bzImage"),
                   "cannot read kernel /nonexistent/bzImage")


def test_cpus_zero(vessel):
    one_line_error(vm_run(vessel, "--kernel", TESTKERNEL, "--cpus", "0"),
                   "--cpus must be at least 1")


def test_cpus_above_host_needs_overcommit(vessel, kvm):
    n = os.cpu_count() + 1
    one_line_error(vm_run(vessel, "--kernel", TESTKERNEL, "--cpus", str(n)), "--overcommit")
    r = vm_run(vessel, "--kernel", TESTKERNEL, "--cpus", str(n), "--overcommit",
               "--append", "vessel.test=smp", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"smp: started={n} of {n}" in r.stdout


def test_mem_above_host(vessel):
    one_line_error(vm_run(vessel, "--kernel", TESTKERNEL, "--mem", "64T"), "more than this host")


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "unknown or incomplete option '--bogus'"),
    (["--mem", "lots"], "--mem 'lots': not a size"),
    (["--cpus", "two"], "--cpus 'two': not a number"),
    (["--cpu-model", "pentium"], "expected host or baseline"),
    (["--accel", "tcg"], "expected kvm, emu or auto"),
    (["--kernel"], "unknown or incomplete option"),
])
def test_bad_options(vessel, args, needle):
    one_line_error(vm_run(vessel, *args), needle)


def test_no_dev_kvm(vessel, root):
    """In a private mount namespace whose /dev lacks kvm."""
    if not shutil.which("unshare"):
        skip("unshare is missing")
    script = f'mount -t tmpfs vessel-test-dev /dev && exec "$@"'
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        vessel, "vm", "run", "--accel", "kvm", "--kernel", str(TESTKERNEL)],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    one_line_error(r, "/dev/kvm does not exist")


def test_no_dev_kvm_auto_runs_on_emu(vessel, root):
    """--accel auto on a host without hardware virtualization (or without
    /dev/kvm at all) runs the guest on emu."""
    if not shutil.which("unshare"):
        skip("unshare is missing")
    script = f'mount -t tmpfs vessel-test-dev /dev && exec "$@"'
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        vessel, "vm", "run", "--kernel", str(TESTKERNEL), "--append",
                        "vessel.test=cpuid,exit:5"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, VESSEL_TRACE_BOOT="1"))
    assert r.returncode == 5, r.stdout + r.stderr
    assert "vessel-trace: first-emu-run" in r.stderr, r.stderr


def test_no_permission_on_dev_kvm(vessel, kvm, root):
    if not shutil.which("setpriv"):
        skip("setpriv is missing")
    if os.stat("/dev/kvm").st_mode & 0o006:
        skip("/dev/kvm is world-accessible on this host")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        vessel, "vm", "run", "--accel", "kvm", "--kernel", str(TESTKERNEL)],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    one_line_error(r, "no permission to open /dev/kvm")


def test_unknown_verb(vessel):
    r = run([vessel, "vm", "fly"])
    assert r.returncode == 2
    assert "unknown command 'fly'" in r.stderr
