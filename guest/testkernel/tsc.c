/* tsc.c - TSC frequency from the hypervisor's timing leaf or the PIT. */
#include "tsc.h"

#include "arch.h"

#define CPUID_HV_BASE 0x40000000
#define CPUID_HV_TIMING 0x40000010
#define PIT_HZ 1193182
#define PIT_CAL_MS 50
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define PIT_POLL_LIMIT 10000000

const char *tsc_khz_source = "none";
const char *apic_khz_source = "none";
static uint64_t tsc_khz_cached, apic_khz_cached;

/* Returns 1 and fills r if the hypervisor implements the timing leaf. */
static int hv_timing_leaf(uint32_t r[4])
{
	uint32_t id[4];

	cpuid(1, 0, id);
	if (!(id[2] & (1u << 31)))
		return 0;
	cpuid(CPUID_HV_BASE, 0, id);
	if (id[0] < CPUID_HV_TIMING)
		return 0;
	cpuid(CPUID_HV_TIMING, 0, r);
	return 1;
}

/* Mode 0 on channel 2 with the gate high: OUT2 rises when the count ends. */
static uint64_t pit_calibrate(void)
{
	uint32_t count = PIT_HZ * PIT_CAL_MS / 1000;
	uint64_t t0, t1;
	int i;

	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xB0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	t0 = rdtsc();
	for (i = 0; i < PIT_POLL_LIMIT && !(inb(PORT_B) & 0x20); i++)
		;
	t1 = rdtsc();
	if (i == PIT_POLL_LIMIT || t1 <= t0)
		return 0;
	return (t1 - t0) / PIT_CAL_MS;
}

uint64_t tsc_khz(void)
{
	uint32_t r[4];

	if (tsc_khz_cached)
		return tsc_khz_cached;
	if (hv_timing_leaf(r) && r[0]) {
		tsc_khz_cached = r[0];
		tsc_khz_source = "cpuid 0x40000010";
	} else {
		tsc_khz_cached = pit_calibrate();
		tsc_khz_source = "pit";
	}
	if (!tsc_khz_cached) {
		/* Never 0: delays must still end. 1 GHz is a safe-side guess. */
		tsc_khz_cached = 1000000;
		tsc_khz_source = "guess";
	}
	return tsc_khz_cached;
}

uint64_t apic_bus_khz(void)
{
	uint32_t r[4];

	if (apic_khz_cached)
		return apic_khz_cached;
	if (hv_timing_leaf(r) && r[1]) {
		apic_khz_cached = r[1];
		apic_khz_source = "cpuid 0x40000010";
	} else {
		apic_khz_cached = 1000000;
		apic_khz_source = "assumed (KVM/QEMU xAPIC bus)";
	}
	return apic_khz_cached;
}

uint64_t tsc_deadline(uint64_t us)
{
	return rdtsc() + us * tsc_khz() / 1000;
}

void udelay(uint64_t us)
{
	uint64_t end = tsc_deadline(us);

	while (rdtsc() < end)
		cpu_pause();
}
