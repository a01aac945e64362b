"""The test guest (guest/testkernel) under QEMU TCG: the reference platform
until vessel's VMM boots it. Checks the output protocol of docs/testkernel.md
for every test, the initrd checksum, the exit statuses and both entry paths
(the PVH ELF, and the bzImage through its real-mode setup)."""
import os
import pathlib
import re
import shutil
import struct
import subprocess
import time
import zlib

import pytest

# Not `from conftest import ...`: a bare `conftest` module name can resolve to
# another directory's. The `kvm` fixture still comes from
# tests/integration/conftest.py, which pytest loads for this directory.
REPO = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("VESSEL_BUILD", REPO / "build"))
TK_DIR = BUILD / "guest/testkernel"
ELF = TK_DIR / "testkernel.elf"
BZIMAGE = TK_DIR / "testkernel.bzImage"
QEMU = shutil.which("qemu-system-x86_64")
ALL_TESTS = "bootparams,cpuid,smp,pci,timer,irq"


def skip(reason):
    """Skips the current test, printing the reason in the agreed form."""
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def qemu_args(kernel, append, *, smp=2, mem=256, initrd=None, accel="tcg", machine="q35"):
    if not QEMU:
        skip("qemu-system-x86_64 is not installed")
    if not kernel.exists():
        pytest.fail(f"{kernel} is not built (ninja -C build)")
    args = [QEMU, "-accel", accel, "-M", machine, "-nographic", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0x501,iosize=1",
            "-smp", str(smp), "-m", str(mem), "-kernel", str(kernel), "-append", append]
    if initrd:
        args += ["-initrd", str(initrd)]
    return args


def qemu(kernel, append, *, timeout=60, via_exit_device=True, **kw):
    """Boots @kernel under QEMU; returns (status, serial lines). isa-debug-exit
    makes QEMU exit with (N << 1) | 1 for a guest status N: status is N. With
    via_exit_device=False, status is QEMU's own exit status."""
    p = subprocess.Popen(qemu_args(kernel, append, **kw), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"QEMU timed out; output:\n{out.decode(errors='replace')}")
    text = out.decode(errors="replace")
    lines = [l.strip() for l in text.splitlines()]
    if not via_exit_device:
        return p.returncode, lines
    if p.returncode & 1 == 0:
        pytest.fail(f"QEMU exited {p.returncode} without the exit device:\n{text}\n"
                    f"{err.decode(errors='replace')}")
    return p.returncode >> 1, lines


def results(lines):
    """{test: 'PASS' | 'FAIL reason'} from 'vessel-test: NAME: ...' lines."""
    out = {}
    for l in lines:
        m = re.match(r"vessel-test: (\w+): (PASS|FAIL.*)$", l)
        if m and m.group(1) != "result":
            out[m.group(1)] = m.group(2)
    return out


def info(lines, test):
    return [l[len(test) + 2:] for l in lines if l.startswith(test + ": ")]


@pytest.fixture(scope="module")
def initrd(tmp_path_factory):
    data = bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(96 * 1024 + 13))
    path = tmp_path_factory.mktemp("tk") / "initrd.bin"
    path.write_bytes(data)
    return path, zlib.crc32(data), len(data)


@pytest.fixture(scope="module")
def all_tests(initrd):
    """One boot of the PVH ELF running every test (with an initrd)."""
    return qemu(ELF, f"console=ttyS0 vessel.test={ALL_TESTS}", initrd=initrd[0])


def test_all_pass(all_tests):
    status, lines = all_tests
    assert f"vessel-test: start {ALL_TESTS}" in lines
    res = results(lines)
    assert res == {t: "PASS" for t in ALL_TESTS.split(",")}, "\n".join(lines)
    assert "vessel-test: result: 6 passed, 0 failed" in lines
    assert status == 0


def test_bootparams(all_tests, initrd):
    _, lines = all_tests
    bp = info(lines, "bootparams")
    assert f'cmdline="console=ttyS0 vessel.test={ALL_TESTS}"' in bp
    e820 = [l.split()[1:] for l in bp if l.startswith("e820 ")]
    assert e820 and any(int(s, 16) == 0 and t == "1" for s, _, t in e820)
    assert "mem_mib=256" in bp
    path, crc, size = initrd
    m = [re.match(r"initrd addr=0x([0-9a-f]+) size=(\d+) crc32=0x([0-9a-f]{8})$", l) for l in bp]
    m = [x for x in m if x]
    assert m, "\n".join(bp)
    assert int(m[0].group(2)) == size
    assert int(m[0].group(3), 16) == crc


def test_cpuid(all_tests):
    _, lines = all_tests
    c = info(lines, "cpuid")
    assert any(l.startswith('vendor "') for l in c)
    assert any(l.startswith("bsp apic_id 0") for l in c)


def test_smp(all_tests):
    _, lines = all_tests
    s = info(lines, "smp")
    assert any(re.match(r"cpus=2 ", l) for l in s), "\n".join(s)
    up = {int(m.group(1)) for l in s if (m := re.match(r"cpu (\d+) up", l))}
    assert up == {0, 1}


def test_pci(all_tests):
    _, lines = all_tests
    p = info(lines, "pci")
    assert any(re.match(r"00:00\.0 8086:[0-9a-f]{4} class 0600[0-9a-f]{2}$", l) for l in p), p


def test_timer(all_tests):
    _, lines = all_tests
    m = [re.match(r"measured (\d+)\.\d+ Hz", l) for l in info(lines, "timer")]
    rate = [int(x.group(1)) for x in m if x]
    assert rate and 75 <= rate[0] <= 125


def test_irq(all_tests):
    _, lines = all_tests
    assert any(l.startswith("vector 0x24 from ioapic pin 4") for l in info(lines, "irq"))


def test_exit_status():
    status, lines = qemu(ELF, "vessel.test=exit:7")
    assert status == 7  # QEMU itself exits with 15
    assert "vessel-test: exit 7" in lines


def test_unknown_test_name():
    status, lines = qemu(ELF, "vessel.test=cpuid,nosuchtest")
    assert status == 2
    assert 'vessel-test: unknown test "nosuchtest"' in lines
    assert "vessel-test: cpuid: PASS" not in lines  # the list is checked first


def test_no_test_list():
    status, _ = qemu(ELF, "console=ttyS0")
    assert status == 2


def test_panic_path():
    status, lines = qemu(ELF, "vessel.test=panic")
    assert status == 3
    assert any(re.match(r"vessel-test: panic: exception 6 at rip=0x[0-9a-f]+", l) for l in lines)


def test_triple_fault():
    """-no-reboot: the shutdown ends QEMU with status 0, not via the exit device."""
    status, lines = qemu(ELF, "vessel.test=triplefault", via_exit_device=False)
    assert "triplefault: empty IDT, then ud2" in lines
    assert status == 0


def test_hang_keeps_running():
    p = subprocess.Popen(qemu_args(ELF, "vessel.test=hang"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        buf, deadline = b"", time.monotonic() + 30
        os.set_blocking(p.stdout.fileno(), False)
        while b"hang: halting forever" not in buf and time.monotonic() < deadline:
            buf += p.stdout.read() or b""
            time.sleep(0.05)
        assert b"hang: halting forever" in buf, buf
        time.sleep(0.5)
        assert p.poll() is None, "the guest exited instead of hanging"
    finally:
        p.kill()
        p.wait()


def test_bzimage_through_real_mode_setup(initrd):
    """QEMU enters a bzImage through its real-mode setup: ours builds the zero
    page (BIOS E820) and takes the 32-bit entry."""
    path, crc, size = initrd
    status, lines = qemu(BZIMAGE, "vessel.test=bootparams,smp", initrd=path)
    assert results(lines) == {"bootparams": "PASS", "smp": "PASS"}, "\n".join(lines)
    assert any(l.startswith("bootparams: protocol=bzimage32 ") for l in lines)
    assert any(l.endswith(f"size={size} crc32=0x{crc:08x}") for l in lines)
    assert status == 0


def test_kvm_microvm(kvm, initrd):
    """The same guest under QEMU -accel kvm. microvm rather than q35: q35's
    SeaBIOS takes ~5 s where KVM emulates CPL0 (KVM-PVM); microvm has no PCI
    and, under KVM, no PIT, so the TSC comes from kvmclock."""
    path, crc, _ = initrd
    tests = "bootparams,cpuid,smp,timer,irq"
    status, lines = qemu(ELF, f"vessel.test={tests}", accel="kvm", machine="microvm",
                         initrd=path, timeout=120)
    assert results(lines) == {t: "PASS" for t in tests.split(",")}, "\n".join(lines)
    assert any(l.endswith(f"crc32=0x{crc:08x}") for l in lines)
    assert status == 0


def test_bzimage_header():
    """The setup header fields a 64-bit loader (vessel's) relies on."""
    data = BZIMAGE.read_bytes()
    assert data[0x1FE:0x200] == b"\x55\xaa" and data[0x202:0x206] == b"HdrS"
    setup_sects = data[0x1F1]
    version, = struct.unpack_from("<H", data, 0x206)
    loadflags = data[0x211]
    code32_start, = struct.unpack_from("<I", data, 0x214)
    xloadflags, = struct.unpack_from("<H", data, 0x236)
    pref_address, = struct.unpack_from("<Q", data, 0x258)
    init_size, = struct.unpack_from("<I", data, 0x260)
    syssize, = struct.unpack_from("<I", data, 0x1F4)
    kver, = struct.unpack_from("<H", data, 0x20E)
    assert version == 0x020F and loadflags & 1 and xloadflags & 1
    assert code32_start == pref_address == 0x100000 and data[0x234] == 0
    kernel = data[(setup_sects + 1) * 512:]
    assert syssize * 16 >= len(kernel) > 0 and init_size >= len(kernel)
    assert data[0x200 + kver:].startswith(b"vessel-testkernel")
    assert kernel[0x100:0x104] == b"LToP"
