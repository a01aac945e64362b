"""The test guest's CPU tests (docs/testkernel.md): `paging` (4 KiB
mappings and INVLPG, page-fault error codes, CR0.WP, NX, SYSCALL/SYSRET and
faults from CPL3, self-modifying code) under every CPU we have: KVM, vessel's
emu, and QEMU's TCG as the reference; and `bench` (bench/emu.sh's loops)
under QEMU TCG, whose output protocol bench/emu.py parses."""
import os
import re
import shutil

import pytest

from vesseltest import BUILD, TESTKERNEL, run, skip

QEMU = shutil.which("qemu-system-x86_64")
ELF = BUILD / "guest/testkernel/testkernel.elf"
PAGING_PARTS = ("map", "fault", "wp", "nx", "user", "smc")
BENCH_LOOPS = ("alu", "mem", "call", "movsb", "stosq", "bytecopy")
BENCH_LINE = re.compile(r"vessel-test: bench: (\w+) insns=(\d+) ns=(\d+)(?: bytes=(\d+))?$")


def host_is_kvm_pvm():
    """KVM-PVM (our build machines) cannot run SYSCALL or INT n from CPL3
    for a non-PVM guest; `paging:kvm-pvm` tolerates exactly that."""
    return os.path.isdir("/sys/module/kvm_pvm")


def vessel_boot(vessel, accel, tests, timeout=120):
    if not TESTKERNEL.exists():
        pytest.fail(f"{TESTKERNEL} is not built")
    env = dict(os.environ, VESSEL_TRACE_BOOT="1")
    r = run([vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
             f"vessel.test={tests}"], timeout=timeout, stdin=open(os.devnull), env=env)
    assert f"vessel-trace: first-{accel}-run" in r.stderr, r.stderr
    return r.returncode, r.stdout.splitlines(), r.stdout + r.stderr


def qemu_boot(kernel, tests, timeout=120):
    """Boots @kernel under QEMU TCG; returns (guest status, lines, all output).
    isa-debug-exit makes QEMU exit with (N << 1) | 1 for guest status N."""
    if not QEMU:
        skip("qemu-system-x86_64 is not installed")
    if not kernel.exists():
        pytest.fail(f"{kernel} is not built (ninja -C build)")
    r = run([QEMU, "-accel", "tcg", "-cpu", "max", "-M", "q35", "-m", "256", "-nographic",
             "-nodefaults", "-no-user-config", "-serial", "stdio", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel", kernel,
             "-append", f"vessel.test={tests}"], timeout=timeout, stdin=open(os.devnull))
    text = r.stdout + r.stderr
    assert r.returncode & 1, f"QEMU exited {r.returncode} without the exit device:\n{text}"
    return r.returncode >> 1, [l.strip() for l in r.stdout.splitlines()], text


def assert_paging_passed(status, lines, text):
    for part in PAGING_PARTS:
        assert f"paging: {part}: ok" in lines, text
    assert "vessel-test: paging: PASS" in lines, text
    assert status == 0, text


def test_paging_vessel(vessel, accel):
    test = "paging:kvm-pvm" if accel == "kvm" and host_is_kvm_pvm() else "paging"
    status, lines, text = vessel_boot(vessel, accel, test)
    assert_paging_passed(status, lines, text)
    if test == "paging":
        assert not any("kvm-pvm" in l for l in lines), text
        assert "paging: user: 1000 syscalls, int 0x80 1, faults 1 1 1 1" in lines, text


@pytest.mark.parametrize("kernel", [TESTKERNEL, ELF], ids=["bzimage", "pvh-elf"])
def test_paging_qemu_tcg(kernel):
    status, lines, text = qemu_boot(kernel, "paging")
    assert_paging_passed(status, lines, text)
    assert "paging: user: 1000 syscalls, int 0x80 1, faults 1 1 1 1" in lines, text
    assert not any("kvm-pvm" in l for l in lines), text


def test_paging_twice_and_with_others_qemu_tcg():
    """The test restores what it changes (GDT, TR busy bit, MSRs, IDT, page
    tables): it runs twice in a row, and the foundation tests after it."""
    status, lines, text = qemu_boot(TESTKERNEL, "paging,paging:kvm-pvm,cpuid,smp,timer,irq")
    assert "vessel-test: result: 6 passed, 0 failed" in lines, text
    assert status == 0, text


def test_paging_twice_and_with_others_emu(vessel):
    status, lines, text = vessel_boot(vessel, "emu",
                                      "paging,paging,bootparams,cpuid,smp,pci,timer,irq")
    assert "vessel-test: result: 8 passed, 0 failed" in lines, text
    assert status == 0, text


@pytest.mark.parametrize("test,reason", [
    ("paging:bogus", 'unknown argument "bogus"'),
    ("bench:0", "percentage from 1 to 1000"),
])
def test_bad_arguments_fail(test, reason):
    status, lines, text = qemu_boot(TESTKERNEL, test)
    assert status == 1, text
    assert any(l.startswith(f"vessel-test: {test.split(':')[0]}: FAIL") and reason in l
               for l in lines), text


def bench_lines(lines):
    out = {}
    for l in lines:
        m = BENCH_LINE.match(l)
        if m:
            out[m.group(1)] = tuple(int(g) if g else None for g in m.groups()[1:])
    return out


def test_bench_qemu_tcg():
    status, lines, text = qemu_boot(TESTKERNEL, "bench")
    assert "vessel-test: bench: PASS" in lines, text
    assert status == 0, text
    b = bench_lines(lines)
    assert list(b) == [*BENCH_LOOPS, "total"], text
    for loop in BENCH_LOOPS:
        insns, ns, _ = b[loop]
        assert insns > 0 and ns > 0, (loop, text)
    for loop in ("mem", "movsb", "stosq", "bytecopy"):
        assert b[loop][2] > 0, (loop, text)
    assert b["total"][0] == sum(b[l][0] for l in BENCH_LOOPS)
    assert b["total"][1] == sum(b[l][1] for l in BENCH_LOOPS)
    # The counts come from the assembler: 15 instructions per alu round,
    # 40M rounds at 100 %; 6 per REP MOVSB copy (the REP counted once).
    assert b["alu"][0] == 15 * 40_000_000, text
    assert b["movsb"][0] == 6 * 1000 and b["movsb"][2] == 1000 * 64 * 1024, text


def test_bench_scale_qemu_tcg():
    status, lines, text = qemu_boot(TESTKERNEL, "bench:10")
    assert status == 0, text
    b = bench_lines(lines)
    assert b["alu"][0] == 15 * 4_000_000, text
    assert "bench: tsc_khz=" in text and "scale=10%" in text


def test_bench_emu(vessel):
    """The bench loops compute the same checksums on emu (their results are
    checked by the guest), with the instruction counts the assembler gave."""
    status, lines, text = vessel_boot(vessel, "emu", "bench:10")
    assert "vessel-test: bench: PASS" in lines, text
    assert status == 0, text
    b = bench_lines(lines)
    assert list(b) == [*BENCH_LOOPS, "total"], text
    assert b["alu"][0] == 15 * 4_000_000, text
