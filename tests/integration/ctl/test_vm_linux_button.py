"""vessel-init honours vessel's power button: a named VM booting Debian's
stock kernel and the guest kit under emu, running a long command, ends on
`vm stop` by the guest's own clean shutdown (vessel-init acknowledges the
press, SIGTERMs its children, syncs and reports status 0 through the exit
device) well before the stop timeout, not by the VMM's hard stop. One boot."""
import gzip
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from vesseltest import BUILD, GUEST_DIR, skip  # noqa: E402

BOOT_TIMEOUT = 300
STOP_TIMEOUT = 60


def log_text(ctl, name):
    p = ctl.root / "vms" / name / "console.log"
    return p.read_text(errors="replace") if p.exists() else ""


def own_kit(tmp_path):
    """The shared kit with this build's vessel-init as /init: a second cpio
    appended to the initramfs (the kernel unpacks both, the later entry
    wins), so the test checks this tree's init even when another build
    refreshed the shared kit."""
    init = BUILD / "guest/init/vessel-init"
    if not (GUEST_DIR / "vmlinuz").exists() or not (GUEST_DIR / "initramfs.cpio.gz").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")
    if not init.exists():
        skip(f"{init} is not built")
    kit = tmp_path / "kit"
    (kit / "tree").mkdir(parents=True)
    shutil.copy(init, kit / "tree/init")
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=kit / "tree",
                          input=b"init\n", capture_output=True, check=True).stdout
    (kit / "initramfs.cpio.gz").write_bytes((GUEST_DIR / "initramfs.cpio.gz").read_bytes()
                                            + gzip.compress(cpio))
    os.symlink(GUEST_DIR / "vmlinuz", kit / "vmlinuz")
    return kit


def test_linux_guest_powers_off_on_the_button(ctl, tmp_path):
    env = dict(os.environ, VESSEL_GUEST_DIR=str(own_kit(tmp_path)))
    ctl.ok("vm", "create", "lin", "--accel", "emu", "--",
           "sh", "-c", "echo vessel-guest-up; exec sleep 1000", env=env)
    ctl.ok("vm", "start", "lin", env=env)
    end = time.time() + BOOT_TIMEOUT
    while "vessel-guest-up" not in log_text(ctl, "lin"):
        assert time.time() < end, "the guest did not reach its command:\n" + log_text(ctl, "lin")
        assert ctl.ls()["lin"]["state"] == "running", ctl.ls()["lin"]
        time.sleep(0.5)
    assert ctl.ls()["lin"]["state"] == "running"

    t0 = time.time()
    ctl.ok("vm", "stop", "lin", "-t", str(STOP_TIMEOUT), timeout=STOP_TIMEOUT + 30, env=env)
    took = time.time() - t0
    vm = ctl.ls()["lin"]
    log = log_text(ctl, "lin")
    assert vm["state"] == "stopped" and vm["pid"] is None, vm
    assert "hard stop" not in vm["exit_reason"], (vm, log[-2000:])
    assert vm["exit_status"] == 0 and "exited with status 0" in vm["exit_reason"], vm
    assert "vessel-init: power button pressed" in log, log[-2000:]
    # the press is polled every 150 ms; SIGTERM ends `sleep` at once
    print(f"vm stop took {took:.1f} s")
    assert took < STOP_TIMEOUT / 3, f"vm stop took {took:.1f} s"
