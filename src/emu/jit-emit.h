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
	/* The instruction being emitted sets the whole lazy record, and a later
	 * one in this block overwrites it before anything can observe the flags
	 * (jit-alu.c's lz_dead(), set by emu_jit_emit_alu()): the record's stores are left out. */
	bool lz_dead;
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

/* ---- shared by the ALU forms (jit-alu.c, jit-rmw.c) ---- */

enum { RAX, RCX, RDX, RSI = 6 }; /* host registers (ModRM numbering) */

#define LZ_OFF(f) ((uint32_t)offsetof(struct emu_cpu, lazy.f))
#define FL_OFF ((uint32_t)offsetof(struct emu_cpu, rflags))
#define LZ_FLUSHED 0xff /* e->lz_op: lazy.op is 0, the flags are in rflags */
static_assert(offsetof(struct emu_lazy, size) == offsetof(struct emu_lazy, op) + 1,
	      "op and size are written as one word");

/* The operand-size prefix, REX.W, and the opcode (the byte form is one
 * less than the others for every opcode used here). */
static inline void sized_op(struct emit *e, unsigned size, uint8_t op)
{
	if (size == 2)
		put8(e, 0x66);
	else if (size == 8)
		put8(e, 0x48);
	put8(e, size == 1 ? (uint8_t)(op - 1) : op);
}

/* ModRM for reg and [rbx + off] */
static inline void modrm_cpu(struct emit *e, unsigned reg, uint32_t off)
{
	if (off < 128) {
		put8(e, (uint8_t)(0x43 | reg << 3));
		put8(e, (uint8_t)off);
	} else {
		put8(e, (uint8_t)(0x83 | reg << 3));
		put32(e, off);
	}
}

/* reg = the size-byte value at [rbx + off] (or at [rdx] when mem),
 * zero-extended to 64 bits */
static inline void load(struct emit *e, unsigned reg, unsigned size, bool mem, uint32_t off)
{
	if (size <= 2) {
		put8(e, 0x0f);
		put8(e, size == 1 ? 0xb6 : 0xb7);
	} else {
		if (size == 8)
			put8(e, 0x48);
		put8(e, 0x8b);
	}
	if (mem)
		put8(e, (uint8_t)(RDX | reg << 3));
	else
		modrm_cpu(e, reg, off);
}

/* the size-byte store of rax to [rbx + off] (or [rdx] when mem); a
 * register written at size 4 is zero-extended (rax already is) */
static inline void store_rax(struct emit *e, unsigned size, bool mem, uint32_t off)
{
	sized_op(e, !mem && size == 4 ? 8 : size, 0x89);
	if (mem)
		put8(e, RDX);
	else
		modrm_cpu(e, RAX, off);
}

/* rcx = v */
static inline void imm_rcx(struct emit *e, uint64_t v)
{
	if (v <= UINT32_MAX) { /* mov ecx, imm32 */
		put8(e, 0xb9);
		put32(e, (uint32_t)v);
	} else if ((int64_t)v == (int32_t)v) { /* mov rcx, simm32 */
		put8(e, 0x48);
		put8(e, 0xc7);
		put8(e, 0xc1);
		put32(e, (uint32_t)v);
	} else { /* mov rcx, imm64 */
		put8(e, 0x48);
		put8(e, 0xb9);
		put64(e, v);
	}
}

/* mov [rbx + src1], reg1; mov [rbx + src2], reg2: the operands of the
 * lazy record, unless it is dead (e->lz_dead) */
static inline void lz_srcs(struct emit *e, unsigned reg1, unsigned reg2)
{
	if (e->lz_dead)
		return;
	sized_op(e, 8, 0x89);
	modrm_cpu(e, reg1, LZ_OFF(src1));
	sized_op(e, 8, 0x89);
	modrm_cpu(e, reg2, LZ_OFF(src2));
}

/* res = host register reg, op and size: the rest of the lazy record (the
 * caller wrote src1 and src2, with lz_srcs() where it can be dead); a
 * dead record is not written, and the producer is then not known here. */
static inline void lz_record_from(struct emit *e, unsigned reg, uint8_t lz, unsigned size)
{
	if (e->lz_dead) {
		e->lz_op = 0;
		return;
	}
	sized_op(e, 8, 0x89); /* mov [rbx + res], reg */
	modrm_cpu(e, reg, LZ_OFF(res));
	put8(e, 0x66); /* mov word [rbx + op], size << 8 | lz */
	put8(e, 0xc7);
	modrm_cpu(e, 0, LZ_OFF(op));
	put8(e, lz);
	put8(e, (uint8_t)size);
	e->lz_op = lz;
	e->lz_size = (uint8_t)size;
}

/* The same with res = rax. */
static inline void lz_record(struct emit *e, uint8_t lz, unsigned size)
{
	lz_record_from(e, RAX, lz, size);
}

/* Where register r's operand of size bytes lives in struct emu_cpu: AH..BH
 * (high, at size 1) are byte 1 of RAX..RBX. */
static inline uint32_t gpr_off(unsigned r, unsigned size, bool high)
{
	return high && size == 1 ? reg_disp(r & 3) + 1u : reg_disp(r);
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

/* jit-jump.c */

/* With rax = cpu->rip, which is neither of the running block's links
 * (rbx = cpu, r12 = cc): in 64-bit mode, rcx = cc's jump table slot for
 * it and, if that slot's rip is cpu->rip, a jump back to hit (the link
 * check's validation, which takes the slot as a link). Returns the jump
 * to patch to the link check's way out (not 64-bit mode); after a miss
 * the code falls through, to that way out too. */
struct fixup emu_jit_emit_jump_lookup(struct emit *e, uintptr_t hit);

/* mov rcx, &b->link[0]; jmp to the pool's link check: with table, the
 * one that looks up a RIP that is neither link in the jump table (for
 * RET, indirect and handler-decided ends); else the one that returns to
 * the dispatch loop then, so that the loop makes the link and the direct
 * exit is chained (a table hit would never let it be). */
void emu_jit_emit_link_tail(struct emit *e, const struct emu_block *b, bool table);

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
 * registers; and jit-rmw.c's); updates e->lz_op/lz_size. False:
 * nothing was emitted. */
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
/* The arithmetic flags into cpu->rflags and lazy.op = 0, as
 * emu_flags_flush() does (in place when the producer is known, else a
 * call when lazy.op is set: rax..rdi are then lost); e->lz_op =
 * LZ_FLUSHED. */
void emu_jit_emit_flush(struct emit *e);

/* jit-rmw.c */

/* NOT/NEG of a register, CMPXCHG with memory, BT/BTS/BTR/BTC of memory
 * with an immediate bit (jit-rmw.c has the details); false: nothing
 * emitted. */
bool emu_jit_emit_rmw(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
		      emu_handler fn);

#endif
