"""virtio over PCI with the test guest (docs/virtio.md), under kvm and emu
(the `accel` fixture): `--device virtio-rng` puts a modern virtio-pci
entropy device on bus 0; the guest's driver (guest/testkernel/test-virtio.c)
negotiates VERSION_1, reads random bytes through a split virtqueue, takes
the INTx interrupt and then an MSI-X interrupt through the LAPIC (kvm:
KVM_SIGNAL_MSI from the device's I/O thread; emu: emu_msi), and a
descriptor outside guest RAM gets
DEVICE_NEEDS_RESET while the VMM keeps running."""
import re

from vesseltest import TESTKERNEL, run


def boot(vessel, accel, tests, *extra):
    return run([vessel, "vm", "run", "--accel", accel, "--kernel", TESTKERNEL, "--append",
                f"vessel.test={tests}", *extra], timeout=120, stdin=open("/dev/null"))


def test_virtio_rng_gives_random_bytes(vessel, accel):
    seen = set()
    for _ in range(2):
        r = boot(vessel, accel, "virtio-rng,pci", "--device", "virtio-rng")
        assert "vessel-test: virtio-rng: PASS" in r.stdout, r.stdout + r.stderr
        assert "pci: 00:01.0 1af4:1044 class ff0000" in r.stdout, r.stdout
        assert "vessel-test: result: 2 passed, 0 failed" in r.stdout, r.stdout
        assert "virtio-rng: MSI-X vector 0x28: 1 interrupt(s), isr 0x0" in r.stdout, r.stdout
        assert r.returncode == 0, r.stdout + r.stderr
        m = re.search(r"virtio-rng: ((?:[0-9a-f]{2} ){8})", r.stdout)
        assert m, r.stdout
        seen.add(m.group(1))
    assert len(seen) == 2  # two boots, two different byte strings


def test_hostile_descriptor_needs_reset_not_a_crash(vessel, accel):
    r = boot(vessel, accel, "virtio-rng,exit:7", "--device", "virtio-rng")
    # the status the guest read back has DEVICE_NEEDS_RESET (0x40)
    m = re.search(r"after a descriptor outside RAM: status 0x([0-9a-f]+)", r.stdout)
    assert m and int(m.group(1), 16) & 0x40, r.stdout
    # the VMM kept running: the next test ran and its exit status came back
    assert r.returncode == 7, r.stdout + r.stderr


def test_without_the_device_the_guest_finds_none(vessel, accel):
    r = boot(vessel, accel, "virtio-rng")
    assert "virtio-rng: FAIL no virtio-rng" in r.stdout, r.stdout
    assert r.returncode == 1


def test_unknown_device_is_one_line(vessel):
    r = run([vessel, "vm", "run", "--accel", "emu", "--kernel", TESTKERNEL,
             "--device", "virtio-nothing"], timeout=60, stdin=open("/dev/null"))
    assert r.returncode != 0
    assert r.stderr.strip() == "vessel: no device type 'virtio-nothing'", r.stderr


def test_device_options_are_checked(vessel):
    r = run([vessel, "vm", "run", "--accel", "emu", "--kernel", TESTKERNEL,
             "--device", "virtio-rng,foo=1"], timeout=60, stdin=open("/dev/null"))
    assert r.returncode != 0
    assert "virtio-rng: no options expected, got 'foo=1'" in r.stderr, r.stderr
