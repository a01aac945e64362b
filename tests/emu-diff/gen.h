/* The random sequence generator's encoder (gen-enc.c), shared with the
 * instruction families (gen.c). A small x86-64 encoder for what gen.c
 * emits: legacy prefixes, REX, ModRM/SIB/displacement (register, absolute,
 * base+index*scale+disp, RIP-relative, 32-bit address size), immediates. */
#ifndef VS_EMU_DIFF_GEN_H
#define VS_EMU_DIFF_GEN_H

#include "diff.h"

#define GEN_RIP (-2) /* rm.base: RIP-relative */
#define GEN_NONE (-1) /* rm.base/index: absent */
#define GEN_AH 16 /* 8-bit register numbers 16..19: AH, CH, DH, BH */

struct gen_rm {
	bool mem;
	int reg; /* !mem: 0..15, or GEN_AH.. for 8-bit high registers */
	int base; /* mem: register, GEN_RIP or GEN_NONE */
	int index; /* mem: register (not 4) or GEN_NONE */
	unsigned scale; /* log2 */
	int32_t disp;
	uint64_t target; /* GEN_RIP: the absolute address meant */
	bool addr32;
};

struct gen_insn {
	uint8_t pfx; /* F0, F2, F3 or 0 */
	unsigned size; /* operand size: 2 adds 66, 8 adds REX.W */
	bool byte_rex; /* 8-bit operands 4..7 are SPL..DIL (REX present) */
	uint8_t op[3];
	unsigned nop;
	int reg; /* ModRM.reg: a register or a /digit */
	struct gen_rm rm;
	uint64_t imm;
	unsigned immsize;
};

/* Generator state for one sequence. */
struct gen {
	uint8_t *buf;
	size_t len, max;
	uint64_t rng;
	uint64_t features;
	uint64_t undef; /* RFLAGS bits undefined at this point */
	unsigned stack; /* bytes the sequence has on the stack now */
	unsigned nested; /* inside a skipped or called block: no PUSH/POP */
	bool keep_rbp; /* inside ENTER/LEAVE */
	uint16_t *undef_at; /* diff_gen's */
	unsigned align; /* gen_pick_mem: offsets aligned to this (0: random) */
	bool mmx; /* the mm registers are defined (gen-sse.c mmx_start) */
};

uint64_t gen_rand(struct gen *g, uint64_t n); /* 0..n-1 */
void gen_byte(struct gen *g, uint8_t b);
void gen_bytes(struct gen *g, const uint8_t *b, size_t n);
void gen_imm(struct gen *g, uint64_t v, unsigned size);
/* One instruction with a ModRM operand. */
void gen_emit(struct gen *g, const struct gen_insn *in);
/* Opcode + register in the low 3 bits (B8+r, 50+r, 90+r, 0F C8+r). */
void gen_emit_opreg(struct gen *g, unsigned size, const uint8_t *op, unsigned nop, int reg,
		    uint64_t imm, unsigned immsize);
/* mov $imm32, %r32 (zero-extends). */
void gen_mov32(struct gen *g, int reg, uint32_t v);

/* ---- gen.c: operands and sequences ---- */

#define GEN_W_LO 0x1000 /* writes go to the upper data page */
#define GEN_STACK_MAX 0x600 /* bytes a sequence may push */
#define GEN_MAX_INSNS 24
#define GEN_ROOM 256 /* bytes one family may emit, at most */

#define CF DIFF_CF
#define PF DIFF_PF
#define AF DIFF_AF
#define ZF DIFF_ZF
#define SF DIFF_SF
#define OF DIFF_OF
#define ARITH DIFF_ARITH

/* RFLAGS bits each condition code (low nibble of Jcc/SETcc/CMOVcc) reads. */
extern const uint64_t gen_cc_flags[16];

unsigned gen_pick_size(struct gen *g); /* 1, 2, 4, 8 */
unsigned gen_pick_size_wide(struct gen *g); /* 2, 4, 8 */
int gen_pick_dst(struct gen *g); /* a register the sequence may write */
int gen_pick_src(struct gen *g);
/* A register of size for in (8-bit: from in->byte_rex's set). */
int gen_pick_reg(struct gen *g, struct gen_insn *in, unsigned size, bool dst);
int32_t gen_small_disp(struct gen *g);
/* A memory operand of size bytes in the data area (the upper page for a
 * write); may emit MOVs that load its base/index registers, never one in
 * the avoid bit mask; below R8 when low (no REX). RSP in avoid: no
 * [RSP+disp] form. */
void gen_pick_mem(struct gen *g, struct gen_rm *m, unsigned size, bool write, unsigned avoid,
		  bool low);
/* in->rm: a register (dst: may be written) or memory. */
void gen_pick_rm(struct gen *g, struct gen_insn *in, bool mem, bool write, unsigned avoid);
/* 8-bit operations choose the legacy (AH..BH) or the REX register set. */
void gen_start8(struct gen *g, struct gen_insn *in);
/* Emits a CMP first when a flag in need is undefined now. */
void gen_need_flags(struct gen *g, uint64_t need);
/* Records g->undef for an instruction that starts now (and may fault). */
void gen_mark(struct gen *g);
/* One random instruction (or a prepared group) of any family. */
void gen_one(struct gen *g);

/* ---- the families: gen-alu.c ---- */
void gen_alu(struct gen *g);
void gen_unary(struct gen *g);
void gen_shift(struct gen *g);
void gen_shld(struct gen *g);
void gen_div(struct gen *g);
void gen_mul(struct gen *g);

/* ---- gen-ops.c ---- */
void gen_mov(struct gen *g);
void gen_lea(struct gen *g);
void gen_cc(struct gen *g);
void gen_pushpop(struct gen *g);
void gen_xchg(struct gen *g);
void gen_bt(struct gen *g);
void gen_scan(struct gen *g);
void gen_bswap_movbe(struct gen *g);
void gen_misc(struct gen *g);
void gen_string(struct gen *g);
void gen_jcc(struct gen *g);
void gen_call(struct gen *g);
void gen_enter(struct gen *g);

/* ---- gen-sse.c ---- */
void gen_sse(struct gen *g);
/* After the last instruction: stores the mm registers and the x87
 * environment, then EMMS and FNINIT (when an MMX form ran). */
#define GEN_MMX_END 112 /* bytes gen_mmx_end() may emit */
void gen_mmx_end(struct gen *g);

/* ---- gen-x87.c ---- */
void gen_x87(struct gen *g);

#endif
