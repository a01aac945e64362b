/* Unit tests of the emu MMU (src/emu/mmu.c, paging.c): 4-level walks with
 * 4 KiB/2 MiB/1 GiB pages, #PF error codes and CR2, U/S, R/W, WP, NX,
 * accessed/dirty bits, global pages across CR3 loads, INVLPG, page-crossing
 * accesses, MMIO routing (LAPIC page, other MMIO), code-page writes, and
 * paging off. */
#include "sys-fake.h"
#include "emu/paging.h"

#define PTE(i) (PT + 8 * (i))

static void test_identity_read_write(void **state)
{
	struct machine *m = machine_new(1, false);

	(void)state;
	setup_long(m);
	put64(m, 0x4008, 0x1122334455667788ULL);
	assert_int_equal(CATCH(m->cpu, assert_int_equal(emu_read_lin(m->cpu, 0x4008, 8),
							0x1122334455667788ULL)),
			 -1);
	assert_int_equal(CATCH(m->cpu, emu_write_lin(m->cpu, 0x4010, 4, 0xdeadbeef)), -1);
	assert_int_equal(get64(m, 0x4010), 0xdeadbeef);
	/* accessed and dirty set on the leaf, accessed on the upper levels */
	assert_true(get64(m, PTE(4)) & 0x60);
	assert_true(get64(m, PD) & 0x20);
	/* a 2 MiB page */
	assert_int_equal(CATCH(m->cpu, emu_write_lin(m->cpu, 0x300000, 8, 42)), -1);
	assert_int_equal(get64(m, 0x300000), 42);
	assert_true(get64(m, PD + 8) & 0x40);
	machine_free(m);
}

static void test_not_present(void **state)
{
	struct machine *m = machine_new(1, false);

	(void)state;
	setup_long(m);
	put64(m, PTE(5), 0);
	assert_int_equal(CATCH(m->cpu, emu_read_lin(m->cpu, 0x5123, 4)), EMU_PF);
	assert_int_equal(m->cpu->exc.error_code, 0);
	assert_int_equal(m->cpu->cr2, 0x5123);
	assert_int_equal(CATCH(m->cpu, emu_write_lin(m->cpu, 0x5ff0, 4, 1)), EMU_PF);
	assert_int_equal(m->cpu->exc.error_code, EMU_PF_W);
	/* non-canonical: #GP(0) */
	assert_int_equal(CATCH(m->cpu, emu_read_lin(m->cpu, 0x0000800000000000ULL, 1)), EMU_GP);
	machine_free(m);
}

static void test_protection(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	put64(m, PTE(6), 0x6000 | 1); /* supervisor, read-only */
	put64(m, PTE(7), 0x7000 | 3 | (1ULL << 63)); /* supervisor, NX */
	assert_int_equal(CATCH(cpu, emu_read_lin(cpu, 0x6000, 1)), -1);
	assert_int_equal(CATCH(cpu, emu_write_lin(cpu, 0x6000, 1, 1)), EMU_PF);
	assert_int_equal(cpu->exc.error_code, EMU_PF_P | EMU_PF_W);
	/* WP off: supervisor writes to read-only pages go through */
	cpu->cr0 &= ~EMU_CR0_WP;
	emu_tlb_flush_all(cpu);
	assert_int_equal(CATCH(cpu, emu_write_lin(cpu, 0x6000, 1, 1)), -1);
	cpu->cr0 |= EMU_CR0_WP;
	emu_tlb_flush_all(cpu);
	/* NX */
	uint64_t gpa;
	unsigned avail;
	assert_int_equal(CATCH(cpu, emu_fetch_ptr(cpu, 0x7010, &gpa, &avail)), EMU_PF);
	assert_int_equal(cpu->exc.error_code, EMU_PF_P | EMU_PF_I);
	assert_int_equal(CATCH(cpu, emu_fetch_ptr(cpu, 0x4010, &gpa, &avail)), -1);
	assert_int_equal(gpa, 0x4010);
	assert_int_equal(avail, 4096 - 0x10);
	/* user accesses to supervisor pages */
	cpu->seg[EMU_SS].attr |= 3 << 5;
	emu_update_mode(cpu);
	assert_int_equal(cpu->cpl, 3);
	assert_int_equal(CATCH(cpu, emu_read_lin(cpu, 0x6000, 1)), EMU_PF);
	assert_int_equal(cpu->exc.error_code, EMU_PF_P | EMU_PF_U);
	assert_int_equal(CATCH(cpu, emu_read_lin(cpu, 0x4000, 1)), -1);
	/* a user read-only page */
	put64(m, PTE(8), 0x8000 | 5);
	assert_int_equal(CATCH(cpu, emu_write_lin(cpu, 0x8000, 1, 1)), EMU_PF);
	assert_int_equal(cpu->exc.error_code, EMU_PF_P | EMU_PF_U | EMU_PF_W);
	machine_free(m);
}

static void test_reserved_bits(void **state)
{
	struct machine *m = machine_new(1, false);

	(void)state;
	setup_long(m);
	put64(m, PTE(9), 0x9000 | 3 | (1ULL << 45)); /* above 40 physical bits */
	assert_int_equal(CATCH(m->cpu, emu_read_lin(m->cpu, 0x9000, 1)), EMU_PF);
	assert_int_equal(m->cpu->exc.error_code, EMU_PF_P | EMU_PF_RSVD);
	m->cpu->efer &= ~EMU_EFER_NXE;
	emu_tlb_flush_all(m->cpu);
	put64(m, PTE(9), 0x9000 | 3 | (1ULL << 63)); /* XD without NXE */
	assert_int_equal(CATCH(m->cpu, emu_read_lin(m->cpu, 0x9000, 1)), EMU_PF);
	assert_int_equal(m->cpu->exc.error_code, EMU_PF_P | EMU_PF_RSVD);
	machine_free(m);
}

static void test_1g_page(void **state)
{
	struct machine *m = machine_new(1, false);

	(void)state;
	setup_long(m);
	/* linear 1 GiB..2 GiB -> physical 0 (1 GiB page) */
	put64(m, PDPT + 8, 0x87);
	put64(m, 0x4000, 77);
	assert_int_equal(CATCH(m->cpu, assert_int_equal(emu_read_lin(m->cpu, 0x40004000, 8), 77)),
			 -1);
	machine_free(m);
}

static void test_tlb_global_and_invlpg(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	put64(m, 0x4000, 1);
	put64(m, 0x5000, 2);
	put64(m, 0x6000, 3);
	put64(m, PTE(4), 0x4000 | 7 | 0x100); /* global */
	assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
	assert_int_equal(emu_read_lin(cpu, 0x5000, 8), 2);
	/* remap both to 0x6000 without telling the TLB */
	put64(m, PTE(4), 0x6000 | 7 | 0x100);
	put64(m, PTE(5), 0x6000 | 7);
	assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
	emu_write_cr(cpu, 3, PML4); /* keeps the global entry */
	assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
	assert_int_equal(emu_read_lin(cpu, 0x5000, 8), 3);
	emu_invlpg(cpu, 0x4000);
	assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 3);
	/* a 2 MiB page flushed by INVLPG of another address inside it */
	assert_int_equal(emu_read_lin(cpu, 0x200000, 8), 0);
	put64(m, PD + 8, 0x87 | (3ULL << 21)); /* now -> 6 MiB */
	put64(m, 0x600000, 9);
	emu_invlpg(cpu, 0x3ff000);
	assert_int_equal(emu_read_lin(cpu, 0x200000, 8), 9);
	machine_free(m);
}

/* CR3 loads clear only the indices listed as filled from non-global pages
 * (mmu.c): an index filled again after a flush, killed by INVLPG and
 * refilled, refilled from a global page and back, or in the user TLB,
 * must be flushed by the next CR3 load all the same. */
static void test_tlb_cr3_flush_listed(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	put64(m, 0x4000, 1);
	put64(m, 0x5000, 2);
	put64(m, 0x6000, 3);
	for (int round = 0; round < 3; round++) {
		put64(m, PTE(4), 0x4000 | 7);
		put64(m, PTE(5), 0x5000 | 7);
		emu_write_cr(cpu, 3, PML4);
		assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
		if (round == 1) { /* killed and refilled between two CR3 loads: */
			for (int i = 0; i < 100; i++) {
				emu_invlpg(cpu, 0x4000);
				assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
			}
			/* listed once (the list holds each index at most once) */
			assert_true(cpu->sys->nng[0] <= 4);
		}
		if (round == 2) { /* global, then non-global again at the same index */
			put64(m, PTE(4), 0x4000 | 7 | 0x100);
			emu_invlpg(cpu, 0x4000);
			assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
			emu_write_cr(cpu, 3, PML4);
			put64(m, PTE(4), 0x4000 | 7);
			emu_invlpg(cpu, 0x4000);
			assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 1);
		}
		cpu->cpl = 3; /* the user TLB too */
		cpu->tlb_user = 1;
		assert_int_equal(emu_read_lin(cpu, 0x5000, 8), 2);
		cpu->cpl = 0;
		cpu->tlb_user = 0;
		put64(m, PTE(4), 0x6000 | 7); /* remapped: the CR3 load must drop both */
		put64(m, PTE(5), 0x6000 | 7);
		emu_write_cr(cpu, 3, PML4);
		assert_int_equal(emu_read_lin(cpu, 0x4000, 8), 3);
		cpu->cpl = 3;
		cpu->tlb_user = 1;
		assert_int_equal(emu_read_lin(cpu, 0x5000, 8), 3);
		cpu->cpl = 0;
		cpu->tlb_user = 0;
	}
	machine_free(m);
}

static void test_page_crossing(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	put64(m, PTE(0x11), 0x20000 | 7); /* 0x11000 -> 0x20000 */
	put64(m, 0x10ff8, 0x44332211ULL << 32);
	put64(m, 0x20000, 0x88776655ULL);
	assert_int_equal(emu_read_lin(cpu, 0x10ffc, 8), 0x8877665544332211ULL);
	/* a faulting second page leaves the first untouched */
	put64(m, PTE(0x11), 0);
	assert_int_equal(CATCH(cpu, emu_write_lin(cpu, 0x10ffe, 4, 0xffffffff)), EMU_PF);
	assert_int_equal(cpu->cr2, 0x11000);
	assert_int_equal(get64(m, 0x10ff8) >> 48, 0x4433);
	machine_free(m);
}

static void test_mmio_routing(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	/* map linear 0x100000 (PT index 0x100) to 0x90000000 (no RAM) and 0x101000 to the LAPIC */
	put64(m, PTE(0x100), 0x90000000ULL | 3);
	put64(m, PTE(0x101), EMU_LAPIC_BASE | 3);
	assert_int_equal(emu_read_lin(cpu, 0x100010, 4), 0x5a5a5a5a);
	assert_int_equal(fake_mmio_gpa, 0x90000010);
	emu_write_lin(cpu, 0x100020, 2, 0xbeef);
	assert_true(fake_mmio_write);
	assert_int_equal(fake_mmio_data & 0xffff, 0xbeef);
	assert_int_equal(fake_mmio_count, 2);
	/* LAPIC version register: version 0x14 in the low byte */
	assert_int_equal(emu_read_lin(cpu, 0x101030, 4) & 0xff, 0x14);
	assert_int_equal(fake_mmio_count, 2);
	machine_free(m);
}

static void test_code_pages(void **state)
{
	struct machine *m = machine_new(2, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	setup_long(m);
	emu_write_lin(cpu, 0x4000, 1, 1); /* TLB now allows fast writes */
	assert_int_equal(emu_tlb_slot(cpu, 0x4000)->tag_write, 0x4000);
	emu_this_cpu = cpu;
	emu_page_set_code(m->vm, 0x4000);
	emu_this_cpu = NULL;
	assert_true(emu_page_is_code(m->vm, 0x4abc));
	assert_int_equal(emu_tlb_slot(cpu, 0x4000)->tag_write, EMU_TLB_INVALID);
	assert_true(atomic_load(&m->vm->cpus[1].events) & EMU_EV_TLBFLUSH);
	emu_write_lin(cpu, 0x4008, 4, 5);
	assert_int_equal(fake_code_writes, 1);
	assert_int_equal(fake_code_written_gpa, 0x4008);
	assert_int_equal(get64(m, 0x4008), 5);
	void *p = emu_rmw_ptr(cpu, 0x4010, 8);
	assert_ptr_equal(p, m->ram + 0x4010);
	assert_int_equal(fake_code_writes, 2);
	emu_page_clear_code(m->vm, 0x4000);
	assert_false(emu_page_is_code(m->vm, 0x4000));
	assert_null(emu_rmw_ptr(cpu, 0x4ffc, 8)); /* crosses a page */
	machine_free(m);
}

static void test_paging_off(void **state)
{
	struct machine *m = machine_new(1, false);
	struct emu_cpu *cpu = m->cpu;

	(void)state;
	/* reset state: real mode, CS base 0xffff0000 */
	assert_int_equal(cpu->mode, EMU_MODE_REAL);
	put64(m, 0x7000, 0x1234);
	cpu->seg[EMU_DS].base = 0x7000;
	assert_int_equal(emu_read(cpu, EMU_DS, 0, 2), 0x1234);
	/* the real-mode limit */
	assert_int_equal(CATCH(cpu, emu_read(cpu, EMU_DS, 0xffff, 2)), EMU_GP);
	assert_int_equal(CATCH(cpu, emu_read(cpu, EMU_SS, 0xffff, 2)), EMU_SS_FAULT);
	/* outside RAM: MMIO */
	assert_int_equal(emu_read_lin(cpu, 0xfffffff0, 1), 0x5a);
	assert_null(emu_phys_ptr(m->vm, RAM_SIZE - 4, 8));
	assert_non_null(emu_phys_ptr(m->vm, RAM_SIZE - 8, 8));
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_read_write),
		cmocka_unit_test(test_not_present),
		cmocka_unit_test(test_protection),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_1g_page),
		cmocka_unit_test(test_tlb_global_and_invlpg),
		cmocka_unit_test(test_tlb_cr3_flush_listed),
		cmocka_unit_test(test_page_crossing),
		cmocka_unit_test(test_mmio_routing),
		cmocka_unit_test(test_code_pages),
		cmocka_unit_test(test_paging_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
