"""Linux guests that are NOT vessel's, through the devices the ACPI tables
describe: Debian's stock kernel (the guest kit's) with busybox initramfs
images of this test, which load the kernel's own drivers. Two boots under emu.

- `vm stop` powers the guest off through the ACPI power button: the init
  loads button.ko and evdev, waits for a key event from the "Power Button"
  input device (what systemd-logind or acpid would do) and runs `poweroff -f`,
  which the kernel carries out through ACPI S5. The guest ignores vessel's
  private port-0x504 button.
- A kernel panic ends the VM with status 124 through pvpanic: the init loads
  pvpanic-mmio (bound to the DSDT's QEMU0001) and crashes the kernel with
  sysrq c. The command line has no panic=-1: without pvpanic the VM would
  hang in the panic loop.

The kit ships none of these modules, so they come from the kit's kernel
package (`apt-get download`, cached in ~/.cache/vessel/test-modules/<release>/)."""
import gzip
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from vesseltest import GUEST_DIR, VESSEL, run, skip  # noqa: E402

BOOT_TIMEOUT = 400
STOP_TIMEOUT = 120
MODULES = ("kernel/drivers/acpi/button.ko", "kernel/drivers/input/evdev.ko",
           "kernel/drivers/misc/pvpanic/pvpanic.ko", "kernel/drivers/misc/pvpanic/pvpanic-mmio.ko")

PANIC_INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B insmod /pvpanic.ko
$B insmod /pvpanic-mmio.ko
echo "pvpanic-driver: $($B ls /sys/bus/platform/drivers/pvpanic-mmio | $B grep QEMU0001)"
echo c > /proc/sysrq-trigger
$B sleep 1000
"""

INIT = """#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys /dev
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
$B insmod /button.ko
$B insmod /evdev.ko
for d in /sys/class/input/event*; do
    [ "$($B cat $d/device/name)" = "Power Button" ] && ev=${d##*/}
done
echo "acpi-guest-up ev=$ev"
$B dd if=/dev/input/$ev of=/dev/null bs=24 count=1 2>/dev/null
echo "acpi-guest: power button event"
$B poweroff -f
"""


def kit_info():
    info = {}
    for line in (GUEST_DIR / "kit.txt").read_text().splitlines():
        k, _, v = line.partition("=")
        info[k] = v
    return info


def kernel_modules():
    """MODULES of the kit's kernel, downloaded once."""
    info = kit_info()
    cache = pathlib.Path.home() / ".cache/vessel/test-modules" / info["kernel_release"]
    want = [cache / pathlib.Path(m).name for m in MODULES]
    if all(p.exists() for p in want):
        return want
    pkg = f"{info['kernel_package']}={info['kernel_version']}"
    with tempfile.TemporaryDirectory(prefix="vessel-acpi-") as tmp:
        r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            skip(f"cannot download {pkg} for its button.ko (Debian's mirror?): "
                 f"{r.stderr.strip()[-200:]}")
        deb = next(pathlib.Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"], check=True)
        cache.mkdir(parents=True, exist_ok=True)
        for m, dst in zip(MODULES, want):
            shutil.copy(f"{tmp}/x/lib/modules/{info['kernel_release']}/{m}", f"{dst}.tmp")
            os.rename(f"{dst}.tmp", dst)
    return want


def build_initramfs(tmp_path, modules, init=INIT):
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox) or not shutil.which("cpio"):
        skip("busybox-static or cpio is not installed")
    tree = tmp_path / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "bin").mkdir(parents=True)
    shutil.copy(busybox, tree / "bin/busybox")
    for m in modules:
        shutil.copy(m, tree / m.name)
    (tree / "init").write_text(init)
    (tree / "init").chmod(0o755)
    names = subprocess.run(["find", ".", "-mindepth", "1"], cwd=tree, capture_output=True,
                           text=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=tree,
                          input=names.encode(), capture_output=True, check=True).stdout
    out = tmp_path / "acpi.cpio.gz"
    out.write_bytes(gzip.compress(cpio))
    return out


def kit_or_skip():
    if not (GUEST_DIR / "vmlinuz").exists() or not (GUEST_DIR / "kit.txt").exists():
        skip(f"no guest kit in {GUEST_DIR} (make guest)")


def test_kernel_panic_ends_a_foreign_linux_through_pvpanic(tmp_path):
    kit_or_skip()
    initrd = build_initramfs(tmp_path, kernel_modules(), PANIC_INIT)
    r = run([VESSEL, "vm", "run", "--accel", "emu", "--kernel", GUEST_DIR / "vmlinuz",
             "--initrd", initrd, "--append", "console=ttyS0 quiet"],
            timeout=BOOT_TIMEOUT, stdin=open(os.devnull))
    out = r.stdout + r.stderr
    assert "pvpanic-driver: QEMU0001:00" in r.stdout, out[-3000:]
    assert "Kernel panic - not syncing: sysrq triggered crash" in r.stdout, out[-3000:]
    assert r.returncode == 124, out[-3000:]
    assert r.stderr.strip().splitlines()[-1] == (
        "vessel: guest crashed: the guest kernel panicked (pvpanic)"), r.stderr


def log_text(ctl, name):
    p = ctl.root / "vms" / name / "console.log"
    return p.read_text(errors="replace") if p.exists() else ""


def test_vm_stop_powers_off_a_foreign_linux_through_acpi(ctl, tmp_path):
    kit_or_skip()
    initrd = build_initramfs(tmp_path, kernel_modules())
    ctl.ok("vm", "create", "acpi", "--accel", "emu", "--kernel", str(GUEST_DIR / "vmlinuz"),
           "--initrd", str(initrd), "--append", "console=ttyS0 quiet")
    ctl.ok("vm", "start", "acpi")
    end = time.time() + BOOT_TIMEOUT
    while "acpi-guest-up" not in log_text(ctl, "acpi"):
        assert time.time() < end, "the guest did not come up:\n" + log_text(ctl, "acpi")[-3000:]
        assert ctl.ls()["acpi"]["state"] == "running", (ctl.ls()["acpi"],
                                                        log_text(ctl, "acpi")[-3000:])
        time.sleep(0.5)
    log = log_text(ctl, "acpi")
    assert "acpi-guest-up ev=event" in log, log[-3000:]  # the button driver's input device

    t0 = time.time()
    ctl.ok("vm", "stop", "acpi", "-t", str(STOP_TIMEOUT), timeout=STOP_TIMEOUT + 30)
    took = time.time() - t0
    vm = ctl.ls()["acpi"]
    log = log_text(ctl, "acpi")
    assert "acpi-guest: power button event" in log, log[-3000:]
    assert vm["state"] == "stopped", vm
    assert vm["exit_reason"] == "the guest powered off" and vm["exit_status"] == 0, (vm, log[-2000:])
    # the guest's own poweroff, not the kill after -t: exit_reason says so;
    # how long emulated Linux takes to shut down depends on the host's load
    print(f"vm stop took {took:.1f} s")
    assert took < STOP_TIMEOUT, f"vm stop took {took:.1f} s"
