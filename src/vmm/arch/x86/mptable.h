/* Intel MultiProcessor Specification 1.4 tables: how a firmware-less guest
 * learns its CPUs, the IOAPIC and the ISA interrupt routing. */
#ifndef VS_VMM_ARCH_X86_MPTABLE_H
#define VS_VMM_ARCH_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the floating pointer and configuration table at buf (which maps
 * guest-physical gpa, len bytes). APIC IDs are 0..ncpus-1; the IOAPIC's ID
 * is ncpus. Returns bytes used, or -ENOSPC. */
int vs_mptable_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned ncpus);

/* Size vs_mptable_build() needs for ncpus. */
size_t vs_mptable_size(unsigned ncpus);

#endif
