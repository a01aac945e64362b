/* Call-threaded host code for decoded blocks (src/emu/jit.c), on blocks
 * built by hand: the code calls each handler in order with (cpu, &insn),
 * cpu->cur at that instruction and a 16-aligned stack, sets cpu->rip only
 * before the last one; the inlined register moves do what their handlers
 * do; emu_jit_cut() makes the next instruction leave the block (the SMC
 * path); a full pool refuses code and takes it back when blocks go. */
#include "emu/block.h"
#include "emu/core.h"
#include "emu/jit.h"
#include "common/util.h"
#include "vs-test.h"

#include <setjmp.h>
#include <stdlib.h>

#define POOL (1u << 20)
#define RIP_UNSET 0x1234ULL

static struct emu_jit *jit;
static struct emu_core_cpu *core; /* the code's cc: frame, cur, generation */
static _Atomic uint64_t gen = 1;
static struct emu_block *blk;
static unsigned calls[EMU_BLOCK_MAX + 1], ncalls;
static uint64_t rip_seen[EMU_BLOCK_MAX];
static bool misaligned, wrong_cur;

static struct emu_cpu *cpu_new(void)
{
	struct emu_cpu *cpu = calloc(1, sizeof(*cpu));

	assert_non_null(cpu);
	cpu->rip = RIP_UNSET;
	return cpu;
}

static struct emu_block *block_new(unsigned n, uint64_t rip, emu_handler fn)
{
	struct emu_block *b = calloc(1, sizeof(*b) + n * sizeof(struct emu_insn));

	assert_non_null(b);
	b->n = (uint16_t)n;
	b->rip = rip;
	b->mode = EMU_MODE_LONG64;
	for (unsigned i = 0; i < n; i++) {
		b->insn[i].fn = fn;
		b->insn[i].rip = rip + 3 * i;
		b->insn[i].len = 3;
		b->insn[i].opsize = 8;
		b->insn[i].adsize = 8;
		b->insn[i].mod = 3;
		b->insn[i].base = b->insn[i].index = EMU_NOREG;
	}
	return b;
}

/* Records the call; frame_address(0) is 16-aligned iff the caller's call
 * site was (the return address and saved rbp take 16 bytes). */
static __attribute__((noinline)) void record(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned i = (unsigned)(in - blk->insn);

	if ((uintptr_t)__builtin_frame_address(0) & 15)
		misaligned = true;
	if (cpu->cur != in)
		wrong_cur = true;
	rip_seen[i] = cpu->rip;
	calls[ncalls++] = i;
}

static void run_code(struct emu_cpu *cpu, struct emu_block *b)
{
	b->code(cpu, core);
	core->jit_frame = 0;
}

static int setup(void **state)
{
	(void)state;
	core = calloc(1, sizeof(*core));
	core->gen = 1;
	core->gen_src = &gen;
	return emu_jit_new(POOL, true, &jit);
}

static int teardown(void **state)
{
	(void)state;
	emu_jit_free(jit);
	free(core);
	return 0;
}

static void check_calls(unsigned n, uint64_t rip)
{
	struct emu_cpu *cpu = cpu_new();

	blk = block_new(n, rip, record);
	ncalls = 0;
	misaligned = wrong_cur = false;
	assert_true(emu_jit_compile(jit, blk));
	run_code(cpu, blk);
	assert_int_equal(ncalls, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(calls[i], i);
		/* run_block's contract: only the last instruction sees its end */
		assert_int_equal(rip_seen[i], i + 1 < n ? RIP_UNSET : rip + 3 * n);
	}
	assert_false(misaligned);
	assert_false(wrong_cur);
	assert_ptr_equal(cpu->cur, &blk->insn[n - 1]);
	emu_jit_release(jit, blk);
	assert_null(blk->code);
	free(blk);
	free(cpu);
}

static void test_calls_in_order(void **state)
{
	(void)state;
	check_calls(1, 0xffffffff81000000ULL); /* rip fits a sign-extended imm32 */
	check_calls(2, 0x401000);
	check_calls(EMU_BLOCK_MAX, 0x7f0000001000ULL); /* rip needs imm64 */
}

/* ---- inlined handlers against the handlers themselves ---------------------- */

static void set_mov(struct emu_insn *in, emu_handler fn, unsigned sz, unsigned reg, unsigned rm,
		    uint64_t imm)
{
	in->fn = fn;
	in->opsize = (uint8_t)sz;
	in->reg = (uint8_t)reg;
	in->rm = (uint8_t)rm;
	in->imm = imm;
}

static void set_lea(struct emu_insn *in, unsigned sz, unsigned reg, unsigned base, unsigned index,
		    unsigned scale, int64_t disp)
{
	set_mov(in, emu_op_lea, sz, reg, 0, 0);
	in->mod = 0;
	in->base = (uint8_t)base;
	in->index = (uint8_t)index;
	in->scale = (uint8_t)scale;
	in->disp = disp;
}

static void fill_inline_block(struct emu_block *b)
{
	struct emu_insn *in = b->insn;

	set_mov(in++, emu_op_mov_EG_r, 8, EMU_R9, EMU_RAX, 0); /* rax = r9 */
	set_mov(in++, emu_op_mov_EG_r, 4, EMU_RCX, EMU_R15, 0); /* r15d = ecx */
	set_mov(in++, emu_op_mov_GE_r, 8, EMU_RDX, EMU_R12, 0); /* rdx = r12 */
	set_mov(in++, emu_op_mov_GE_r, 4, EMU_RSI, EMU_RBX, 0); /* esi = ebx */
	set_mov(in++, emu_op_mov_EI_r, 8, 0, EMU_RDI, (uint64_t)-5); /* imm32 sign-extended */
	set_mov(in++, emu_op_mov_EI_r, 4, 0, EMU_R8, 0xfffffffbULL);
	set_mov(in++, emu_op_mov_OI, 8, EMU_R10, 0, 0x123456789abcdef0ULL);
	set_mov(in++, emu_op_mov_OI, 4, EMU_R11, 0, 0x80000000ULL);
	set_mov(in++, emu_op_nop, 4, 0, 0, 0);
	set_lea(in++, 8, EMU_R13, EMU_RBP, EMU_R14, 3, -0x40);
	set_lea(in++, 4, EMU_R14, EMU_RBP, EMU_R9, 1, 0x7fffffff);
	set_lea(in++, 8, EMU_RBP, EMU_R9, EMU_NOREG, 0, 8);
	set_lea(in++, 8, EMU_RSP, EMU_NOREG, EMU_RDX, 2, -0x80000000LL);
	set_lea(in++, 4, EMU_RCX, EMU_NOREG, EMU_NOREG, 0, -0x1000);
	set_mov(in++, emu_op_mov_EG_r, 2, EMU_RAX, EMU_RDX, 0); /* called: 16-bit */
	set_mov(in, emu_op_mov_GE_r, 8, EMU_RBX, EMU_RAX, 0); /* the last: tail call */
}

static void test_inlined_moves_match_handlers(void **state)
{
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	struct emu_block *b = block_new(16, 0x1000, NULL);

	(void)state;
	fill_inline_block(b);
	for (unsigned r = 0; r < 16; r++)
		jc->r[r] = ic->r[r] = 0x0123456789abcdefULL * (r + 1) ^ (0xf0f0ULL << r);
	assert_true(emu_jit_compile(jit, b));
	run_code(jc, b);
	for (unsigned i = 0; i < b->n; i++) /* what run_block's interpreter does */
		b->insn[i].fn(ic, &b->insn[i]);
	for (unsigned r = 0; r < 16; r++)
		assert_int_equal(jc->r[r], ic->r[r]);
	assert_int_equal(jc->rip, 0x1000 + 3 * 16);
	emu_jit_release(jit, b);
	free(b);
	free(jc);
	free(ic);
}

/* Memory MOVs, MOV of immediates to memory, MOVZX and PUSH/POP whose TLB
 * entries hit: the inlined fast path (read and write tags, the FS base,
 * SS, operand sizes 8 and 4, PUSH RSP and POP RSP) against the handlers. */
#define MEM_LIN 0x7000000ULL /* linear page the TLB maps to mem[] */
#define FS_BASE 0x1000ULL /* FS-relative accesses land in the same page */

static void map_page(struct emu_cpu *cpu, uint8_t *host)
{
	struct emu_tlb_entry *t = &cpu->tlb[0].e[(MEM_LIN >> 12) & (EMU_TLB_SIZE - 1)];

	t->tag_read = t->tag_write = MEM_LIN;
	t->addend = (uintptr_t)host - MEM_LIN;
	cpu->mode = EMU_MODE_LONG64;
	cpu->seg[EMU_FS].base = FS_BASE;
}

static void set_mem(struct emu_insn *in, emu_handler fn, unsigned sz, unsigned reg, unsigned base,
		    int64_t disp, unsigned seg)
{
	set_lea(in, sz, reg, base, EMU_NOREG, 0, disp);
	in->fn = fn;
	in->seg = (uint8_t)seg;
}

static void fill_mem_block(struct emu_block *b)
{
	struct emu_insn *in = b->insn;

	set_mem(in++, emu_op_mov_GE_m, 8, EMU_RAX, EMU_RSI, 0x10, EMU_DS); /* rax = [rsi+16] */
	set_mem(in++, emu_op_mov_GE_m, 4, EMU_RCX, EMU_RSI, 0x7fc, EMU_DS); /* the page's end */
	set_mem(in++, emu_op_mov_EG_m, 8, EMU_RDX, EMU_RSI, 0x20, EMU_DS); /* [rsi+32] = rdx */
	set_mem(in++, emu_op_mov_EG_m, 4, EMU_R8, EMU_RSI, 0x28, EMU_DS);
	set_mem(in++, emu_op_mov_GE_m, 8, EMU_R9, EMU_NOREG, (int64_t)MEM_LIN + 0x20, EMU_DS);
	set_mem(in++, emu_op_mov_GE_m, 8, EMU_R10, EMU_RDI, 0x10, EMU_FS); /* fs:[rdi+16] */
	set_mem(in++, emu_op_mov_EG_m, 8, EMU_R11, EMU_RDI, 0x30, EMU_FS);
	set_mem(in++, emu_op_mov_GE_m, 8, EMU_R12, EMU_RSP, 0x8, EMU_SS); /* [rsp+8] */
	set_mov(in++, emu_op_push_O, 8, EMU_R13, 0, 0);
	set_mov(in++, emu_op_push_O, 8, EMU_RSP, 0, 0); /* the old RSP */
	set_mov(in++, emu_op_pop_O, 8, EMU_R14, 0, 0);
	set_mov(in++, emu_op_pop_O, 8, EMU_R15, 0, 0);
	set_mov(in++, emu_op_push_O, 8, EMU_RCX, 0, 0);
	set_mov(in++, emu_op_pop_O, 8, EMU_RSP, 0, 0); /* RSP = the popped value */
	set_mem(in, emu_op_mov_EI_m, 8, 0, EMU_RSI, 0x40, EMU_DS);
	(in++)->imm = (uint64_t)-2; /* imm32 sign-extended */
	set_mem(in, emu_op_mov_EI_m, 4, 0, EMU_RSI, 0x48, EMU_DS);
	(in++)->imm = 0xfffffff0ULL;
	set_mem(in++, emu_op_movzx8, 8, EMU_RDX, EMU_RSI, 0x41, EMU_DS);
	set_mem(in++, emu_op_movzx16, 4, EMU_RBP, EMU_RSI, 0x7fe, EMU_DS); /* the page's end */
	set_mov(in++, emu_op_movzx8, 4, EMU_R8, EMU_RCX, 0); /* cl */
	set_mov(in, emu_op_movzx8, 8, EMU_R9, 4, 0); /* ah: called */
	(in++)->flags = EMU_IF_HIGH8M;
	set_mov(in++, emu_op_movzx16, 8, EMU_R10, EMU_R11, 0);
	set_mov(in, emu_op_mov_GE_r, 8, EMU_RBX, EMU_R9, 0);
}

/* Runs fill_mem_block()'s block as generated code and through its
 * handlers from the same state and compares registers and memory; with
 * specialize, the handlers are first swapped for exec-fast.c's as the
 * decoder does (emu_fast_pick). Returns how many instructions the code
 * did in place. */
static uint64_t run_mem_block(bool specialize)
{
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	struct emu_block *b = block_new(22, 0x1000, NULL);
	uint8_t *jm = aligned_alloc(4096, 4096), *im = aligned_alloc(4096, 4096);
	uint64_t inlined = emu_jit_inlined(jit);
	unsigned picked = 0;

	for (unsigned i = 0; i < 4096; i++)
		jm[i] = im[i] = (uint8_t)(i * 7 + 3);
	fill_mem_block(b);
	for (unsigned r = 0; r < 16; r++)
		jc->r[r] = ic->r[r] = 0x0123456789abcdefULL * (r + 1);
	jc->r[EMU_RSI] = ic->r[EMU_RSI] = MEM_LIN + 0x800;
	jc->r[EMU_RDI] = ic->r[EMU_RDI] = MEM_LIN - FS_BASE + 0x100;
	jc->r[EMU_RSP] = ic->r[EMU_RSP] = MEM_LIN + 0x400;
	jc->r[EMU_RCX] = ic->r[EMU_RCX] = MEM_LIN + 0x300;
	map_page(jc, jm);
	map_page(ic, im);
	for (unsigned i = 0; specialize && i < b->n; i++) {
		emu_handler fn = emu_fast_pick(jc, &b->insn[i]);

		picked += fn != b->insn[i].fn;
		b->insn[i].fn = fn;
	}
	assert_true(picked > 0 || !specialize);
	assert_true(emu_jit_compile(jit, b));
	inlined = emu_jit_inlined(jit) - inlined;
	run_code(jc, b);
	for (unsigned i = 0; i < b->n; i++)
		b->insn[i].fn(ic, &b->insn[i]);
	for (unsigned r = 0; r < 16; r++)
		assert_int_equal(jc->r[r], ic->r[r]);
	assert_memory_equal(jm, im, 4096);
	emu_jit_release(jit, b);
	free(b);
	free(jc);
	free(ic);
	free(jm);
	free(im);
	return inlined;
}

static void test_inlined_memory_moves_match_handlers(void **state)
{
	(void)state;
	assert_true(run_mem_block(false) > 0);
}

/* The decoder hands out exec-fast.c's specialized handlers for the
 * generic ones: the same instructions are done in place either way, and
 * give the same results. */
static void test_specialized_handlers_inline_alike(void **state)
{
	(void)state;
	assert_int_equal(run_mem_block(true), run_mem_block(false));
}

/* CALL and RET ending a block, inline through the TLB: the same RIP, RSP
 * and stack as the handlers run after run_block's cpu->rip update. */
static void check_branch(emu_handler fn, uint64_t imm)
{
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	struct emu_block *b = block_new(2, 0xffffffff81000000ULL, NULL);
	uint8_t *jm = aligned_alloc(4096, 4096), *im = aligned_alloc(4096, 4096);
	uint64_t ret_to = 0xffffffff81234567ULL;

	for (unsigned i = 0; i < 4096; i += 8) {
		memcpy(jm + i, &ret_to, 8);
		memcpy(im + i, &ret_to, 8);
	}
	set_mov(&b->insn[0], emu_op_mov_GE_r, 8, EMU_RAX, EMU_RCX, 0);
	set_mov(&b->insn[1], fn, 8, 0, 0, imm);
	jc->r[EMU_RSP] = ic->r[EMU_RSP] = MEM_LIN + 0x400;
	map_page(jc, jm);
	map_page(ic, im);
	assert_true(emu_jit_compile(jit, b));
	run_code(jc, b);
	b->insn[0].fn(ic, &b->insn[0]);
	ic->rip = b->insn[1].rip + b->insn[1].len;
	b->insn[1].fn(ic, &b->insn[1]);
	for (unsigned r = 0; r < 16; r++)
		assert_int_equal(jc->r[r], ic->r[r]);
	assert_int_equal(jc->rip, ic->rip);
	assert_memory_equal(jm, im, 4096);
	emu_jit_release(jit, b);
	free(b);
	free(jc);
	free(ic);
	free(jm);
	free(im);
}

static void test_inlined_call_ret_match_handlers(void **state)
{
	(void)state;
	check_branch(emu_op_call, 0xffffffff81100000ULL);
	check_branch(emu_op_ret, 0);
	check_branch(emu_op_ret, 0x18); /* RET imm16 */
}

/* ---- emu_jit_cut(): the SMC exit ---------------------------------------------- */

static void cut_here(struct emu_cpu *cpu, const struct emu_insn *in)
{
	record(cpu, in);
	emu_jit_cut(jit, core->jit_frame);
}

static void test_cut_leaves_at_next(void **state)
{
	struct emu_cpu *cpu = cpu_new();
	volatile int jumped = 0;

	(void)state;
	blk = block_new(5, 0x2000, record);
	blk->insn[1].fn = cut_here;
	ncalls = 0;
	assert_true(emu_jit_compile(jit, blk));
	if (setjmp(cpu->jmp) == 0)
		blk->code(cpu, core);
	else
		jumped = 1;
	assert_true(jumped);
	assert_int_equal(ncalls, 2); /* insn 2 and on never ran */
	assert_ptr_equal(cpu->cur, &blk->insn[2]); /* unwind uncounts from here */
	assert_int_equal(cpu->rip, blk->insn[2].rip); /* where the block restarts */
	emu_jit_release(jit, blk);
	free(blk);
	free(cpu);
}

/* ---- the pool ------------------------------------------------------------------ */

static void test_full_pool_refuses_then_reuses(void **state)
{
	enum { MAXB = 4096 };
	struct emu_block **b = calloc(MAXB, sizeof(*b));
	unsigned n = 0;

	(void)state;
	while (n < MAXB) {
		b[n] = block_new(EMU_BLOCK_MAX, 0x3000, record);
		if (!emu_jit_compile(jit, b[n]))
			break;
		n++;
	}
	assert_true(n < MAXB);
	assert_null(b[n]->code); /* refused: interpreted */
	/* ~2 KiB per block: most of the pool was handed out */
	assert_true(n > POOL / 4096);
	emu_jit_release(jit, b[0]);
	assert_true(emu_jit_compile(jit, b[n]));
	for (unsigned i = 1; i <= n; i++) {
		emu_jit_release(jit, b[i]);
		free(b[i]);
	}
	/* empty again: one block of each size fits */
	for (unsigned k = 1; k <= EMU_BLOCK_MAX; k++) {
		b[0]->n = (uint16_t)k;
		assert_true(emu_jit_compile(jit, b[0]));
		emu_jit_release(jit, b[0]);
	}
	free(b[0]);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_in_order),
		cmocka_unit_test(test_inlined_moves_match_handlers),
		cmocka_unit_test(test_inlined_memory_moves_match_handlers),
		cmocka_unit_test(test_specialized_handlers_inline_alike),
		cmocka_unit_test(test_inlined_call_ret_match_handlers),
		cmocka_unit_test(test_cut_leaves_at_next),
		cmocka_unit_test(test_full_pool_refuses_then_reuses),
	};

	return vs_test_run("emu-jit", tests, VS_ARRAY_SIZE(tests), NULL, setup, teardown);
}
