/* tsc.c - TSC frequency from the hypervisor's timing leaf or the PIT. */
#include "tsc.h"

#include "arch.h"

#define CPUID_HV_BASE 0x40000000
#define CPUID_HV_TIMING 0x40000010
#define PIT_HZ 1193182
#define PIT_CAL_MS 20
#define PIT_CAL_RUNS 3
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

/* Mode 0 on channel 2 with the gate high: OUT2 rises when the count ends.
 * Returns 0 if there is no PIT (OUT2 already high before the count ran: a
 * floating port reads 0xFF) or it never fires. */
static uint64_t pit_calibrate_once(void)
{
	uint32_t count = PIT_HZ * PIT_CAL_MS / 1000;
	uint64_t t0, t1;
	int i;

	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xB0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	t0 = rdtsc();
	if (inb(PORT_B) & 0x20)
		return 0;
	for (i = 0; i < PIT_POLL_LIMIT && !(inb(PORT_B) & 0x20); i++)
		;
	t1 = rdtsc();
	if (i == PIT_POLL_LIMIT || t1 <= t0)
		return 0;
	return (t1 - t0) / PIT_CAL_MS;
}

/* KVM's pvclock (Documentation/virt/kvm/x86/msr.rst): the hypervisor's own
 * TSC-to-nanoseconds scale gives the TSC frequency exactly. 0 if absent. */
static uint64_t kvmclock_khz(void)
{
	static volatile struct {
		uint32_t version, pad0;
		uint64_t tsc_timestamp, system_time;
		uint32_t tsc_to_system_mul;
		int8_t tsc_shift;
		uint8_t flags, pad[2];
	} __attribute__((aligned(64))) pv;
	uint32_t r[4], msr;
	uint64_t khz;

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 31)))
		return 0;
	cpuid(CPUID_HV_BASE, 0, r);
	if (r[1] != 0x4b4d564b || r[0] < CPUID_HV_BASE + 1) /* "KVMK" */
		return 0;
	cpuid(CPUID_HV_BASE + 1, 0, r);
	if (r[0] & (1u << 3))
		msr = 0x4b564d01; /* MSR_KVM_SYSTEM_TIME_NEW */
	else if (r[0] & 1)
		msr = 0x12; /* MSR_KVM_SYSTEM_TIME */
	else
		return 0;
	pv.tsc_to_system_mul = 0;
	wrmsr(msr, (uintptr_t)&pv | 1);
	for (int i = 0; i < 1000 && (!pv.tsc_to_system_mul || (pv.version & 1)); i++)
		cpu_pause();
	wrmsr(msr, 0);
	if (!pv.tsc_to_system_mul)
		return 0;
	/* ns = (tsc << shift) * mul >> 32, so tsc_hz = 1e9 * 2^32 / mul / 2^shift */
	khz = (1000000ull << 32) / pv.tsc_to_system_mul;
	return pv.tsc_shift >= 0 ? khz >> pv.tsc_shift : khz << -pv.tsc_shift;
}

/* The minimum of a few runs: a vCPU preempted on a busy host sees the PIT
 * late, which can only inflate the TSC count. */
static uint64_t pit_calibrate(void)
{
	uint64_t best = 0;

	for (int i = 0; i < PIT_CAL_RUNS; i++) {
		uint64_t khz = pit_calibrate_once();

		if (!khz)
			return 0;
		if (!best || khz < best)
			best = khz;
	}
	return best;
}

uint64_t tsc_khz(void)
{
	uint32_t r[4];

	if (tsc_khz_cached)
		return tsc_khz_cached;
	if (hv_timing_leaf(r) && r[0]) {
		tsc_khz_cached = r[0];
		tsc_khz_source = "cpuid 0x40000010";
	} else if ((tsc_khz_cached = pit_calibrate())) {
		tsc_khz_source = "pit";
	} else if ((tsc_khz_cached = kvmclock_khz())) {
		tsc_khz_source = "kvmclock";
	} else {
		/* Never 0: delays must still end. 3 GHz errs towards long waits. */
		tsc_khz_cached = 3000000;
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
