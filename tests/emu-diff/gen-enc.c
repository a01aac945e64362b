/* The generator's x86-64 encoder (gen.h). Encodes exactly what it is
 * asked; gen.c keeps the operands valid (no RSP as an index, no REX with
 * AH..BH, memory inside the data area). */
#include "gen.h"

#include <string.h>

uint64_t gen_rand(struct gen *g, uint64_t n)
{
	return n ? diff_rand(&g->rng) % n : 0;
}

void gen_byte(struct gen *g, uint8_t b)
{
	if (g->len < g->max)
		g->buf[g->len++] = b;
}

void gen_bytes(struct gen *g, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gen_byte(g, b[i]);
}

void gen_imm(struct gen *g, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		gen_byte(g, (uint8_t)(v >> (8 * i)));
}

static bool is_high8(int reg)
{
	return reg >= GEN_AH;
}

static unsigned low3(int reg)
{
	return is_high8(reg) ? (unsigned)(reg - GEN_AH + 4) : (unsigned)reg & 7;
}

static unsigned hi1(int reg)
{
	return reg >= 8 && !is_high8(reg) ? 1 : 0;
}

static uint8_t rex_of(const struct gen_insn *in)
{
	const struct gen_rm *m = &in->rm;
	uint8_t rex = 0;

	rex |= in->size == 8 ? 8 : 0;
	rex |= hi1(in->reg) << 2;
	if (m->mem) {
		rex |= m->index >= 0 ? hi1(m->index) << 1 : 0;
		rex |= m->base >= 0 ? hi1(m->base) : 0;
	} else {
		rex |= hi1(m->reg);
	}
	if (rex || in->byte_rex)
		return 0x40 | rex;
	return 0;
}

static void put_disp(struct gen *g, int32_t disp, unsigned mod)
{
	if (mod == 1)
		gen_byte(g, (uint8_t)disp);
	else if (mod == 2)
		gen_imm(g, (uint32_t)disp, 4);
}

/* ModRM (+SIB, +displacement) for a memory operand; returns where a
 * RIP-relative disp32 sits (patched after the immediate), or 0. */
static size_t put_mem(struct gen *g, unsigned regf, const struct gen_rm *m)
{
	unsigned idx = m->index >= 0 ? low3(m->index) : 4, mod;
	size_t at;

	if (m->base == GEN_RIP) {
		gen_byte(g, (uint8_t)(regf << 3 | 5));
		at = g->len;
		gen_imm(g, 0, 4);
		return at;
	}
	if (m->base == GEN_NONE) {
		gen_byte(g, (uint8_t)(regf << 3 | 4));
		gen_byte(g, (uint8_t)(m->scale << 6 | idx << 3 | 5));
		gen_imm(g, (uint32_t)m->disp, 4);
		return 0;
	}
	mod = m->disp == 0 && low3(m->base) != 5 ? 0 : (m->disp == (int8_t)m->disp ? 1 : 2);
	if (m->index >= 0 || low3(m->base) == 4) {
		gen_byte(g, (uint8_t)(mod << 6 | regf << 3 | 4));
		gen_byte(g, (uint8_t)(m->scale << 6 | idx << 3 | low3(m->base)));
	} else {
		gen_byte(g, (uint8_t)(mod << 6 | regf << 3 | low3(m->base)));
	}
	put_disp(g, m->disp, mod);
	return 0;
}

void gen_emit(struct gen *g, const struct gen_insn *in)
{
	uint8_t rex = rex_of(in);
	size_t rip_at = 0;

	if (in->pfx)
		gen_byte(g, in->pfx);
	if (in->size == 2)
		gen_byte(g, 0x66);
	if (in->rm.mem && in->rm.addr32)
		gen_byte(g, 0x67);
	if (rex)
		gen_byte(g, rex);
	gen_bytes(g, in->op, in->nop);
	if (in->rm.mem)
		rip_at = put_mem(g, low3(in->reg), &in->rm);
	else
		gen_byte(g, (uint8_t)(0xc0 | low3(in->reg) << 3 | low3(in->rm.reg)));
	gen_imm(g, in->imm, in->immsize);
	if (rip_at) {
		int32_t d = (int32_t)(in->rm.target - (DIFF_CODE_VA + g->len));

		memcpy(g->buf + rip_at, &d, 4);
	}
}

void gen_emit_opreg(struct gen *g, unsigned size, const uint8_t *op, unsigned nop, int reg,
		    uint64_t imm, unsigned immsize)
{
	uint8_t rex = (size == 8 ? 8 : 0) | hi1(reg);

	if (size == 2)
		gen_byte(g, 0x66);
	if (rex)
		gen_byte(g, 0x40 | rex);
	gen_bytes(g, op, nop - 1);
	gen_byte(g, (uint8_t)(op[nop - 1] + low3(reg)));
	gen_imm(g, imm, immsize);
}

void gen_mov32(struct gen *g, int reg, uint32_t v)
{
	static const uint8_t op = 0xb8;

	gen_emit_opreg(g, 4, &op, 1, reg, v, 4);
}
