/* kvm-clock: the KVM paravirtual clock MSRs (Linux
 * Documentation/virt/kvm/x86/msr.rst). MSR_KVM_SYSTEM_TIME(_NEW) makes us
 * write a struct pvclock_vcpu_time_info into guest memory; MSR_KVM_WALL_CLOCK
 * (_NEW) a struct pvclock_wall_clock. The guest's clock is then
 *   ns = system_time + scale(tsc - tsc_timestamp, tsc_to_system_mul, tsc_shift)
 * which, with our TSC derived from CLOCK_MONOTONIC, is host monotonic time
 * since the VM's TSC epoch. */
#include "emu/irq.h"

#include <assert.h>
#include <time.h>

#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_SYSTEM_TIME_ENABLE 1ULL
#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

/* Guest ABI (arch/x86/include/asm/pvclock-abi.h). */
struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));
static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));
static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock ABI");

/* mul and shift such that ns = ((delta << shift) or (delta >> -shift)) * mul >> 32
 * for a TSC of khz: the largest mul below 2^32 (most precise), as
 * 2^32 * 1e6 / khz / 2^shift. */
void emu_kvmclock_scale(uint32_t khz, uint32_t *mul, int8_t *shift)
{
	int s = 32;
	unsigned __int128 m = 0;

	/* start where mul < 1 would truncate badly, then double while it fits */
	for (; s > -32; s--) {
		unsigned __int128 next = ((unsigned __int128)1000000U << (64 - (s - 1))) / khz;

		next >>= 32;
		if (next >> 32)
			break;
		m = next;
	}
	*mul = (uint32_t)m;
	*shift = (int8_t)s;
}

/* The version word as a naturally aligned uint32_t (callers check that the
 * structure is 4-byte aligned), so the store is one atomic access. */
static void put_version(void *version_field, uint32_t v)
{
	__atomic_store_n((uint32_t *)version_field, v, __ATOMIC_RELAXED);
}

static void put_time_info(struct emu_cpu *cpu, struct pvclock_vcpu_time_info *p)
{
	struct emu_vm *vm = cpu->vm;
	uint64_t tsc = emu_tsc_at(vm, emu_host_ns());
	uint32_t mul;
	int8_t shift;

	emu_kvmclock_scale(vm->tsc_khz, &mul, &shift);
	/* version odd while we write, even after: the guest retries around us */
	put_version(&p->version, p->version | 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	p->tsc_timestamp = tsc + cpu->msr.tsc_offset;
	p->system_time = emu_tsc_to_ns(vm, tsc);
	p->tsc_to_system_mul = mul;
	p->tsc_shift = shift;
	p->flags = PVCLOCK_TSC_STABLE_BIT;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put_version(&p->version, (p->version | 1) + 1);
}

/* Host wall-clock time at the guest's system_time 0 (the TSC epoch). */
static void put_wall_clock(struct emu_vm *vm, struct pvclock_wall_clock *w)
{
	struct timespec rt;
	uint64_t boot_ns, since = emu_host_ns() - vm->tsc_epoch_ns;

	clock_gettime(CLOCK_REALTIME, &rt);
	boot_ns = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec - since;
	put_version(&w->version, w->version | 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	w->sec = (uint32_t)(boot_ns / 1000000000ULL);
	w->nsec = (uint32_t)(boot_ns % 1000000000ULL);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put_version(&w->version, (w->version | 1) + 1);
}

bool emu_kvmclock_wrmsr(struct emu_cpu *cpu, uint32_t index, uint64_t val)
{
	void *p;

	switch (index) {
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		cpu->msr.kvm_system_time = val;
		if (!(val & KVM_SYSTEM_TIME_ENABLE))
			return true;
		/* The structure must lie in RAM, 4-byte aligned (the ABI's
		 * alignment); elsewhere the clock stays off. */
		p = emu_phys_ptr(cpu->vm, val & ~1ULL, sizeof(struct pvclock_vcpu_time_info));
		if (p && !(val & 2))
			put_time_info(cpu, p);
		return true;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		cpu->msr.kvm_wall_clock = val;
		p = emu_phys_ptr(cpu->vm, val, sizeof(struct pvclock_wall_clock));
		if (p && !(val & 3))
			put_wall_clock(cpu->vm, p);
		return true;
	default:
		return false;
	}
}
