/* tsc.h - time keeping with the TSC. */
#ifndef VS_TK_TSC_H
#define VS_TK_TSC_H

#include <stdint.h>

/* Where a frequency came from (printed by the tests). */
extern const char *tsc_khz_source, *apic_khz_source;

/* TSC frequency in kHz, computed once: CPUID 0x40000010 EAX (vessel's
 * VMware-style timing leaf), else PIT channel 2 calibration (best of 3 x 20 ms), else
 * KVM's pvclock scale (no PIT, e.g. QEMU microvm), else a 3 GHz guess. */
uint64_t tsc_khz(void);

/* LAPIC timer input clock in kHz: CPUID 0x40000010 EBX, else 1 GHz (what
 * KVM's and QEMU's LAPIC emulations use). */
uint64_t apic_bus_khz(void);

/* Busy-waits @us microseconds. */
void udelay(uint64_t us);

/* A TSC value @us microseconds from now. */
uint64_t tsc_deadline(uint64_t us);

#endif
