/* The code generator's byte emitter, shared by jit.c (blocks, moves,
 * memory through the soft TLB, links) and jit-alu.c (ALU forms and
 * conditions in place). Private to those two files. */
#ifndef VS_EMU_JIT_EMIT_H
#define VS_EMU_JIT_EMIT_H

#include "emu/internal.h"

#include <assert.h>
#include <string.h>

struct emu_block;
struct emu_block_exit;
struct emu_jit;

struct emit {
	uint8_t *w; /* where the next byte is written (writable view); NULL: sizing */
	uintptr_t x; /* the same position in the executable view */
	const struct emu_jit *j;
	size_t len; /* bytes emitted */
	unsigned inlined; /* instructions emitted in place */
	unsigned ends; /* block-final branches decided in place (0 or 1) */
	/* The lazy operation (EMU_LZ_*) and size that an ALU form done in place
	 * earlier in this block recorded, with nothing since that could change
	 * the flags; lz_op 0: not known here (jit-alu.c has one more value). */
	uint8_t lz_op, lz_size;
};

static inline void put(struct emit *e, const void *bytes, size_t n)
{
	if (e->w) {
		memcpy(e->w, bytes, n);
		e->w += n;
	}
	e->x += n;
	e->len += n;
}

static inline void put8(struct emit *e, uint8_t v)
{
	put(e, &v, 1);
}

static inline void put32(struct emit *e, uint32_t v)
{
	put(e, &v, 4);
}

static inline void put64(struct emit *e, uint64_t v)
{
	put(e, &v, 8);
}

/* rbx = cpu while generated code runs; cpu->r[] is reached with disp8. */
static_assert(offsetof(struct emu_cpu, r) + 15 * sizeof(uint64_t) < 128, "cpu->r[] needs disp8");

static inline uint8_t reg_disp(unsigned r)
{
	return (uint8_t)(offsetof(struct emu_cpu, r) + r * sizeof(uint64_t));
}

/* A forward jump whose rel32 fix_jump() fills in. */
struct fixup {
	uint8_t *w; /* the rel32 (NULL while sizing) */
	uintptr_t x; /* the executable address just after it */
};

static inline struct fixup emit_jump(struct emit *e, const uint8_t *op, size_t n)
{
	put(e, op, n);
	put32(e, 0);
	return (struct fixup){ .w = e->w ? e->w - 4 : NULL, .x = e->x };
}

static inline void fix_jump(const struct emit *e, struct fixup f)
{
	uint32_t rel = (uint32_t)(e->x - f.x);

	if (f.w)
		memcpy(f.w, &rel, sizeof(rel));
}

/* jit.c */

/* mov qword [rbx + rip], v */
void emu_jit_emit_rip(struct emit *e, uint64_t v);
/* cpu->cur = in and the call of in's handler, as the interpreter makes it */
void emu_jit_emit_call(struct emit *e, const struct emu_insn *in);
/* fn(cpu), a function that cannot fault (rax, rcx, rdx, rsi, rdi and the
 * host flags are lost) */
void emu_jit_emit_call_cpu(struct emit *e, uintptr_t fn);
/* rax = the host address of in's memory operand (long mode, 64-bit
 * addressing, disp fitting int32) for an access of size bytes, when the
 * soft TLB allows it (write: the write tag); else a jump to *miss. */
void emu_jit_emit_tlb(struct emit *e, const struct emu_insn *in, bool write, unsigned size,
		      struct fixup *miss);

/* mov rcx, &b->link[0]; jmp to the pool's link check */
void emu_jit_emit_link_tail(struct emit *e, const struct emu_block *b);

/* jit-chain.c */

/* After the head of b's code (at the linked entry): a jump to the body,
 * the return to the dispatch loop, then b's chained entry
 * (EMU_JIT_CHAINED), which falls into the body. */
void emu_jit_emit_chained(struct emit *e, const struct emu_block *b);
/* The direct exits of a block that links, then its link path: with
 * taken.x, a Jcc's (fall-through, with cpu->rip already the end, then
 * taken, which sets cpu->rip), else one to the target of the last
 * instruction (JMP, CALL; cpu->rip set). Fills x (jit-internal.h). */
void emu_jit_emit_exits(struct emit *e, const struct emu_block *b, struct fixup taken,
			struct emu_block_exit *x);

/* jit-alu.c */

/* Emits in (not a block's last instruction; fn = emu_fast_generic(in->fn))
 * in place when it is one of the forms done so (ADD/SUB/AND/OR/XOR/CMP/TEST
 * with register, immediate and memory operands, INC/DEC, SHL/SHR/SAR/ROL/
 * ROR by an immediate, IMUL, MOV at sizes 1/2, MOVSXD, CMOVcc and SETcc on
 * registers); updates e->lz_op/lz_size. False: nothing was emitted. */
bool emu_jit_emit_alu(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		      emu_handler fn);
/* As the block's last instruction, with cpu->rip already its end: JMP
 * rel, or Jcc whose condition the flags' producer known from e->lz_op
 * answers, decided in place (cpu->rip = the target when taken); the
 * caller then leaves the block (jit.c emit_end()). With taken, a Jcc
 * instead jumps there when taken (cpu->rip not yet set: the caller's
 * code sets it), and for a JMP taken->x is 0. False: nothing was
 * emitted. */
bool emu_jit_emit_cond(struct emit *e, const struct emu_insn *in, struct fixup *taken);

#endif
