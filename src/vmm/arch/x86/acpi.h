/* ACPI tables for vessel's machine (ACPI 6.4 ch. 5): RSDP, XSDT, FADT,
 * FACS, MADT and a DSDT, written by the VMM into the BIOS area where Linux
 * finds the RSDP (its scan of 0xE0000-0xFFFFF, and boot_params.acpi_rsdp_addr).
 * They describe the same machine as the MP table (mptable.c), which stays
 * for kernels booted with acpi=off or built without ACPI:
 *  - MADT: one enabled local APIC per vCPU (IDs 0..n-1), the IOAPIC (ID n,
 *    GSI base 0), ISA IRQs identity-mapped except the SCI (IRQ 9, level,
 *    active high: what the line really is), LINT1 = NMI; PC/AT PICs present.
 *  - FADT: full (not hardware-reduced) ACPI with the PM1a blocks of
 *    hw/acpi-pm.h, SCI on IRQ 9, no SMI_CMD (always in ACPI mode), the
 *    fixed-feature power button, no sleep button, no i8042 and no VGA, reset
 *    register = port 0xCF9 value 6 (hw/pci.c).
 *  - DSDT: \_S5, the PCI host bridge \_SB.PCI0 (bus 0, its I/O and 32-bit
 *    memory windows, the _PRT INTx routing of hw/pci.h), COM1, the RTC and
 *    the pvpanic port (QEMU0001, hw/pvpanic.h). */
#ifndef VS_VMM_ARCH_X86_ACPI_H
#define VS_VMM_ARCH_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define VS_ACPI_MAX_SIZE 0x4000 /* the tables for 254 vCPUs fit */

/* Writes the tables at buf, which maps guest-physical gpa (16-byte
 * aligned; the RSDP is at gpa), len bytes. Returns the bytes used, or
 * -ENOSPC (len too small, ncpus 0 or above 254) or -EINVAL (gpa). */
long vs_acpi_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned ncpus);

#endif
