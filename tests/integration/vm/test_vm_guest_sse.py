"""The test guest's `sse` test (guest/testkernel/test-sse.c): SSE enabled by
the guest itself, arithmetic and MXCSR rounding/FTZ against IEEE 754 values,
glibc's strlen idiom, PSHUFB/CRC32/PCMPISTRI, #NM from CR0.TS, #XM with
CR4.OSXMMEXCPT and #UD without it, #UD with CR4.OSFXSR clear, #GP(0) on a
misaligned MOVAPS. Under vessel's emu and KVM; QEMU's TCG, which never
raises #XM, checks the rest as a reference."""
from test_vm_guest_cpu import host_is_kvm_pvm, qemu_boot, vessel_boot
from vesseltest import TESTKERNEL, skip

PARTS = ("compute", "nm", "xm", "ud", "osfxsr", "align")


def test_sse_vessel(vessel, accel):
    if accel == "kvm" and host_is_kvm_pvm():
        skip("KVM-PVM's CPL0 instruction emulator does not implement SSE (LDMXCSR: "
             "emulation failure)")
    status, lines, text = vessel_boot(vessel, accel, "sse,cpuid")
    for part in PARTS:
        assert f"sse: {part}: ok" in lines, text
    assert "vessel-test: sse: PASS" in lines, text
    assert "vessel-test: result: 2 passed, 0 failed" in lines, text
    assert status == 0, text


def test_sse_qemu_tcg():
    status, lines, text = qemu_boot(TESTKERNEL, "sse:tcg")
    for part in ("compute", "nm", "osfxsr", "align"):
        assert f"sse: {part}: ok" in lines, text
    assert "vessel-test: sse: PASS" in lines, text
    assert status == 0, text
