/* Core-private declarations of the software CPU: the decoder's output
 * conventions, lazy-flag operation codes, register and operand helpers the
 * instruction handlers share, and the handlers the decoder's tables name.
 * Nothing outside decode.c, block.c, exec*.c and flags.c includes this.
 *
 * Conventions every handler relies on (set by decode.c):
 *   - in->opsize is the effective operand size (1 for byte opcodes).
 *   - Instructions without ModRM that name the accumulator or a register in
 *     the opcode have mod = 3 and rm = that register.
 *   - in->imm is sign-extended to 64 bits (Ib, Iz, Iv); handlers that want
 *     an unsigned byte (INT n, IN/OUT, shift counts) mask it.
 *   - Relative branches hold the absolute target in imm, already truncated
 *     to the operand size (IP wraps at 64 KiB in 16-bit code).
 *   - The last instruction of a block runs with cpu->rip = its rip + len;
 *     earlier ones see a stale cpu->rip and must use in->rip + in->len. */
#ifndef VS_EMU_CORE_H
#define VS_EMU_CORE_H

#include "emu/internal.h"

/* decoder-private emu_insn.flags */
#define EMU_IF_END (1u << 0) /* ends its block (control transfer, system) */
#define EMU_IF_HIGH8R (1u << 1) /* byte operand: reg field names AH..BH */
#define EMU_IF_HIGH8M (1u << 2) /* byte operand: rm field names AH..BH */
#define EMU_IF_CL (1u << 3) /* shift count in CL instead of imm */
#define EMU_IF_SYS (1u << 4) /* ends the block and may change translations */

/* lazy.op: which operation last set the arithmetic flags */
enum emu_lazy_op {
	EMU_LZ_NONE = 0, /* flags are in cpu->rflags */
	EMU_LZ_ADD, /* res = src1 + src2 */
	EMU_LZ_ADC, /* res = src1 + src2 + 1 (carry in was 1) */
	EMU_LZ_SUB, /* res = src1 - src2 (also CMP, NEG with src1 = 0) */
	EMU_LZ_SBB, /* res = src1 - src2 - 1 (borrow in was 1) */
	EMU_LZ_LOGIC, /* CF = OF = AF = 0 */
	EMU_LZ_INC, /* res = src1 + 1; src2 = CF before */
	EMU_LZ_DEC, /* res = src1 - 1; src2 = CF before */
	EMU_LZ_CFOF, /* ZF/SF/PF from res, CF = src1 & 1, OF = src2 & 1, AF = 0 */
};

/* condition codes as in Jcc's low nibble */
enum emu_cc {
	EMU_CC_O,
	EMU_CC_NO,
	EMU_CC_B,
	EMU_CC_AE,
	EMU_CC_E,
	EMU_CC_NE,
	EMU_CC_BE,
	EMU_CC_A,
	EMU_CC_S,
	EMU_CC_NS,
	EMU_CC_P,
	EMU_CC_NP,
	EMU_CC_L,
	EMU_CC_GE,
	EMU_CC_LE,
	EMU_CC_G
};

/* flags.c */
bool emu_cond_slow(struct emu_cpu *cpu, unsigned cc);
bool emu_get_cf(struct emu_cpu *cpu);
/* Materializes the arithmetic flags into cpu->rflags (lazy.op = 0). */
void emu_flags_flush(struct emu_cpu *cpu);

static inline void emu_lazy_set(struct emu_cpu *cpu, unsigned op, unsigned size, uint64_t res,
				uint64_t s1, uint64_t s2)
{
	cpu->lazy.res = res;
	cpu->lazy.src1 = s1;
	cpu->lazy.src2 = s2;
	cpu->lazy.op = (uint8_t)op;
	cpu->lazy.size = (uint8_t)size;
}

/* Sets CF and OF exactly, everything else from res (shifts, MUL). */
static inline void emu_lazy_cfof(struct emu_cpu *cpu, unsigned size, uint64_t res, bool cf, bool of)
{
	emu_lazy_set(cpu, EMU_LZ_CFOF, size, res, cf, of);
}

/* Condition cc (Jcc's low nibble) from the lazy state, or -1 when it needs
 * RFLAGS built (emu_cond_slow). ZF and SF come from the result whatever the
 * operation; CMP/SUB and logic ops answer every common condition. */
static inline int emu_cond_lazy(const struct emu_cpu *cpu, unsigned cc)
{
	const struct emu_lazy *l = &cpu->lazy;
	unsigned sh = 64 - l->size * 8u;
	bool r;

	if (__builtin_expect(l->op == EMU_LZ_NONE, 0))
		return -1;
	switch (cc >> 1) {
	case EMU_CC_E >> 1:
		r = l->res == 0;
		break;
	case EMU_CC_S >> 1:
		r = (int64_t)(l->res << sh) < 0;
		break;
	case EMU_CC_B >> 1:
		if (l->op == EMU_LZ_SUB)
			r = l->src1 < l->src2;
		else if (l->op == EMU_LZ_LOGIC)
			r = false;
		else
			return -1;
		break;
	case EMU_CC_BE >> 1:
		if (l->op == EMU_LZ_SUB)
			r = l->src1 <= l->src2;
		else if (l->op == EMU_LZ_LOGIC)
			r = l->res == 0;
		else
			return -1;
		break;
	case EMU_CC_L >> 1:
	case EMU_CC_LE >> 1:
		if (l->op == EMU_LZ_SUB)
			r = (int64_t)(l->src1 << sh) < (int64_t)(l->src2 << sh) ||
			    ((cc >> 1) == (EMU_CC_LE >> 1) && l->res == 0);
		else if (l->op == EMU_LZ_LOGIC)
			r = (int64_t)(l->res << sh) < 0 ||
			    ((cc >> 1) == (EMU_CC_LE >> 1) && l->res == 0);
		else
			return -1;
		break;
	default:
		return -1;
	}
	return r ^ (cc & 1);
}

static inline bool emu_cond(struct emu_cpu *cpu, unsigned cc)
{
	int r = emu_cond_lazy(cpu, cc);

	return r >= 0 ? r : emu_cond_slow(cpu, cc);
}

static inline uint64_t emu_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline uint64_t emu_sext(uint64_t v, unsigned size)
{
	switch (size) {
	case 1:
		return (uint64_t)(int64_t)(int8_t)v;
	case 2:
		return (uint64_t)(int64_t)(int16_t)v;
	case 4:
		return (uint64_t)(int64_t)(int32_t)v;
	default:
		return v;
	}
}

/* ---- registers -------------------------------------------------------- */

/* Byte registers: without REX, numbers 4-7 are AH, CH, DH, BH. The decoder
 * turns that case into the HIGH8 flags so handlers need no REX test. */
static inline uint64_t emu_reg_get(const struct emu_cpu *cpu, unsigned r, unsigned size, bool high8)
{
	switch (size) {
	case 1:
		return high8 ? (cpu->r[r & 3] >> 8) & 0xff : cpu->r[r] & 0xff;
	case 2:
		return cpu->r[r] & 0xffff;
	case 4:
		return (uint32_t)cpu->r[r];
	default:
		return cpu->r[r];
	}
}

/* Writes of 32 bits zero-extend; 8/16 bits merge (x86-64 rules). */
static inline void emu_reg_set(struct emu_cpu *cpu, unsigned r, unsigned size, bool high8,
			       uint64_t v)
{
	switch (size) {
	case 1:
		if (high8)
			cpu->r[r & 3] = (cpu->r[r & 3] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			cpu->r[r] = (cpu->r[r] & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		cpu->r[r] = (cpu->r[r] & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		cpu->r[r] = (uint32_t)v;
		break;
	default:
		cpu->r[r] = v;
		break;
	}
}

static inline uint64_t emu_greg(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	return emu_reg_get(cpu, in->reg, in->opsize, in->flags & EMU_IF_HIGH8R);
}

static inline void emu_greg_set(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t v)
{
	emu_reg_set(cpu, in->reg, in->opsize, in->flags & EMU_IF_HIGH8R, v);
}

/* ---- memory operands -------------------------------------------------- */

static inline uint64_t emu_admask(uint64_t a, unsigned adsize)
{
	return adsize == 8 ? a : adsize == 4 ? (uint32_t)a : (uint16_t)a;
}

/* Effective address (segment offset) of the ModRM memory operand. */
static inline uint64_t emu_ea(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t a = (uint64_t)in->disp;

	if (in->base != EMU_NOREG)
		a += cpu->r[in->base];
	if (in->index != EMU_NOREG)
		a += cpu->r[in->index] << in->scale;
	return emu_admask(a, in->adsize);
}

static inline uint64_t emu_mem_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size)
{
	return emu_read(cpu, in->seg, emu_ea(cpu, in), size);
}

static inline void emu_mem_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
				 uint64_t v)
{
	emu_write(cpu, in->seg, emu_ea(cpu, in), size, v);
}

/* The r/m operand at in->opsize, register or memory. */
static inline uint64_t emu_rm_get(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (in->mod == 3)
		return emu_reg_get(cpu, in->rm, in->opsize, in->flags & EMU_IF_HIGH8M);
	return emu_mem_read(cpu, in, in->opsize);
}

static inline void emu_rm_set(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t v)
{
	if (in->mod == 3)
		emu_reg_set(cpu, in->rm, in->opsize, in->flags & EMU_IF_HIGH8M, v);
	else
		emu_mem_write(cpu, in, in->opsize, v);
}

/* Compare-and-swap of size bytes at host p (LOCK'd instructions, XCHG):
 * true when *p held *old and now holds v; else *old gets the current value. */
static inline bool emu_cas(void *p, unsigned size, uint64_t *old, uint64_t v)
{
	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)*old;
		bool ok = __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)v, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 2: {
		uint16_t o = (uint16_t)*old;
		bool ok = __atomic_compare_exchange_n((uint16_t *)p, &o, (uint16_t)v, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 4: {
		uint32_t o = (uint32_t)*old;
		bool ok = __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)v, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((uint64_t *)p, old, v, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
}

static inline uint64_t emu_atomic_load(const void *p, unsigned size)
{
	switch (size) {
	case 1:
		return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2:
		return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4:
		return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	default:
		return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
}

/* ---- stack ------------------------------------------------------------- */

/* Stack width: 8 in 64-bit mode, else SS.B decides 4 or 2. */
static inline unsigned emu_stack_size(const struct emu_cpu *cpu)
{
	if (cpu->mode == EMU_MODE_LONG64)
		return 8;
	return (cpu->seg[EMU_SS].attr & EMU_SEG_DB) ? 4 : 2;
}

static inline uint64_t emu_sp_get(const struct emu_cpu *cpu)
{
	return emu_admask(cpu->r[EMU_RSP], emu_stack_size(cpu));
}

static inline void emu_sp_set(struct emu_cpu *cpu, uint64_t v)
{
	unsigned ss = emu_stack_size(cpu);

	if (ss == 8)
		cpu->r[EMU_RSP] = v;
	else
		emu_reg_set(cpu, EMU_RSP, ss, false, v);
}

/* Push/pop of size bytes: the memory access happens before RSP changes, so
 * a fault leaves RSP intact. */
void emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v);
uint64_t emu_pop(struct emu_cpu *cpu, unsigned size);

/* ---- handlers ---------------------------------------------------------- */

#define EMU_HANDLER(name) void name(struct emu_cpu *cpu, const struct emu_insn *in)

/* Next RIP of an instruction that may not be the last in its block. */
static inline uint64_t emu_next_rip(const struct emu_insn *in)
{
	return in->rip + in->len;
}

#include "emu/core-ops.h"

/* exec-fast.c: the specialized handler for the decoded *in (one operand
 * size, operand shape and segment kind; 64-bit mode for memory operands),
 * or in->fn when there is none. emu_decode() applies it last. */
emu_handler emu_fast_pick(const struct emu_cpu *cpu, const struct emu_insn *in);
/* The generic handler a specialized one stands for (fn itself otherwise). */
emu_handler emu_fast_generic(emu_handler fn);

#endif
