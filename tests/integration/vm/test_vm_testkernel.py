"""The test guest booted by `vessel vm run` under each accelerator (kvm and
emu, the `accel` fixture): every foundation test of the test guest
(docs/testkernel.md) must pass, its exit status must come back, and an
initrd must reach it intact."""
import base64
import os
import re
import zlib

import pytest

from vesseltest import TESTKERNEL, run


@pytest.fixture
def boot(vessel, accel):
    def boot_with(tests, *extra, timeout=60):
        if not TESTKERNEL.exists():
            pytest.fail(f"{TESTKERNEL} is not built")
        args = [vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
                f"vessel.test={tests}", *extra]
        env = dict(os.environ, VESSEL_TRACE_BOOT="1")
        r = run(args, timeout=timeout, stdin=open(os.devnull), env=env)
        assert f"vessel-trace: first-{accel}-run" in r.stderr, r.stderr
        return r
    return boot_with


def assert_passed(r, *names):
    assert "vessel-test: start" in r.stdout, r.stdout + r.stderr
    for n in names:
        assert f"vessel-test: {n}: PASS" in r.stdout, r.stdout + r.stderr
    assert "FAIL" not in r.stdout, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr


def test_bootparams_cmdline_and_memory(boot):
    r = boot("bootparams", "--mem", "256M")
    assert_passed(r, "bootparams")
    assert 'bootparams: cmdline="vessel.test=bootparams"' in r.stdout
    assert "bootparams: mem_mib=256" in r.stdout
    assert "bootparams: initrd none" in r.stdout


def test_initrd_reaches_guest_intact(boot, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 123)
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(data)
    r = boot("bootparams", "--initrd", initrd)
    assert_passed(r, "bootparams")
    m = re.search(r"bootparams: initrd addr=(0x[0-9a-f]+) size=(\d+) crc32=(0x[0-9a-f]+)",
                  r.stdout)
    assert m, r.stdout
    assert int(m.group(2)) == len(data)
    assert int(m.group(3), 16) == zlib.crc32(data)
    assert int(m.group(1), 16) % 4096 == 0


def test_cpuid(boot):
    r = boot("cpuid")
    assert_passed(r, "cpuid")
    assert 'hypervisor "KVMKVMKVM"' in r.stdout
    assert "apic_bus_khz=1000000" in r.stdout


def host_has_hw_virt():
    with open("/proc/cpuinfo") as f:
        return any(w in f.read().split() for w in ("vmx", "svm"))


def test_cpuid_baseline_model(boot, accel):
    host = boot("cpuid")
    r = boot("cpuid", "--cpu-model", "baseline")
    assert_passed(r, "cpuid")
    ext = int(re.search(r"ext edx=(0x[0-9a-f]+)", r.stdout).group(1), 16)
    host_ext = int(re.search(r"ext edx=(0x[0-9a-f]+)", host.stdout).group(1), 16)
    # baseline 0x80000001 EDX: SYSCALL, NX, LM only (no RDTSCP, 1G pages, ...)
    assert ext == (1 << 11) | (1 << 20) | (1 << 29), hex(ext)
    assert host_ext & ext == ext
    ecx = int(re.search(r"leaf1 ecx=(0x[0-9a-f]+)", r.stdout).group(1), 16)
    if accel == "emu" or host_has_hw_virt():
        # KVM-PVM (our build machines) keeps leaf 1 ECX/EDX at the host's
        # values whatever KVM_SET_CPUID2 says; VT-x/AMD-V KVM and emu honour it.
        assert not ecx & (1 << 28), "AVX visible under --cpu-model baseline"
    if accel == "kvm" and host_has_hw_virt():
        # emu implements no SSE4.2 (the mask only removes features)
        assert ecx & (1 << 20), "SSE4.2 missing under --cpu-model baseline"


def test_smp_two_vcpus(boot):
    r = boot("smp", "--cpus", "2")
    assert_passed(r, "smp")
    assert "smp: cpus=2" in r.stdout
    assert "smp: cpu 1 up" in r.stdout
    # LOCK ADD/XADD/CMPXCHG and an XCHG spinlock on both vCPUs at once
    assert ("smp: atomics cpus=2 lock_add=40000 xadd=40000 cmpxchg=40000 spinlock=40000"
            in r.stdout), r.stdout


def test_pci_host_bridge(boot):
    r = boot("pci")
    assert_passed(r, "pci")
    assert "pci: 00:00.0 8086:0d57 class 060000" in r.stdout


def test_acpi_tables(boot):
    """RSDP (BIOS-area scan == boot_params.acpi_rsdp_addr) -> XSDT -> FADT,
    MADT, DSDT, FACS: signatures, lengths, checksums; the MADT's CPUs and
    IOAPIC match the MP table's (APIC IDs 0..n-1, IOAPIC ID n)."""
    r = boot("acpi", "--cpus", "2")
    assert_passed(r, "acpi")
    assert "acpi: rsdp=0xe0000 boot_params=0xe0000 " in r.stdout
    assert "acpi: pm1a_evt=0x600 pm1a_cnt=0x604 sci=9 s5=5 sci_en=1" in r.stdout
    assert "acpi: madt cpus=2 ioapic=2" in r.stdout


def test_acpi_s5_powers_off(boot):
    """SLP_TYP(\\_S5) | SLP_EN in PM1a_CNT ends the VM at once with status 0
    (the test would FAIL, status 1, if the guest were still running)."""
    r = boot("acpi-poweroff")
    assert "acpi-poweroff: S5 through port 0x604" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout and "result:" not in r.stdout, r.stdout
    assert "rebooted" not in r.stderr and "crashed" not in r.stderr, r.stderr


def test_pvpanic_is_a_crash(boot):
    """The DSDT's QEMU0001 port (0x505) offers PANICKED; writing it stops the
    VM as a guest crash: status 124 and one line."""
    r = boot("pvpanic")
    assert "pvpanic: capabilities 0x3, reporting a panic" in r.stdout, r.stdout + r.stderr
    assert r.returncode == 124, r.stdout + r.stderr
    assert "vessel: guest crashed: the guest kernel panicked (pvpanic)" in r.stderr.splitlines()


def test_lapic_timer_rate(boot):
    assert_passed(boot("timer"), "timer")


def test_ioapic_serial_irq(boot):
    r = boot("irq")
    assert_passed(r, "irq")
    assert "from ioapic pin 4" in r.stdout


def test_all_together(boot):
    r = boot("bootparams,cpuid,smp,pci,timer,irq", "--cpus", "2")
    assert_passed(r, "bootparams", "cpuid", "smp", "pci", "timer", "irq")
    assert "vessel-test: result: 6 passed, 0 failed" in r.stdout


@pytest.mark.parametrize("status", [0, 7, 255])
def test_exit_status(boot, status):
    r = boot(f"exit:{status}")
    assert r.returncode == status, r.stdout + r.stderr


def test_failed_guest_test_gives_status_1(boot):
    r = boot("nosuchtest")
    assert r.returncode != 0
    assert "nosuchtest" in r.stdout


def decode_list(value):
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert raw.endswith(b"\0")
    return [s.decode() for s in raw[:-1].split(b"\0")]


def test_command_reaches_kernel_cmdline(boot):
    """`vessel vm run -- CMD` hands CMD to the guest kit's init through the
    kernel command line (guest/init/cmdline-abi.h); the test guest prints the
    command line it received, so the encoding is checked end to end. The
    boot's stdin is /dev/null, not a terminal: the init is also told to give
    the command a pipe that ends with it (vessel.stdin=pipe)."""
    argv = ["sh", "-c", 'echo "hi there" && exit 3', "", "ünï"]
    r = boot("bootparams", "--", *argv)
    assert_passed(r, "bootparams")
    m = re.search(r'bootparams: cmdline="vessel\.test=bootparams vessel\.stdin=pipe vessel\.tty=0 '
                  r'vessel\.cmd=([A-Za-z0-9_-]+)"', r.stdout)
    assert m, r.stdout
    assert decode_list(m.group(1)) == argv
