/* End-to-end tests of the run loop (src/emu/emu.c) with the whole emu
 * library (core, system and irq layers): tiny hand-assembled guests run
 * under emu_cpu_run(). The source of each guest is in the comment above
 * its bytes (GNU as, linked at the address given).
 *
 * - an AP started by INIT/SIPI runs the real-mode trampoline into long mode
 * - a LAPIC timer interrupt wakes "sti; hlt" and is delivered through the IDT
 * - SYSCALL/SYSRET round trip from CPL3, then #UD reported (exit_on_exception)
 * - a triple fault ends the run with EMU_EXIT_SHUTDOWN
 * - a kick before the run returns at once
 * - the profiler (emu_cpu_set_profile) counts per block RIP and per handler,
 *   and reports nothing when off; HLT time and interrupts in the stats */
#define SYS_FAKE_REAL_CORE
#include "sys-fake.h"
#include "emu/irq.h"

#include <pthread.h>
#include <time.h>

/* at 0x8000:
 *	.code16; cli; movw %cs,%ax; movw %ax,%ds; lgdtl gdtdesc-start
 *	movl %cr0,%eax; orl $1,%eax; movl %eax,%cr0; ljmpl $0x18,$pm32
 *	.code32; pm32: movl $0x10,%eax; movl %eax,%ds; %es; %ss
 *	cr4 |= PAE; cr3 = 0x10000; EFER.LME (rdmsr/orl/wrmsr); cr0 |= PG
 *	ljmp $0x08,$lm64
 *	.code64; lm64: movq $0x9000,%rsp; pushq $0x11; popq %rax
 *	movl $0xC0FFEE,0x7000; 1: hlt; jmp 1b
 *	gdtdesc: .word 0x3f; .long 0x1000 */
static const uint8_t ap_code[] = {
	0xfa, 0x8c, 0xc8, 0x8e, 0xd8, 0x66, 0x0f, 0x01, 0x16, 0x78, 0x00, 0x0f, 0x20, 0xc0,
	0x66, 0x83, 0xc8, 0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x1d, 0x80, 0x00, 0x00, 0x18,
	0x00, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x0f, 0x20,
	0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb8, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22,
	0xd8, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f,
	0x30, 0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x59,
	0x80, 0x00, 0x00, 0x08, 0x00, 0x48, 0xc7, 0xc4, 0x00, 0x90, 0x00, 0x00, 0x6a, 0x11,
	0x58, 0xc7, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, 0xee, 0xff, 0xc0, 0x00, 0xf4, 0xeb,
	0xfd, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x10, 0x00, 0x00,
};

/* at 0x5000:
 *	movl $0xfee00000,%esi; movl $0x1ff,0xf0(%rsi)	(SVR: enabled)
 *	movl $0xb,0x3e0(%rsi); movl $0x30,0x320(%rsi)	(divide 1, one-shot vector 0x30)
 *	movl $100000,0x380(%rsi)			(100 us)
 *	1: sti; hlt; cmpl $0,0x7000; je 1b
 *	movw $0x500,%dx; movb $0x42,%al; outb %al,%dx; cli; 2: hlt; jmp 2b
 * at 0x5100: incl 0x7000; movl $0,0xb0(%rsi) (EOI); iretq */
static const uint8_t timer_code[] = {
	0xbe, 0x00, 0x00, 0xe0, 0xfe, 0xc7, 0x86, 0xf0, 0x00, 0x00, 0x00, 0xff, 0x01, 0x00,
	0x00, 0xc7, 0x86, 0xe0, 0x03, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0xc7, 0x86, 0x20,
	0x03, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0xc7, 0x86, 0x80, 0x03, 0x00, 0x00, 0xa0,
	0x86, 0x01, 0x00, 0xfb, 0xf4, 0x83, 0x3c, 0x25, 0x00, 0x70, 0x00, 0x00, 0x00, 0x74,
	0xf4, 0x66, 0xba, 0x00, 0x05, 0xb0, 0x42, 0xee, 0xfa, 0xf4, 0xeb, 0xfd,
};
static const uint8_t timer_handler[] = {
	0xff, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, 0xc7, 0x86, 0xb0,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0xcf,
};

/* at 0x5000 (CPL3): movq $5,%rax; syscall; addq $1,%rax; ud2
 * at 0x5100 (CPL0): movl $0xabc,0x7004; addq $10,%rax; sysretq */
static const uint8_t sys_user[] = {
	0x48, 0xc7, 0xc0, 0x05, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x83, 0xc0, 0x01, 0x0f, 0x0b,
};
static const uint8_t sys_kernel[] = {
	0xc7, 0x04, 0x25, 0x04, 0x70, 0x00, 0x00, 0xbc, 0x0a,
	0x00, 0x00, 0x48, 0x83, 0xc0, 0x0a, 0x48, 0x0f, 0x07,
};

#define PD_HIGH 0x14000 /* maps 3-4 GiB: the LAPIC page */

static void map_lapic(struct machine *m)
{
	put64(m, PDPT + 3 * 8, PD_HIGH | 3);
	put64(m, PD_HIGH + 8 * ((EMU_LAPIC_BASE >> 21) & 511), EMU_LAPIC_BASE | 0x83);
}

static uint32_t get32(struct machine *m, uint64_t gpa)
{
	return __atomic_load_n((uint32_t *)(m->ram + gpa), __ATOMIC_ACQUIRE);
}

struct runner {
	struct emu_cpu *cpu;
	struct emu_exit exit;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	emu_cpu_run(r->cpu, &r->exit);
	return NULL;
}

static bool wait_for(struct machine *m, uint64_t gpa, uint32_t val)
{
	for (int i = 0; i < 2000; i++) {
		if (get32(m, gpa) == val)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

static void test_ap_trampoline(void **state)
{
	struct machine *m = machine_new(2, false);
	struct runner r = { .cpu = emu_vm_cpu(m->vm, 1) };
	pthread_t t;

	(void)state;
	setup_long(m);
	memcpy(m->ram + 0x8000, ap_code, sizeof(ap_code));
	assert_int_equal(r.cpu->state, EMU_WAIT_SIPI);
	pthread_create(&t, NULL, run_thread, &r);
	emu_irq_deliver(m->vm, 1, false, EMU_DM_INIT, 0, true, 0);
	emu_irq_deliver(m->vm, 1, false, EMU_DM_SIPI, 0x08, false, 0);
	assert_true(wait_for(m, 0x7000, 0xc0ffee));
	emu_cpu_kick(r.cpu);
	pthread_join(t, NULL);
	assert_int_equal(r.exit.reason, EMU_EXIT_KICK);
	assert_int_equal(r.cpu->mode, EMU_MODE_LONG64);
	assert_int_equal(r.cpu->r[EMU_RAX], 0x11);
	assert_int_equal(r.cpu->state, EMU_HALTED);
	machine_free(m);
}

static void test_timer_wakes_hlt(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_exit x;

	(void)state;
	setup_long(m);
	map_lapic(m);
	memcpy(m->ram + 0x5000, timer_code, sizeof(timer_code));
	memcpy(m->ram + 0x5100, timer_handler, sizeof(timer_handler));
	set_gate(m, 0x30, 0x5100, 0, 0, false);
	assert_int_equal(emu_cpu_run(m->cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_KICK);
	assert_int_equal(fake_port500, 0x42);
	assert_int_equal(get32(m, 0x7000), 1);
	struct emu_stats st;
	emu_cpu_get_stats(m->cpu, &st);
	assert_true(st.insns > 10);
	assert_true(st.irqs >= 1); /* the timer's vector 0x30 */
	assert_true(st.halts >= 1 && st.halt_ns > 0); /* slept in HLT until the timer */
	machine_free(m);
}

static void test_syscall_round_trip(void **state)
{
	struct machine *m = machine_new(1, true);
	struct emu_cpu *cpu = m->cpu;
	struct emu_exit x;

	(void)state;
	setup_long(m);
	memcpy(m->ram + 0x5000, sys_user, sizeof(sys_user));
	memcpy(m->ram + 0x5100, sys_kernel, sizeof(sys_kernel));
	assert_int_equal(emu_cpu_set_msr(cpu, 0xc0000081,
					 ((uint64_t)(SEL_CODE32 | 3) << 48) |
						 ((uint64_t)SEL_CODE64 << 32)),
			 0);
	assert_int_equal(emu_cpu_set_msr(cpu, 0xc0000082, 0x5100), 0);
	load_seg_raw(cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	emu_update_mode(cpu);
	assert_int_equal(emu_cpu_run(cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_EXCEPTION);
	assert_int_equal(x.vector, EMU_UD);
	assert_int_equal(cpu->rip, 0x500d);
	assert_int_equal(cpu->cpl, 3);
	assert_int_equal(cpu->r[EMU_RAX], 16);
	assert_int_equal(get32(m, 0x7004), 0xabc);
	machine_free(m);
}

static void test_triple_fault(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_exit x;

	(void)state;
	setup_long(m);
	m->ram[0x5000] = 0x0f; /* ud2 */
	m->ram[0x5001] = 0x0b;
	m->cpu->idtr.limit = 0;
	assert_int_equal(emu_cpu_run(m->cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_SHUTDOWN);
	machine_free(m);
}

static void test_kick_first(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_exit x;

	(void)state;
	setup_long(m);
	emu_cpu_kick(m->cpu);
	assert_int_equal(emu_cpu_run(m->cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_KICK);
	assert_int_equal(m->cpu->rip, 0x5000);
	machine_free(m);
}

/* at 0x5000: movl $100,%ecx; 1: decl %ecx; jnz 1b; ud2 */
static const uint8_t loop_code[] = { 0xb9, 0x64, 0x00, 0x00, 0x00, 0xff,
				     0xc9, 0x75, 0xfc, 0x0f, 0x0b };

static uint64_t sum(const struct emu_prof_entry *e, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += e[i].count;
	return s;
}

static void test_profile(void **state)
{
	struct machine *m = machine_new(1, true);
	struct emu_prof_entry e[8], g[8];
	size_t nh, ng;
	struct emu_exit x;

	(void)state;
	setup_long(m);
	memcpy(m->ram + 0x5000, loop_code, sizeof(loop_code));
	assert_int_equal(emu_cpu_profile(m->cpu, EMU_PROF_HANDLERS, e, 8), 0); /* off */
	assert_int_equal(emu_cpu_set_profile(m->cpu, true), 0);
	assert_int_equal(emu_cpu_run(m->cpu, &x), 0);
	assert_int_equal(x.reason, EMU_EXIT_EXCEPTION);
	assert_int_equal(m->cpu->r[EMU_RCX], 0);
	ng = emu_cpu_profile(m->cpu, EMU_PROF_GUEST_RIPS, g, 8);
	nh = emu_cpu_profile(m->cpu, EMU_PROF_HANDLERS, e, 8);
	/* blocks: 0x5000 (mov, dec, jnz) once, 0x5005 (dec, jnz) 99 times, 0x5009 (ud2) */
	assert_int_equal(ng, 3);
	assert_int_equal(g[0].key, 0x5005);
	assert_int_equal(g[0].count, 198);
	assert_int_equal(g[1].key == 0x5000 ? g[1].count : g[2].count, 3);
	/* handlers: dec and jnz 100 times each, largest first, same total */
	assert_true(nh >= 3);
	assert_int_equal(e[0].count, 100);
	assert_int_equal(e[1].count, 100);
	assert_true(e[0].key != e[1].key && e[0].key != EMU_PROF_OTHER);
	assert_int_equal(sum(e, nh), sum(g, ng));
	assert_int_equal(sum(g, ng), 3 + 198 + 1);
	/* the n largest only */
	assert_int_equal(emu_cpu_profile(m->cpu, EMU_PROF_GUEST_RIPS, g, 1), 1);
	assert_int_equal(g[0].key, 0x5005);
	assert_int_equal(emu_cpu_set_profile(m->cpu, false), 0);
	assert_int_equal(emu_cpu_profile(m->cpu, EMU_PROF_GUEST_RIPS, g, 8), 0);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ap_trampoline),	   cmocka_unit_test(test_timer_wakes_hlt),
		cmocka_unit_test(test_syscall_round_trip), cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_kick_first),	   cmocka_unit_test(test_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
