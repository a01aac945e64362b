/* Unit tests of exception and interrupt delivery (src/emu/except.c) and of
 * the returns from it (IRET in xfer.c): long-mode gates, TSS stack switch
 * from CPL3, IST, error codes, #DF escalation, triple fault, INT n DPL
 * checks, real-mode IVT delivery, 32-bit protected-mode gates,
 * exit_on_exception, and IRETQ to CPL3 and to the same CPL. */
#include "sys-fake.h"

static void test_long_same_cpl(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	set_gate(m, EMU_GP, 0x123456, 0, 0, false);
	cpu->rflags = 2 | EMU_FLAG_IF | EMU_FLAG_CF;
	cpu->r[EMU_RSP] = 0x8008; /* not 16-byte aligned: the frame is */
	raise_and_deliver(cpu, EMU_GP, 0x18);
	assert_int_equal(cpu->rip, 0x123456);
	assert_int_equal(cpu->r[EMU_RSP], 0x8000 - 48);
	assert_int_equal(get64(m, 0x8000 - 48), 0x18); /* error code */
	assert_int_equal(get64(m, 0x8000 - 40), 0x5000); /* RIP */
	assert_int_equal(get64(m, 0x8000 - 32), SEL_CODE64); /* CS */
	assert_int_equal(get64(m, 0x8000 - 24), 2 | EMU_FLAG_IF | EMU_FLAG_CF);
	assert_int_equal(get64(m, 0x8000 - 16), 0x8008); /* RSP */
	assert_int_equal(get64(m, 0x8000 - 8), SEL_DATA); /* SS */
	assert_false(cpu->rflags & EMU_FLAG_IF); /* interrupt gate */
	assert_int_equal(cpu->exc.vector, -1);
	/* IRETQ back */
	assert_int_equal(CATCH(cpu,
			       {
				       cpu->r[EMU_RSP] += 8;
				       emu_iret(cpu, 8);
			       }),
			 -1);
	assert_int_equal(cpu->rip, 0x5000);
	assert_int_equal(cpu->r[EMU_RSP], 0x8008);
	assert_true(cpu->rflags & EMU_FLAG_IF);
	machine_free(m);
}

static void to_user(struct emu_cpu *cpu)
{
	load_seg_raw(cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	emu_update_mode(cpu);
}

static void test_long_from_user(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	set_gate(m, 0x80, 0x7777, 3, 0, true);
	to_user(cpu);
	assert_int_equal(cpu->cpl, 3);
	cpu->r[EMU_RSP] = 0x6543;
	cpu->rflags = 2 | EMU_FLAG_IF;
	assert_int_equal(CATCH(cpu, emu_soft_int(cpu, 0x80, 0x5002, true)), -1);
	assert_int_equal(cpu->cpl, 0);
	assert_int_equal(cpu->seg[EMU_CS].sel, SEL_CODE64);
	assert_int_equal(cpu->seg[EMU_SS].sel, 0);
	assert_int_equal(cpu->r[EMU_RSP], RSP0 - 40);
	assert_int_equal(get64(m, RSP0 - 40), 0x5002);
	assert_int_equal(get64(m, RSP0 - 32), SEL_UCODE | 3);
	assert_int_equal(get64(m, RSP0 - 16), 0x6543);
	assert_int_equal(get64(m, RSP0 - 8), SEL_UDATA | 3);
	assert_true(cpu->rflags & EMU_FLAG_IF); /* trap gate */
	/* IRETQ to CPL3 pops SS:RSP */
	assert_int_equal(CATCH(cpu, emu_iret(cpu, 8)), -1);
	assert_int_equal(cpu->cpl, 3);
	assert_int_equal(cpu->mode, EMU_MODE_LONG64);
	assert_int_equal(cpu->rip, 0x5002);
	assert_int_equal(cpu->r[EMU_RSP], 0x6543);
	assert_int_equal(cpu->seg[EMU_SS].sel, SEL_UDATA | 3);
	/* INT n through a DPL0 gate from CPL3: #GP(n*8+2) */
	set_gate(m, 0x81, 0x7777, 0, 0, false);
	assert_int_equal(CATCH(cpu, emu_soft_int(cpu, 0x81, 0x5002, true)), EMU_GP);
	assert_int_equal(cpu->exc.error_code, 0x81 * 8 + 2);
	machine_free(m);
}

static void test_ist(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	set_gate(m, EMU_NMI, 0x4444, 0, 1, false);
	raise_and_deliver(cpu, EMU_NMI, EMU_NO_ERRCODE);
	assert_int_equal(cpu->rip, 0x4444);
	assert_int_equal(cpu->r[EMU_RSP], IST1 - 40);
	machine_free(m);
}

static void test_double_and_triple_fault(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	/* #GP's gate not present: #NP while delivering #GP is a double fault */
	set_gate(m, EMU_DF, 0xdf00, 0, 1, false);
	raise_and_deliver(cpu, EMU_GP, 0);
	assert_int_equal(cpu->rip, 0xdf00);
	assert_int_equal(get64(m, IST1 - 48), 0); /* #DF's error code */
	/* a page fault while delivering a page fault: #DF too */
	setup_long(m);
	set_gate(m, EMU_PF, 0xaaaa, 0, 0, false);
	put64(m, 0x8000, 0);
	put64(m, PT + 8 * 7, 0); /* the stack page is gone */
	raise_and_deliver(cpu, EMU_PF, 2);
	assert_int_equal(cpu->rip, 0xdf00);
	/* no IDT at all: triple fault */
	setup_long(m);
	cpu->idtr.limit = 0;
	raise_and_deliver(cpu, EMU_UD, EMU_NO_ERRCODE);
	assert_true(cpu->sys->exit_pending);
	assert_int_equal(m->exit.reason, EMU_EXIT_SHUTDOWN);
	assert_non_null(strstr(m->exit.detail, "triple fault"));
	machine_free(m);
}

static void test_benign_serial(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	/* #UD's gate is missing: the #GP it causes is delivered as such */
	set_gate(m, EMU_GP, 0x6666, 0, 0, false);
	raise_and_deliver(cpu, EMU_UD, EMU_NO_ERRCODE);
	assert_int_equal(cpu->rip, 0x6666);
	assert_int_equal(get64(m, 0x8000 - 48), EMU_UD * 8 + 2);
	machine_free(m);
}

static void test_real_mode_ivt(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;
	uint32_t ivt = (0x1234u << 16) | 0x5678;

	(void)state;
	memcpy(m->ram + 8 * 4, &ivt, 4);
	cpu->seg[EMU_CS].sel = 0x100;
	cpu->seg[EMU_CS].base = 0x1000;
	cpu->rip = 0x20;
	cpu->r[EMU_RSP] = 0x400;
	cpu->rflags = 2 | EMU_FLAG_IF;
	emu_deliver_event(cpu, 8, EMU_NO_ERRCODE, false, true, cpu->rip);
	assert_int_equal(cpu->seg[EMU_CS].base, 0x12340);
	assert_int_equal(cpu->rip, 0x5678);
	assert_int_equal(cpu->r[EMU_RSP], 0x3fa);
	assert_false(cpu->rflags & EMU_FLAG_IF);
	uint16_t frame[3];
	memcpy(frame, m->ram + 0x3fa, 6);
	assert_int_equal(frame[0], 0x20);
	assert_int_equal(frame[1], 0x100);
	assert_int_equal(frame[2], 2 | EMU_FLAG_IF);
	assert_int_equal(CATCH(cpu, emu_iret(cpu, 2)), -1);
	assert_int_equal(cpu->seg[EMU_CS].base, 0x1000);
	assert_int_equal(cpu->rip, 0x20);
	assert_int_equal(cpu->r[EMU_RSP], 0x400);
	assert_true(cpu->rflags & EMU_FLAG_IF);
	machine_free(m);
}

static void test_prot32_gate(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;
	uint64_t gate = 0x2222 | ((uint64_t)SEL_CODE32 << 16) | (0x8eULL << 40);

	(void)state;
	setup_long(m);
	cpu->efer = 0;
	cpu->cr0 = EMU_CR0_PE | EMU_CR0_ET;
	cpu->cr4 = 0;
	load_seg_raw(cpu, EMU_CS, SEL_CODE32, 0xc9b);
	emu_update_mode(cpu);
	assert_int_equal(cpu->mode, EMU_MODE_PROT32);
	put64(m, IDT + 0x30 * 8, gate);
	cpu->idtr.limit = 0x7ff;
	cpu->rip = 0x1000;
	cpu->r[EMU_RSP] = 0x8000;
	emu_deliver_event(cpu, 0x30, EMU_NO_ERRCODE, false, true, cpu->rip);
	assert_int_equal(cpu->rip, 0x2222);
	assert_int_equal(cpu->r[EMU_RSP], 0x8000 - 12);
	assert_int_equal(get64(m, 0x8000 - 12) & 0xffffffff, 0x1000);
	assert_int_equal(CATCH(cpu, emu_iret(cpu, 4)), -1);
	assert_int_equal(cpu->rip, 0x1000);
	assert_int_equal(cpu->r[EMU_RSP], 0x8000);
	machine_free(m);
}

static void test_exit_on_exception(void **state)
{
	struct machine *m = machine_new(1, true);
	struct emu_cpu *cpu = m->cpu;
	struct emu_insn in = { .rip = 0x5000, .len = 2 };

	(void)state;
	setup_long(m);
	cpu->cur = &in;
	cpu->rip = 0x5002;
	put64(m, PT + 8 * 0x42, 0);
	cpu->exc.vector = -1;
	if (setjmp(cpu->jmp) == 0)
		emu_read_lin(cpu, 0x42010, 4);
	else
		emu_exception_deliver(cpu);
	assert_true(cpu->sys->exit_pending);
	assert_int_equal(m->exit.reason, EMU_EXIT_EXCEPTION);
	assert_int_equal(m->exit.vector, EMU_PF);
	assert_true(m->exit.has_error_code);
	assert_int_equal(m->exit.error_code, 0);
	assert_int_equal(m->exit.cr2, 0x42010);
	assert_int_equal(cpu->rip, 0x5000);
	machine_free(m);
}

static void test_unimplemented(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;
	struct emu_insn in = { .rip = 0x4000, .len = 3, .map = 1, .opcode = 0x38 };
	uint64_t first;

	(void)state;
	setup_long(m);
	m->ram[0x4000] = 0x0f;
	m->ram[0x4001] = 0x38;
	m->ram[0x4002] = 0xff;
	emu_read_lin(cpu, 0x4000, 1); /* the bytes are in the TLB, as after a fetch */
	cpu->cur = &in;
	assert_int_equal(CATCH(cpu, emu_raise_unimplemented(cpu, &in)), EMU_UD);
	assert_int_equal(cpu->rip, 0x4000);
	first = cpu->ud_log_next_ns;
	assert_true(first > 0);
	/* rate-limited: a second one within the second logs nothing */
	assert_int_equal(CATCH(cpu, emu_raise_unimplemented(cpu, &in)), EMU_UD);
	assert_int_equal(cpu->ud_log_next_ns, first);
	cpu->cur = NULL;
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_same_cpl),
		cmocka_unit_test(test_long_from_user),
		cmocka_unit_test(test_ist),
		cmocka_unit_test(test_double_and_triple_fault),
		cmocka_unit_test(test_benign_serial),
		cmocka_unit_test(test_real_mode_ivt),
		cmocka_unit_test(test_prot32_gate),
		cmocka_unit_test(test_exit_on_exception),
		cmocka_unit_test(test_unimplemented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
