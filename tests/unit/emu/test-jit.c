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
#include <stdio.h>
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

/* Runs b's instructions through their handlers on ic, as the dispatch
 * loop would (cpu->rip the end before the last one). */
static void run_handlers(struct emu_cpu *ic, const struct emu_block *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		if (i == b->n - 1U)
			ic->rip = b->insn[i].rip + b->insn[i].len;
		b->insn[i].fn(ic, &b->insn[i]);
	}
}

/* Runs compiled b on jc (its data page jm) and b's handlers on ic (im), as
 * run_block() does (cpu->rip at the block's end before the last one); the
 * registers, RIP and memory must agree. Frees b, both CPUs and pages. */
static void run_both(struct emu_block *b, struct emu_cpu *jc, struct emu_cpu *ic, uint8_t *jm,
		     uint8_t *im)
{
	run_code(jc, b);
	run_handlers(ic, b);
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
	run_both(b, jc, ic, jm, im);
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

/* MOV at sizes 1 and 2 (AH..BH too) and MOVSXD, with registers,
 * immediates and memory through the TLB (jit-alu.c): all done in place,
 * with the handlers' results. */
static void fill_small_mov_block(struct emu_block *b)
{
	struct emu_insn *in = b->insn;

	set_mov(in++, emu_op_mov_EG_r, 1, EMU_RCX, EMU_RDX, 0); /* dl = cl */
	set_mov(in, emu_op_mov_EG_r, 1, 5, 6, 0); /* dh = ch */
	(in++)->flags = EMU_IF_HIGH8R | EMU_IF_HIGH8M;
	set_mov(in++, emu_op_mov_GE_r, 2, EMU_R8, EMU_R9, 0); /* r8w = r9w */
	set_mov(in++, emu_op_mov_EI_r, 1, 0, EMU_R10, (uint64_t)-3);
	set_mov(in++, emu_op_mov_OI, 2, EMU_R11, 0, 0xfedc);
	set_mov(in, emu_op_mov_OI, 1, 7, 0, 0x99); /* bh */
	(in++)->flags = EMU_IF_HIGH8R;
	set_mov(in++, emu_op_movsxd, 8, EMU_R12, EMU_R13, 0);
	set_mem(in++, emu_op_mov_GE_m, 2, EMU_R14, EMU_RSI, 0x7fe, EMU_DS); /* the page's end */
	set_mem(in++, emu_op_mov_GE_m, 1, EMU_R15, EMU_RSI, 0x11, EMU_DS);
	set_mem(in++, emu_op_mov_EG_m, 2, EMU_RCX, EMU_RSI, 0x20, EMU_DS);
	set_mem(in, emu_op_mov_EG_m, 1, 4, EMU_RSI, 0x23, EMU_DS); /* ah */
	(in++)->flags = EMU_IF_HIGH8R;
	set_mem(in, emu_op_mov_EI_m, 2, 0, EMU_RDI, 0x30, EMU_FS);
	(in++)->imm = (uint64_t)-2;
	set_mem(in, emu_op_mov_EI_m, 1, 0, EMU_RSI, 0x40, EMU_DS);
	(in++)->imm = 0x80;
	set_mem(in++, emu_op_movsxd, 8, EMU_RBP, EMU_RSI, 0x44, EMU_DS);
	set_mov(in, emu_op_mov_GE_r, 8, EMU_RBX, EMU_R9, 0);
}

static void test_inlined_small_moves_match_handlers(void **state)
{
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	struct emu_block *b = block_new(15, 0x1000, NULL);
	uint8_t *jm = aligned_alloc(4096, 4096), *im = aligned_alloc(4096, 4096);
	uint64_t inlined = emu_jit_inlined(jit);

	(void)state;
	for (unsigned i = 0; i < 4096; i++)
		jm[i] = im[i] = (uint8_t)(i * 13 + 5);
	fill_small_mov_block(b);
	for (unsigned r = 0; r < 16; r++)
		jc->r[r] = ic->r[r] = 0x8123456789abcdefULL * (r + 3);
	jc->r[EMU_RSI] = ic->r[EMU_RSI] = MEM_LIN + 0x800;
	jc->r[EMU_RDI] = ic->r[EMU_RDI] = MEM_LIN - FS_BASE + 0x100;
	map_page(jc, jm);
	map_page(ic, im);
	assert_true(emu_jit_compile(jit, b));
	assert_int_equal(emu_jit_inlined(jit) - inlined, b->n - 1);
	run_both(b, jc, ic, jm, im);
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
	run_both(b, jc, ic, jm, im);
}

static void test_inlined_call_ret_match_handlers(void **state)
{
	(void)state;
	check_branch(emu_op_call, 0xffffffff81100000ULL);
	check_branch(emu_op_ret, 0);
	check_branch(emu_op_ret, 0x18); /* RET imm16 */
}

/* ---- ALU forms and the block-final Jcc (jit-alu.c) ------------------------------ */

/* Operand values at every flag edge of every size, and two without any. */
static const uint64_t alu_vals[] = {
	0,
	1,
	2,
	0x7f,
	0x80,
	0xff,
	0x7fff,
	0x8000,
	0xffff,
	0x7fffffff,
	0x80000000ULL,
	0xffffffffULL,
	0x7fffffffffffffffULL,
	0x8000000000000000ULL,
	~0ULL,
	0x0123456789abcdefULL,
	0xfedcba9876543210ULL,
};
#define NVALS (sizeof(alu_vals) / sizeof(alu_vals[0]))

#define ALU_HANDLERS(n)                                                            \
	emu_op_##n##_EG_r, emu_op_##n##_GE_r, emu_op_##n##_I_r, emu_op_##n##_EG_m, \
		emu_op_##n##_GE_m, emu_op_##n##_I_m
static const emu_handler alu_fns[] = {
	ALU_HANDLERS(add), ALU_HANDLERS(sub), ALU_HANDLERS(and),  ALU_HANDLERS(or),
	ALU_HANDLERS(xor), ALU_HANDLERS(cmp), ALU_HANDLERS(test),
};
static const emu_handler jcc_fns[16] = {
	emu_op_jcc_0, emu_op_jcc_1, emu_op_jcc_2, emu_op_jcc_3, emu_op_jcc_4, emu_op_jcc_5,
	emu_op_jcc_6, emu_op_jcc_7, emu_op_jcc_8, emu_op_jcc_9, emu_op_jcc_a, emu_op_jcc_b,
	emu_op_jcc_c, emu_op_jcc_d, emu_op_jcc_e, emu_op_jcc_f,
};

#define ALU_TARGET 0x5000ULL

/* What a later reader of the flags can see must agree: the lazy record
 * itself, and through it RFLAGS (PUSHF, LAHF, interrupts), CF (ADC, SBB)
 * and every condition (Jcc, SETcc, CMOVcc). */
static void check_flags(struct emu_cpu *jc, struct emu_cpu *ic, const char *what)
{
	/* a condition the lazy record cannot answer flushes it (op 0): then
	 * only what it materialized can be compared; a logic op's flags do
	 * not depend on its operands (exec-fast.c records TEST r, m as m, r) */
	bool srcs = jc->lazy.op != EMU_LZ_LOGIC &&
		    (jc->lazy.src1 != ic->lazy.src1 || jc->lazy.src2 != ic->lazy.src2);

	if (jc->lazy.op && ic->lazy.op &&
	    (jc->lazy.op != ic->lazy.op || jc->lazy.size != ic->lazy.size ||
	     jc->lazy.res != ic->lazy.res || srcs))
		fail_msg("%s: lazy %u/%u %#llx %#llx %#llx, handlers %u/%u %#llx %#llx %#llx", what,
			 jc->lazy.op, jc->lazy.size, (unsigned long long)jc->lazy.res,
			 (unsigned long long)jc->lazy.src1, (unsigned long long)jc->lazy.src2,
			 ic->lazy.op, ic->lazy.size, (unsigned long long)ic->lazy.res,
			 (unsigned long long)ic->lazy.src1, (unsigned long long)ic->lazy.src2);
	for (unsigned cc = 0; cc < 16; cc++)
		if (emu_cond(jc, cc) != emu_cond(ic, cc))
			fail_msg("%s: condition %u", what, cc);
	assert_int_equal(emu_get_cf(jc), emu_get_cf(ic));
	assert_int_equal(emu_get_rflags(jc), emu_get_rflags(ic));
}

/* One state for both CPUs: a (the destination operand) and b in the
 * registers and in memory at [rsi+0x10], every other register and byte
 * distinct; random RFLAGS. */
/* The code's state (jc, its page jm) is the handlers' (ic, im). */
static void check_same(struct emu_cpu *jc, struct emu_cpu *ic, const uint8_t *jm, const uint8_t *im,
		       const char *what)
{
	for (unsigned r = 0; r < 16; r++)
		if (jc->r[r] != ic->r[r])
			fail_msg("%s: r%u %#llx, handlers %#llx", what, r,
				 (unsigned long long)jc->r[r], (unsigned long long)ic->r[r]);
	if (jc->rip != ic->rip)
		fail_msg("%s: rip %#llx, handlers %#llx", what, (unsigned long long)jc->rip,
			 (unsigned long long)ic->rip);
	if (memcmp(jm, im, 4096))
		fail_msg("%s: memory differs", what);
	check_flags(jc, ic, what);
}

static void alu_state(struct emu_cpu *c, uint8_t *m, uint64_t a, uint64_t b, unsigned k)
{
	for (unsigned r = 0; r < 16; r++)
		c->r[r] = 0x0123456789abcdefULL * (r + 1 + k);
	c->r[EMU_RDX] = a;
	c->r[EMU_RCX] = b;
	c->r[EMU_RSI] = MEM_LIN + 0x800;
	if (k % 3 == 0) /* CMPXCHG's accumulator equal to the memory operand */
		c->r[EMU_RAX] = a;
	memset(m, (int)(k * 37 + 1), 4096);
	memcpy(m + 0x810, &a, 8);
	c->rip = RIP_UNSET;
	c->rflags = 2 | (k & 1 ? 0x8d5 : 0);
	c->lazy.op = EMU_LZ_NONE;
	if (k & 2) /* flags from before the block, still lazy */
		emu_lazy_set(c, EMU_LZ_SUB, 4, a - b, a, b);
}

struct alu_case {
	emu_handler fn; /* the ALU form (first instruction) */
	unsigned size;
	bool same; /* reg and rm name the same register */
	bool pick; /* with the decoder's specialized handlers */
	bool high; /* size 1 with AH..BH: reg = CH, rm = DH */
	bool lock; /* with a LOCK prefix */
	bool cl; /* a shift by CL (rcx = b) */
	emu_handler mid; /* a second instruction between it and the Jcc, or NULL */
	unsigned mid_size; /* its operand size (0: 8); CMOVcc has the Jcc's cc */
	uint64_t mid_imm;
};

static bool is_shift(emu_handler fn)
{
	return fn == emu_op_shl || fn == emu_op_shr || fn == emu_op_sar || fn == emu_op_rol ||
	       fn == emu_op_ror;
}

static bool is_bt(emu_handler fn)
{
	return fn == emu_op_bt_I || fn == emu_op_bts_I || fn == emu_op_btr_I || fn == emu_op_btc_I;
}

static bool is_imm_form(emu_handler fn)
{
	for (unsigned i = 0; i < sizeof(alu_fns) / sizeof(alu_fns[0]); i++)
		if (alu_fns[i] == fn)
			return i % 3 == 2;
	return is_shift(fn) || fn == emu_op_imul3 || is_bt(fn);
}

/* Sets up [alu, (mid,) jcc cc] of alu_case c. */
static struct emu_block *alu_block(const struct alu_case *c, unsigned cc, struct emu_cpu *pc)
{
	unsigned n = c->mid ? 3 : 2;
	struct emu_block *b = block_new(n, 0x1000, NULL);
	struct emu_insn *in = &b->insn[0];

	set_mem(in, c->fn, c->size, EMU_RCX, EMU_RSI, 0x10, EMU_DS);
	in->mod = 3; /* register forms: reg = rcx, rm = rdx (or rcx) */
	in->rm = c->same ? EMU_RCX : EMU_RDX;
	for (unsigned i = 0; i < sizeof(alu_fns) / sizeof(alu_fns[0]); i++)
		if (alu_fns[i] == c->fn && i % 6 >= 3)
			in->mod = 0;
	if (c->fn == emu_op_inc_m || c->fn == emu_op_dec_m || c->fn == emu_op_cmpxchg ||
	    is_bt(c->fn))
		in->mod = 0;
	if (c->lock)
		in->pfx |= EMU_PFX_LOCK;
	if (c->cl)
		in->flags |= EMU_IF_CL;
	if (c->high) {
		in->reg = 5;
		in->rm = 6;
		in->flags = EMU_IF_HIGH8R | EMU_IF_HIGH8M;
	}
	if (c->mid == emu_op_inc_m || c->mid == emu_op_dec_m) {
		set_mem(&b->insn[1], c->mid, c->mid_size, 0, EMU_RSI, 0x18, EMU_DS);
	} else if (c->mid) {
		set_mov(&b->insn[1], c->mid, c->mid_size ? c->mid_size : 8, EMU_R8, EMU_R9, 0);
		b->insn[1].opcode = (uint8_t)((c->mid == emu_op_setcc ? 0x90 : 0x40) | cc);
		b->insn[1].imm = c->mid_imm;
	}
	set_mov(&b->insn[n - 1], jcc_fns[cc], 8, 0, 0, ALU_TARGET);
	for (unsigned i = 0; c->pick && i < n; i++)
		b->insn[i].fn = emu_fast_pick(pc, &b->insn[i]);
	return b;
}

/* Runs alu_case c with every pair of alu_vals and every Jcc, as code and
 * through the handlers; returns how many instructions and block ends the
 * code did in place. */
struct alu_counts {
	uint64_t compiled, inl, ends; /* blocks compiled, instructions and ends in place */
};

static void compile_counted(struct emu_block *b, struct alu_counts *n)
{
	uint64_t i0 = emu_jit_inlined(jit), e0 = emu_jit_ends_inlined(jit);

	assert_true(emu_jit_compile(jit, b));
	n->compiled++;
	n->inl += emu_jit_inlined(jit) - i0;
	n->ends += emu_jit_ends_inlined(jit) - e0;
}

static void run_alu_case(const struct alu_case *c, struct alu_counts *n)
{
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	uint8_t *jm = aligned_alloc(4096, 4096), *im = aligned_alloc(4096, 4096);
	char what[96];

	map_page(jc, jm);
	map_page(ic, im);
	for (unsigned cc = 0; cc < 16; cc++) {
		struct emu_block *b = alu_block(c, cc, jc);

		compile_counted(b, n);
		for (unsigned k = 0; k < NVALS * NVALS; k++) {
			uint64_t a = alu_vals[k % NVALS], v = alu_vals[k / NVALS];

			uint64_t imm = c->size == 8 ? (uint64_t)(int64_t)(int32_t)v : v;

			if (is_shift(c->fn))
				imm = v & 0xff; /* counts 0, 1, 2, 15, 16, 31 or 63 once masked */

			if (is_imm_form(c->fn) && b->insn[0].imm != imm) { /* the code holds imm */
				emu_jit_release(jit, b);
				b->insn[0].imm = imm;
				compile_counted(b, n);
			}
			alu_state(jc, jm, a, v, k);
			alu_state(ic, im, a, v, k);
			run_code(jc, b);
			run_handlers(ic, b);
			snprintf(what, sizeof(what), "form %p size %u%s%s cc %u pair %u",
				 (void *)(uintptr_t)c->fn, c->size, c->same ? " same" : "",
				 c->pick ? " picked" : "", cc, k);
			check_same(jc, ic, jm, im, what);
		}
		emu_jit_release(jit, b);
		free(b);
	}
	free(jc);
	free(ic);
	free(jm);
	free(im);
}

/* Every ALU form (shape, operation, size 1/2/4/8) followed by each Jcc:
 * results, flags and the branch agree with the handlers for every pair
 * of edge values, generic or specialized handlers alike; every ALU form
 * and every Jcc after it is done in place. */
static void test_inlined_alu_jcc_match_handlers(void **state)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	struct alu_counts n = { 0 };
	uint64_t mids = 0, rots = 0, incdecs = 0, before;

	(void)state;
	for (unsigned f = 0; f < sizeof(alu_fns) / sizeof(alu_fns[0]); f++)
		for (unsigned s = 0; s < 4; s++)
			for (unsigned v = 0; v < 9; v++) {
				struct alu_case c = { .fn = alu_fns[f],
						      .size = sizes[s],
						      .same = v == 1,
						      .pick = v == 2,
						      .high = v == 4 };

				if (v == 4 && sizes[s] != 1)
					continue;
				if (v == 3) { /* CMOVcc after it, its cc the Jcc's */
					c.mid = emu_op_cmov;
					c.mid_size = sizes[s] == 1 ? 2 : sizes[s];
				} else if (v == 5) { /* SETcc */
					c.mid = emu_op_setcc;
					c.mid_size = 1;
				} else if (v == 6) { /* ROR: the flags flushed in place */
					c.mid = emu_op_ror;
					c.mid_size = sizes[s];
					c.mid_imm = 3;
				} else if (v >= 7) { /* INC r, DEC m: CF from the ALU form */
					c.mid = v == 7 ? emu_op_inc_r : emu_op_dec_m;
					c.mid_size = sizes[s];
				}
				before = n.compiled;
				run_alu_case(&c, &n);
				if (v == 3 || v >= 5)
					mids += n.compiled - before;
				if (v == 6)
					rots += n.compiled - before;
				if (v >= 7) /* 4 of 16 Jcc need INC/DEC's CF: the handler */
					incdecs += n.compiled - before;
			}
	assert_int_equal(n.inl, n.compiled + mids);
	/* after ROR (flushed) only B and AE are in place: rflags' CF */
	assert_int_equal(n.ends, n.compiled - rots / 16 * 14 - incdecs / 4);
}

/* SHL/SHR/SAR (sizes 4, 8) and ROL/ROR (1, 2, 4, 8) by an immediate, plain
 * and specialized, then each Jcc: a count of 0 once masked stays with the
 * handler (it changes no flags), every other count is done in place, and
 * after a shift the Jcc on ZF, SF or PF (the others need CF or OF from the
 * record: the handler); a rotate leaves the flags flushed (JB, JAE in
 * place, the others the handler). */
static void test_inlined_shifts_match_handlers(void **state)
{
	static const emu_handler fns[] = { emu_op_shl, emu_op_shr, emu_op_sar, emu_op_rol,
					   emu_op_ror };
	struct alu_counts n = { 0 };
	uint64_t inl = 0, ends = 0;

	(void)state;
	for (unsigned f = 0; f < 5; f++)
		for (unsigned s = 1; s <= 8; s *= 2)
			for (unsigned v = 0; v < 2; v++) {
				struct alu_case c = { .fn = fns[f], .size = s, .pick = v };

				run_alu_case(&c, &n);
				/* per Jcc the count changes 14 times along alu_vals
				 * (one compile each), 5 times to 0 once masked (0
				 * four times, 0x80) */
				if (f >= 3 || s >= 4)
					inl += 16 * 9;
				if (f < 3 && s >= 4)
					ends += 6 * 9;
				if (f >= 3) /* flushed: JB, JAE on rflags' CF */
					ends += 2 * 9;
			}
	assert_int_equal(n.compiled, 5 * 4 * 2 * 16 * 14);
	assert_int_equal(n.inl, inl);
	assert_int_equal(n.ends, ends);
}

/* INC/DEC first in the block (CF from before it: lazy or flushed, from
 * a call), of a register or of memory (with and without LOCK), in place;
 * the Jcc after either in place but on CF (B, AE, BE, A). */
static void test_inlined_incdec_match_handlers(void **state)
{
	static const emu_handler fns[] = { emu_op_inc_r, emu_op_dec_r, emu_op_inc_m, emu_op_dec_m };
	struct alu_counts n = { 0 };

	(void)state;
	for (unsigned f = 0; f < 4; f++)
		for (unsigned s = 1; s <= 8; s *= 2)
			for (unsigned lock = 0; lock < (f >= 2 ? 2u : 1u); lock++) {
				struct alu_case c = { .fn = fns[f], .size = s, .lock = lock };

				n = (struct alu_counts){ 0 };
				run_alu_case(&c, &n);
				assert_int_equal(n.inl, n.compiled);
				assert_int_equal(n.ends, n.compiled / 4 * 3);
			}
	/* CF for the second from a known first: flushed by a rotate, a
	 * shift's record, an INC's record */
	for (unsigned s = 1; s <= 8; s *= 2) {
		struct alu_case c[] = {
			{ .fn = emu_op_ror, .size = s, .mid = emu_op_inc_r, .mid_size = s },
			{ .fn = emu_op_shl, .size = 8, .mid = emu_op_dec_m, .mid_size = s },
			{ .fn = emu_op_inc_r, .size = 4, .mid = emu_op_dec_r, .mid_size = s },
		};

		for (unsigned i = 0; i < 3; i++) {
			n = (struct alu_counts){ 0 };
			run_alu_case(&c[i], &n);
			assert_true(n.inl >= n.compiled); /* the second always */
		}
	}
}

/* IMUL r, r and IMUL r, r, imm at sizes 2, 4, 8 (1 has no such form: the
 * handler): in place, with the Jcc on ZF, SF, PF after them. */
static void test_inlined_imul_match_handlers(void **state)
{
	struct alu_counts n = { 0 };

	(void)state;
	for (unsigned f = 0; f < 2; f++)
		for (unsigned s = 1; s <= 8; s *= 2) {
			struct alu_case c = { .fn = f ? emu_op_imul3 : emu_op_imul2, .size = s };

			n = (struct alu_counts){ 0 };
			run_alu_case(&c, &n);
			assert_int_equal(n.inl, s > 1 ? n.compiled : 0);
			assert_int_equal(n.ends, s > 1 ? n.compiled / 16 * 6 : 0);
		}
}

/* NOT, NEG (registers, AH..BH too), CMPXCHG with memory, BT/BTS/BTR/BTC
 * of memory with an immediate (jit-rmw.c), with and without LOCK: all in
 * place; the Jcc after NEG or CMPXCHG always (SUB), after BT* on CF only
 * (the flags flushed), after NOT never (its producer is from before). */
static void test_inlined_rmw_match_handlers(void **state)
{
	static const emu_handler fns[] = { emu_op_not,	 emu_op_neg,   emu_op_cmpxchg, emu_op_bt_I,
					   emu_op_bts_I, emu_op_btr_I, emu_op_btc_I };
	struct alu_counts n;

	(void)state;
	for (unsigned f = 0; f < 7; f++)
		for (unsigned s = f >= 3 ? 2 : 1; s <= 8; s *= 2)
			for (unsigned v = 0; v < 4; v++) {
				struct alu_case c = { .fn = fns[f],
						      .size = s,
						      .pick = v == 1,
						      .high = v == 2 && s == 1 && f < 2,
						      .lock = v == 3 && f >= 2 };

				n = (struct alu_counts){ 0 };
				run_alu_case(&c, &n);
				assert_int_equal(n.inl, n.compiled);
				assert_int_equal(n.ends, f == 0 ? 0 :
							 f < 3	? n.compiled :
								  n.compiled / 16 * 2);
			}
}

/* SHL/SHR/SAR r, CL at sizes 4 and 8 (rcx = b: every count, 0 once
 * masked too; also of rcx itself) in place, then the Jcc by its handler:
 * the flags' producer depends on the count. Sizes 1 and 2 stay calls. */
static void test_inlined_shift_cl_match_handlers(void **state)
{
	static const emu_handler fns[] = { emu_op_shl, emu_op_shr, emu_op_sar };
	struct alu_counts n;

	(void)state;
	for (unsigned f = 0; f < 3; f++)
		for (unsigned s = 1; s <= 8; s *= 2)
			for (unsigned v = 0; v < 3; v++) {
				struct alu_case c = { .fn = fns[f],
						      .size = s,
						      .same = v == 1,
						      .pick = v == 2,
						      .cl = true };

				n = (struct alu_counts){ 0 };
				run_alu_case(&c, &n);
				assert_int_equal(n.inl, s >= 4 ? n.compiled : 0);
				assert_int_equal(n.ends, 0);
			}
}

/* A register move between the ALU form and the Jcc keeps the flags' producer
 * known (the Jcc is done in place); a called handler between them (MOVSX)
 * drops it (the Jcc's handler runs), with the same outcome. */
static void test_inlined_jcc_producer_known(void **state)
{
	struct alu_counts n = { 0 };
	struct alu_case c = { .fn = emu_op_cmp_EG_r, .size = 8, .mid = emu_op_mov_GE_r };

	(void)state;
	run_alu_case(&c, &n);
	assert_int_equal(n.inl, 32);
	assert_int_equal(n.ends, 16);
	c.mid = emu_op_movsx16; /* called: its handler could have set flags */
	n = (struct alu_counts){ 0 };
	run_alu_case(&c, &n);
	assert_int_equal(n.inl, 16);
	assert_int_equal(n.ends, 0);
}

/* Dead lazy records (jit-alu.c's lz_dead()): a form whose flags a later
 * one sets again before anything can see them skips its record. Each
 * sequence below runs as code and through the handlers for every pair of
 * values; observe() (a called handler, as a block's middle or last
 * instruction) snapshots RFLAGS, which must agree at each call, as must the
 * registers, memory and the flags the next block sees. */
static uint64_t seen[4];
static unsigned nseen;

static void observe(struct emu_cpu *cpu, const struct emu_insn *in)
{
	(void)in;
	seen[nseen++] = emu_get_rflags(cpu);
}

enum { DEAD_SEQS = 6, DEAD_LEN = 6 };

/* Sequence q: up to DEAD_LEN instructions, register forms on rdx/rcx/r8/r9,
 * memory at [rsi+0x10] (the TLB maps it: the fast path). */
static unsigned dead_seq(struct emu_insn *in, unsigned q)
{
	struct emu_insn *p = in;

	switch (q) {
	case 0: /* add; sub; end (the last writer's flags reach the next block) */
		set_mov(p++, emu_op_add_EG_r, 8, EMU_RCX, EMU_RDX, 0);
		set_mov(p++, emu_op_sub_EG_r, 4, EMU_R8, EMU_R9, 0);
		break;
	case 1: /* add; a called handler; xor */
		set_mov(p++, emu_op_add_EG_r, 8, EMU_RCX, EMU_RDX, 0);
		set_mov(p++, observe, 8, 0, 0, 0);
		set_mov(p++, emu_op_xor_EG_r, 2, EMU_R8, EMU_R9, 0);
		break;
	case 2: /* cmp; a register move; and: the end reads */
		set_mov(p++, emu_op_cmp_EG_r, 8, EMU_RCX, EMU_RDX, 0);
		set_mov(p++, emu_op_mov_GE_r, 8, EMU_R10, EMU_RDX, 0);
		set_mov(p++, emu_op_and_I_r, 4, 0, EMU_R8, 0x80000001ULL);
		break;
	case 3: /* add; add with memory (hit); sub */
		set_mov(p++, emu_op_add_EG_r, 8, EMU_RCX, EMU_RDX, 0);
		set_mem(p++, emu_op_add_GE_m, 8, EMU_R8, EMU_RSI, 0x10, EMU_DS);
		set_mov(p++, emu_op_sub_GE_r, 1, EMU_R9, EMU_RCX, 0);
		break;
	case 4: /* shl; imul; test; SETcc (a reader); or */
		set_mov(p, emu_op_shl, 8, 0, EMU_RDX, 3);
		(p++)->opcode = 0xc1;
		set_mov(p++, emu_op_imul2, 8, EMU_R8, EMU_RCX, 0);
		set_mov(p++, emu_op_test_EG_r, 4, EMU_RCX, EMU_RDX, 0);
		set_mov(p, emu_op_setcc, 1, 0, EMU_R10, 0);
		(p++)->opcode = 0x92; /* setc */
		set_mov(p++, emu_op_or_EG_r, 8, EMU_R9, EMU_R8, 0);
		break;
	default: /* sub; cmp; a Jcc done in place on the last one */
		set_mov(p++, emu_op_sub_EG_r, 8, EMU_RCX, EMU_RDX, 0);
		set_mov(p++, emu_op_cmp_EG_r, 4, EMU_R8, EMU_RCX, 0);
		set_mov(p++, emu_op_jcc_c, 8, 0, 0, ALU_TARGET); /* jl */
		return (unsigned)(p - in);
	}
	set_mov(p++, observe, 8, 0, 0, 0);
	return (unsigned)(p - in);
}

static void test_dead_flag_records_match_handlers(void **state)
{
	uint8_t *jm = aligned_alloc(4096, 4096), *im = aligned_alloc(4096, 4096);
	struct emu_cpu *jc = cpu_new(), *ic = cpu_new();
	uint64_t jseen[4];
	char what[64];

	(void)state;
	map_page(jc, jm);
	map_page(ic, im);
	for (unsigned q = 0; q < DEAD_SEQS; q++) {
		struct emu_block *b = block_new(DEAD_LEN, 0x1000, NULL);
		unsigned nobs = 0;

		b->n = (uint16_t)dead_seq(b->insn, q);
		for (unsigned i = 0; i < b->n; i++)
			nobs += b->insn[i].fn == observe;
		assert_true(emu_jit_compile(jit, b));
		for (unsigned k = 0; k < NVALS * NVALS; k++) {
			uint64_t a = alu_vals[k % NVALS], v = alu_vals[k / NVALS];

			snprintf(what, sizeof(what), "sequence %u pair %u", q, k);
			alu_state(jc, jm, a, v, k);
			alu_state(ic, im, a, v, k);
			jc->r[EMU_R8] = ic->r[EMU_R8] = v ^ a << 1;
			jc->r[EMU_R9] = ic->r[EMU_R9] = a + 1;
			nseen = 0;
			run_code(jc, b);
			memcpy(jseen, seen, sizeof(seen));
			assert_int_equal(nseen, nobs);
			nseen = 0;
			run_handlers(ic, b);
			assert_int_equal(nseen, nobs);
			for (unsigned i = 0; i < nseen; i++)
				if (jseen[i] != seen[i])
					fail_msg("%s: RFLAGS %#llx at observe %u, handlers %#llx",
						 what, (unsigned long long)jseen[i], i,
						 (unsigned long long)seen[i]);
			check_same(jc, ic, jm, im, what);
		}
		emu_jit_release(jit, b);
		free(b);
	}
	free(jc);
	free(ic);
	free(jm);
	free(im);
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
		cmocka_unit_test(test_inlined_small_moves_match_handlers),
		cmocka_unit_test(test_inlined_call_ret_match_handlers),
		cmocka_unit_test(test_inlined_alu_jcc_match_handlers),
		cmocka_unit_test(test_inlined_jcc_producer_known),
		cmocka_unit_test(test_inlined_shifts_match_handlers),
		cmocka_unit_test(test_inlined_incdec_match_handlers),
		cmocka_unit_test(test_inlined_imul_match_handlers),
		cmocka_unit_test(test_inlined_rmw_match_handlers),
		cmocka_unit_test(test_inlined_shift_cl_match_handlers),
		cmocka_unit_test(test_dead_flag_records_match_handlers),
		cmocka_unit_test(test_cut_leaves_at_next),
		cmocka_unit_test(test_full_pool_refuses_then_reuses),
	};

	return vs_test_run("emu-jit", tests, VS_ARRAY_SIZE(tests), NULL, setup, teardown);
}
