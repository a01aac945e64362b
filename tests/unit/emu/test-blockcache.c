/* The decoded-block cache's budget (src/emu/block.c), end to end with the
 * whole emu library: guests that run through fresh code (a 3-byte stub
 * "mov $imm8,%al; ret" at every third byte, a page of stubs written then
 * each called once) must flush the cache at the budget and still run the
 * right code; two vCPUs doing it at once flush blocks the other may be
 * executing (the generation-based reclamation must keep those alive: the
 * ASan build of this suite checks that no freed block is run); a block
 * chained to a successor that is then rewritten must not run the old one;
 * a block that rewrites its own next instruction must run the new one.
 * Each case runs twice: with blocks given host code (src/emu/jit.c) and
 * interpreted, and checks that the code was (or was not) generated. */
#define SYS_FAKE_REAL_CORE
#include "sys-fake.h"
#include "common/util.h"
#include "vs-test.h"
#include "jit-modes.h"

#include <pthread.h>
#include <time.h>

#define WALK_CODE 0x5000
#define RESULT0 0x100000 /* per vCPU: mismatches, then done flag */
#define RESULT1 0x100100
#define REGION0 0x200000 /* per vCPU: the stubs' pages */
#define REGION1 0x400000
#define WALK_PAGES 256 /* 1 MiB: 349,440 stubs per vCPU */
#define STUBS_PAGE 1365
#define SMALL_CACHE (256 << 10)

/* rsi = region, rdi = result, rcx = pages. Per page: write 1365 stubs whose
 * immediates continue a counter (r8), then call each and count the ones
 * that returned something else (rbx). Then store rbx, set the done flag,
 * and halt with interrupts off (a kick ends the run). */
__asm__(".pushsection .rodata\n"
	".globl walk_code, walk_code_end\n"
	"walk_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"1:	movq %rsi, %rdx\n"
	"	movl $1365, %r9d\n"
	"	movq %r8, %r10\n"
	"2:	movb $0xb0, (%rdx)\n"
	"	movb %r10b, 1(%rdx)\n"
	"	movb $0xc3, 2(%rdx)\n"
	"	addq $3, %rdx\n"
	"	incq %r10\n"
	"	decl %r9d\n"
	"	jnz 2b\n"
	"	movq %rsi, %rdx\n"
	"	movl $1365, %r9d\n"
	"3:	call *%rdx\n"
	"	cmpb %r8b, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	addq $3, %rdx\n"
	"	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 3b\n"
	"	addq $4096, %rsi\n"
	"	decq %rcx\n"
	"	jnz 1b\n"
	"	movq %rbx, (%rdi)\n"
	"	movq $1, 8(%rdi)\n"
	"	cli\n"
	"5:	hlt\n"
	"	jmp 5b\n"
	"walk_code_end:\n"
	".popsection\n");
extern const uint8_t walk_code[], walk_code_end[];

static void flush_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data,
		       unsigned size);

/* Blocks got host code exactly when the mode asks for it. */
static void check_jit(const struct emu_stats *st)
{
	if (test_jit == EMU_JIT_ON)
		assert_true(st->blocks_jit > 0);
	else
		assert_int_equal(st->blocks_jit, 0);
}
static const struct emu_io_ops io = { .pio = fake_pio, .mmio = flush_mmio };

static struct machine *cache_machine(unsigned ncpus, uint64_t cache_bytes, unsigned pages)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct emu_ram_region r;
	struct emu_vm_config cfg = {
		.ncpus = ncpus,
		.ram = &r,
		.nram = 1,
		.io = &io,
		.code_cache_bytes = cache_bytes,
		.jit = test_jit,
	};

	m->ram = aligned_alloc(4096, RAM_SIZE);
	memset(m->ram, 0, RAM_SIZE);
	r = (struct emu_ram_region){ .gpa = 0, .size = RAM_SIZE, .hva = m->ram };
	assert_int_equal(emu_vm_new(&cfg, &m->vm), 0);
	memcpy(m->ram + WALK_CODE, walk_code, (size_t)(walk_code_end - walk_code));
	for (unsigned i = 0; i < ncpus; i++) {
		m->cpu = emu_vm_cpu(m->vm, i);
		setup_long(m); /* the shared tables, and this vCPU's state */
		m->cpu->rip = WALK_CODE;
		m->cpu->r[EMU_RSP] = 0x8000 - i * 0x800;
		m->cpu->r[EMU_RSI] = i ? REGION1 : REGION0;
		m->cpu->r[EMU_RDI] = i ? RESULT1 : RESULT0;
		m->cpu->r[EMU_RCX] = pages;
	}
	m->cpu = emu_vm_cpu(m->vm, 0);
	return m;
}

/* Waits (up to 10 min: the ASan build is slow) for the done flag. */
static bool wait_done(struct machine *m, uint64_t result)
{
	for (int i = 0; i < 600000; i++) {
		if (__atomic_load_n((uint64_t *)(m->ram + result + 8), __ATOMIC_ACQUIRE) == 1)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

/* Runs the walk on ncpus vCPUs at once; returns the summed statistics. */
static struct emu_stats walk(struct machine *m, unsigned ncpus)
{
	struct runner r[2];
	pthread_t t[2];
	struct emu_stats sum = { 0 }, st;

	for (unsigned i = 0; i < ncpus; i++) {
		r[i].cpu = emu_vm_cpu(m->vm, i);
		assert_int_equal(pthread_create(&t[i], NULL, run_thread, &r[i]), 0);
	}
	for (unsigned i = 0; i < ncpus; i++) {
		uint64_t res = i ? RESULT1 : RESULT0;

		assert_true(wait_done(m, res));
		assert_int_equal(get64(m, res), 0); /* every stub returned its immediate */
	}
	for (unsigned i = 0; i < ncpus; i++) {
		emu_cpu_kick(r[i].cpu);
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].exit.reason, EMU_EXIT_KICK);
		emu_cpu_get_stats(r[i].cpu, &st);
		sum.blocks_built += st.blocks_built;
		sum.cache_flushes += st.cache_flushes;
		sum.blocks_jit += st.blocks_jit;
	}
	return sum;
}

static void test_default_budget_holds_small_walk(void **state)
{
	struct machine *m = cache_machine(1, 0, WALK_PAGES / 4);
	struct emu_stats st;

	(void)state;
	st = walk(m, 1);
	/* ~87,000 blocks of ~200 bytes: under the 32 MiB minimum budget */
	assert_true(st.blocks_built >= (uint64_t)WALK_PAGES / 4 * STUBS_PAGE);
	assert_int_equal(st.cache_flushes, 0);
	check_jit(&st);
	machine_free(m);
}

static void test_budget_flushes(void **state)
{
	struct machine *m = cache_machine(1, SMALL_CACHE, WALK_PAGES);
	struct emu_stats st;

	(void)state;
	st = walk(m, 1);
	assert_true(st.blocks_built >= (uint64_t)WALK_PAGES * STUBS_PAGE);
	/* 256 KiB holds ~1,300 such blocks: well over 100 flushes */
	assert_true(st.cache_flushes > 100);
	check_jit(&st);
	machine_free(m);
}

static void test_two_vcpus_flush_under_each_other(void **state)
{
	struct machine *m = cache_machine(2, SMALL_CACHE, WALK_PAGES);
	struct emu_stats st;

	(void)state;
	st = walk(m, 2);
	assert_true(st.blocks_built >= 2ULL * WALK_PAGES * STUBS_PAGE);
	assert_true(st.cache_flushes > 100);
	check_jit(&st);
	machine_free(m);
}

/* ---- a flush under a running block that then patches itself ---------------- */

#define MMIO_PAGE 0x40000000ULL /* a 2 MiB page past RAM: stores reach flush_mmio() */
#define PD_MMIO 0x15000
#define SMC_CODE 0x6000
#define SMC_RESULT 0x100020
#define SMC_TINY (16 << 10)

/* At SMC_CODE, one block (no instruction in it ends a block):
 *	movb %al, MMIO_PAGE	 (flush_mmio: vCPU 1 flushes the cache meanwhile)
 *	movb $2, 0x6010		 (patches the immediate of the next instruction)
 *	movl $1, %eax		 (at 0x600f; must run as movl $2, %eax)
 *	movl %eax, SMC_RESULT
 *	cli; 1: hlt; jmp 1b */
static const uint8_t smc_block[] = {
	0x88, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40, 0xc6, 0x04, 0x25, 0x10,
	0x60, 0x00, 0x00, 0x02, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x89, 0x04,
	0x25, 0x20, 0x00, 0x10, 0x00, 0xfa, 0xf4, 0xeb, 0xfd,
};

static struct machine *flush_machine;
static uint64_t flush_mmio_flushes;

static bool wait_done(struct machine *m, uint64_t result);

/* vCPU 0's store to MMIO_PAGE, in the middle of its block: run vCPU 1's
 * fresh-code walk to the end (many flushes of a tiny cache), then return. */
static void flush_mmio(void *ctx, unsigned cpu, uint64_t gpa, bool write, void *data, unsigned size)
{
	struct runner r1 = { .cpu = flush_machine ? emu_vm_cpu(flush_machine->vm, 1) : NULL };
	struct emu_stats st;
	pthread_t t;

	fake_mmio(ctx, cpu, gpa, write, data, size);
	if (!r1.cpu || cpu != 0 || gpa != MMIO_PAGE)
		return;
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r1), 0);
	assert_true(wait_done(flush_machine, RESULT1));
	emu_cpu_kick(r1.cpu);
	pthread_join(t, NULL);
	emu_cpu_get_stats(r1.cpu, &st);
	flush_mmio_flushes = st.cache_flushes;
}

/* Regression: a block flushed by another vCPU while it runs is on no page
 * list, so a store into its own next instruction did not end it and the
 * old decoded instruction ran. */
static void test_flushed_block_patches_itself(void **state)
{
	struct machine *m = cache_machine(2, SMC_TINY, 1);
	struct runner r0 = { .cpu = emu_vm_cpu(m->vm, 0) };
	struct emu_stats st;
	pthread_t t;

	(void)state;
	put64(m, PDPT + 8, PD_MMIO | 7);
	put64(m, PD_MMIO, MMIO_PAGE | 0x87);
	memcpy(m->ram + SMC_CODE, smc_block, sizeof(smc_block));
	r0.cpu->rip = SMC_CODE;
	flush_machine = m;
	flush_mmio_flushes = 0;
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r0), 0);
	for (int i = 0; i < 600000 && !get64(m, SMC_RESULT); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	emu_cpu_kick(r0.cpu);
	pthread_join(t, NULL);
	flush_machine = NULL;
	assert_true(flush_mmio_flushes > 0);
	assert_int_equal(get64(m, SMC_RESULT), 2);
	emu_cpu_get_stats(r0.cpu, &st);
	check_jit(&st);
	machine_free(m);
}

/* ---- chaining to a block that is then rewritten ------------------------------ */

#define PATCH_CODE 0x7000
#define PATCH_ROUNDS 4000

/* rsi = a stub "mov $imm8,%al; ret", rdi = result. 4000 rounds: every
 * fourth one patches the stub's immediate to the round number (in a block
 * of its own, so the call's block has chained to the stub it replaces);
 * each round calls the stub and counts returns other than the last patch
 * (rbx). Then as walk_code: store rbx, set the done flag, halt. */
__asm__(".pushsection .rodata\n"
	".globl patch_code, patch_code_end\n"
	"patch_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	movl $4000, %r9d\n"
	"1:	testb $3, %r8b\n"
	"	jnz 3f\n"
	"	movb %r8b, 1(%rsi)\n"
	"	jmp 3f\n"
	"3:	call *%rsi\n"
	"	movl %r8d, %edx\n"
	"	andb $0xfc, %dl\n"
	"	cmpb %dl, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 1b\n"
	"	movq %rbx, (%rdi)\n"
	"	movq $1, 8(%rdi)\n"
	"	cli\n"
	"5:	hlt\n"
	"	jmp 5b\n"
	"patch_code_end:\n"
	".popsection\n");
extern const uint8_t patch_code[], patch_code_end[];

/* Block chaining (src/emu/exec.c): a link is only as good as the
 * generation it was made in; once its target is rewritten the next call
 * must decode the new stub. By the time the call's block looks at its
 * link the old stub is already freed, so a link followed without its
 * generation check reads freed memory: the ASan build of this suite
 * reports that (the plain build can miss it when malloc hands the new
 * stub the old one's address). */
static void test_chained_successor_rewritten(void **state)
{
	static const uint8_t stub[] = { 0xb0, 0x00, 0xc3 };
	struct machine *m = cache_machine(1, 0, 1);
	struct emu_stats st;

	(void)state;
	memcpy(m->ram + PATCH_CODE, patch_code, (size_t)(patch_code_end - patch_code));
	memcpy(m->ram + REGION0, stub, sizeof(stub));
	m->cpu->rip = PATCH_CODE;
	st = walk(m, 1);
	/* each patch rebuilds the stub: one block per patch at least */
	assert_true(st.blocks_built >= PATCH_ROUNDS / 4);
	check_jit(&st);
	machine_free(m);
}

/* ---- a block that patches its own next instruction ---------------------------- */

/* smc_block without its first store: the patch of the immediate reaches
 * emu_code_written() for a live block on its page list (the block is cut
 * at the next instruction, by emu_op_smc_exit() or by generated code's
 * return into the exit stub). */
static void test_block_patches_itself(void **state)
{
	struct machine *m = cache_machine(1, 0, 1);
	struct runner r0 = { .cpu = m->cpu };
	const size_t skip = 7; /* movb %al, MMIO_PAGE */
	struct emu_stats st;
	pthread_t t;

	(void)state;
	memcpy(m->ram + SMC_CODE + skip, smc_block + skip, sizeof(smc_block) - skip);
	r0.cpu->rip = SMC_CODE + skip;
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r0), 0);
	for (int i = 0; i < 600000 && !get64(m, SMC_RESULT); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	emu_cpu_kick(r0.cpu);
	pthread_join(t, NULL);
	assert_int_equal(get64(m, SMC_RESULT), 2);
	emu_cpu_get_stats(r0.cpu, &st);
	assert_true(st.blocks_flushed > 0);
	check_jit(&st);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_default_budget_holds_small_walk),
		BOTH(test_budget_flushes),
		BOTH(test_two_vcpus_flush_under_each_other),
		BOTH(test_flushed_block_patches_itself),
		BOTH(test_chained_successor_rewritten),
		BOTH(test_block_patches_itself),
	};

	return vs_test_run("emu-blockcache", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
}
