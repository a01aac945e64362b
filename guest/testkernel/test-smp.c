/* test-smp.c - start every AP with INIT-SIPI-SIPI (SDM vol. 3 §8.4.4.1) and let each report,
 * then check that locked instructions are atomic across CPUs.
 *
 * APs are started one at a time: the BSP sets ap_stack_top, sends the IPIs and
 * waits for ap_count to move, so no two APs ever share a stack. Then every CPU
 * at once hammers shared counters with LOCK ADD, LOCK XADD, LOCK CMPXCHG loops
 * and a plain increment under an XCHG spinlock; a lost update shows in the sums. */
#include "apic.h"
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "cpus.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"

#define ICR_INIT 0x4500 /* INIT, level assert */
#define ICR_STARTUP 0x4600 /* Start-up IPI; vector = trampoline page */
#define AP_TIMEOUT_US 1000000
#define ATOMIC_ROUNDS 20000 /* per CPU; small enough for KVM-PVM's emulated CPL0 */

void ap_main(void);

uint64_t ap_stack_top; /* read by ap_start64 (head.S) */
static volatile unsigned int ap_count;
static volatile unsigned int atomics_go, atomics_done;
static uint64_t n_lock_add, n_xadd, n_cmpxchg, n_spin;
static volatile uint32_t spin;
static uint8_t ap_stacks[TK_MAX_CPUS][TK_AP_STACK_SIZE]
	__attribute__((section(".noinit"), aligned(16)));
extern const char tramp_start[], tramp_end[];

static void spin_lock(void)
{
	uint32_t v = 1;

	for (;;) {
		__asm__ volatile("xchg %0, %1" : "+r"(v), "+m"(spin) : : "memory");
		if (!v)
			return;
		v = 1;
		while (spin)
			cpu_pause();
	}
}

/* One CPU's share of the atomicity check. */
static void atomics_run(void)
{
	for (unsigned i = 0; i < ATOMIC_ROUNDS; i++) {
		uint64_t old = n_cmpxchg, one = 1;

		__asm__ volatile("lock addq $1, %0" : "+m"(n_lock_add) : : "memory", "cc");
		__asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(n_xadd) : : "memory", "cc");
		while (!__atomic_compare_exchange_n(&n_cmpxchg, &old, old + 1, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			;
		spin_lock();
		n_spin = n_spin + 1;
		__atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&atomics_done, 1, __ATOMIC_SEQ_CST);
}

/* The AP's C entry, on its own stack, interrupts off. */
void ap_main(void)
{
	unsigned int go = atomics_go;

	idt_load();
	lapic_enable();
	kprintf("smp: cpu %u up\n", lapic_id());
	__atomic_add_fetch(&ap_count, 1, __ATOMIC_SEQ_CST);
	while (atomics_go == go)
		cpu_pause();
	atomics_run();
	cpu_halt_forever();
}

/* Releases the APs into atomics_run(), runs it here too, checks the sums. */
static int check_atomics(unsigned int ncpus)
{
	uint64_t want = (uint64_t)ncpus * ATOMIC_ROUNDS, end;

	n_lock_add = n_xadd = n_cmpxchg = n_spin = 0;
	atomics_done = 0;
	__atomic_add_fetch(&atomics_go, 1, __ATOMIC_SEQ_CST);
	atomics_run();
	end = tsc_deadline(10 * AP_TIMEOUT_US);
	while (atomics_done < ncpus && rdtsc() < end)
		cpu_pause();
	kprintf("smp: atomics cpus=%u lock_add=%lu xadd=%lu cmpxchg=%lu spinlock=%lu want=%lu\n",
		atomics_done, n_lock_add, n_xadd, n_cmpxchg, n_spin, want);
	if (atomics_done < ncpus)
		return test_fail("only %u of %u CPUs finished the atomics", atomics_done, ncpus);
	if (n_lock_add != want || n_xadd != want || n_cmpxchg != want || n_spin != want)
		return test_fail("lost updates: locked instructions are not atomic across CPUs");
	return 0;
}

static bool under_hypervisor(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[2] & (1u << 31);
}

/* Starts one AP; returns 0 once it has reported, -1 on timeout. */
static int start_ap(uint32_t apic_id, unsigned int slot)
{
	unsigned int before = ap_count;
	uint64_t end;

	ap_stack_top = (uintptr_t)ap_stacks[slot] + TK_AP_STACK_SIZE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(apic_id, ICR_INIT);
	/* The MP spec's 10 ms after INIT is for old hardware; like Linux on
	 * modern and virtual CPUs, skip it under a hypervisor. */
	if (!under_hypervisor())
		udelay(10000);
	for (int i = 0; i < 2 && ap_count == before; i++) {
		lapic_send_ipi(apic_id, ICR_STARTUP | (TK_TRAMP_BASE >> 12));
		udelay(200);
	}
	end = tsc_deadline(AP_TIMEOUT_US);
	while (ap_count == before && rdtsc() < end)
		cpu_pause();
	return ap_count == before ? -1 : 0;
}

int test_smp(const char *arg)
{
	struct cpu_list cpus;
	unsigned int slot = 0, missing = 0;
	uint32_t first_missing = 0;

	(void)arg;
	if (cpus_find(&cpus))
		return test_fail("no CPU list: %s", cpus.source);
	kprintf("smp: cpus=%u source=%s bsp_apic_id=%u\n", cpus.count, cpus.source, bsp_apic_id);
	if (!e820_is_ram(TK_TRAMP_BASE, TK_TRAMP_BASE + 4096))
		return test_fail("no RAM for the AP trampoline at 0x%x", TK_TRAMP_BASE);
	memcpy(phys(TK_TRAMP_BASE), tramp_start, tramp_end - tramp_start);
	ap_count = 0; /* smp may run twice: INIT resets the halted APs */
	lapic_enable();
	kprintf("smp: cpu %u up (bsp)\n", bsp_apic_id);
	for (unsigned int i = 0; i < cpus.count; i++) {
		if (cpus.apic_id[i] == bsp_apic_id)
			continue;
		if (start_ap(cpus.apic_id[i], slot++) && !missing++)
			first_missing = cpus.apic_id[i];
	}
	kprintf("smp: started=%u of %u\n", ap_count + 1, cpus.count);
	if (missing)
		return test_fail("%u AP(s) did not report within %u ms (first: apic id %u)",
				 missing, AP_TIMEOUT_US / 1000, first_missing);
	return check_atomics(ap_count + 1);
}
