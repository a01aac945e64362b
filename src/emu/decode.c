/* The x86 instruction decoder: bytes -> struct emu_insn with its handler.
 *
 * Map of this file:
 *   byte source     fetching bytes, possibly across a page end (insn 0 only)
 *   tables          one-byte and 0F maps, the ModRM groups (decode-tables.c)
 *   prefixes        legacy prefixes, REX, map escapes
 *   ModRM           16-bit and 32/64-bit addressing, SIB, RIP-relative
 *   immediates      by kind; relative targets folded into imm
 *   special cases   opcodes whose meaning depends on mode, prefix or ModRM
 *
 * The decoder never raises for what it decodes: an invalid or unimplemented
 * encoding becomes an instruction whose handler raises #UD when (and only
 * if) it executes. The only fault during decoding is a #PF while fetching
 * the second page of an instruction that straddles a page end, which the
 * block builder allows only for the first instruction of a block. */
#include "emu/decode.h"

#include "emu/core.h"

#include <errno.h>

/* ---- byte source ----------------------------------------------------- */

static uint8_t fetch_slow(struct emu_cpu *cpu, struct emu_dsrc *s)
{
	uint64_t gpa;
	unsigned avail, n;
	const uint8_t *q;

	if (s->pos >= 15) {
		s->too_long = true;
		return 0;
	}
	if (!s->may_cross || s->crossed) {
		s->fail = true;
		return 0;
	}
	memcpy(s->buf, s->p, s->avail);
	q = emu_fetch_ptr(cpu, s->lin + s->avail, &gpa, &avail);
	n = avail < 16 - s->avail ? avail : 16 - s->avail;
	memcpy(s->buf + s->avail, q, n);
	s->p = s->buf;
	s->avail += n;
	s->crossed = true;
	s->gpa2 = gpa & ~0xfffULL;
	return s->p[s->pos++];
}

static inline uint8_t fb(struct emu_cpu *cpu, struct emu_dsrc *s)
{
	if (__builtin_expect(s->pos < s->avail && s->pos < 15, 1))
		return s->p[s->pos++];
	return fetch_slow(cpu, s);
}

static uint64_t fetch_n(struct emu_cpu *cpu, struct emu_dsrc *s, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)fb(cpu, s) << (8 * i);
	return v;
}

/* ---- ModRM ------------------------------------------------------------- */

struct dstate {
	uint8_t rex;
	int seg_override;
	bool riprel;
};

static void modrm16(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in, unsigned rm)
{
	static const uint8_t base[8] = { EMU_RBX,   EMU_RBX,   EMU_RBP, EMU_RBP,
					 EMU_NOREG, EMU_NOREG, EMU_RBP, EMU_RBX };
	static const uint8_t index[8] = { EMU_RSI, EMU_RDI, EMU_RSI,   EMU_RDI,
					  EMU_RSI, EMU_RDI, EMU_NOREG, EMU_NOREG };

	in->base = base[rm];
	in->index = index[rm];
	if (in->mod == 0 && rm == 6) {
		in->base = EMU_NOREG;
		in->disp = (int64_t)fetch_n(cpu, s, 2);
		return;
	}
	if (in->base == EMU_RBP)
		in->seg = EMU_SS;
	if (in->mod == 1)
		in->disp = (int8_t)fb(cpu, s);
	else if (in->mod == 2)
		in->disp = (int16_t)fetch_n(cpu, s, 2);
}

static void modrm32(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in, unsigned rm,
		    struct dstate *d)
{
	unsigned b = rm, rexb = (d->rex & 1) << 3;

	if (rm == 4) {
		uint8_t sib = fb(cpu, s);
		unsigned idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);

		in->scale = sib >> 6;
		in->index = idx == 4 ? EMU_NOREG : (uint8_t)idx;
		b = sib & 7;
	}
	if (b == 5 && in->mod == 0) {
		in->base = EMU_NOREG;
		in->disp = (int32_t)fetch_n(cpu, s, 4);
		d->riprel = rm == 5 && cpu->mode == EMU_MODE_LONG64;
		return;
	}
	in->base = (uint8_t)(b | rexb);
	if (b == EMU_RSP || b == EMU_RBP)
		in->seg = EMU_SS;
	if (in->mod == 1)
		in->disp = (int8_t)fb(cpu, s);
	else if (in->mod == 2)
		in->disp = (int32_t)fetch_n(cpu, s, 4);
}

static void modrm(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in, struct dstate *d)
{
	uint8_t m = fb(cpu, s);
	unsigned rm = m & 7;

	in->mod = m >> 6;
	in->reg = (uint8_t)(((m >> 3) & 7) | ((d->rex & 4) << 1));
	in->rm = (uint8_t)(rm | ((d->rex & 1) << 3));
	if (!d->rex && in->reg >= 4 && in->reg < 8)
		in->flags |= EMU_IF_HIGH8R;
	if (in->mod == 3) {
		if (!d->rex && rm >= 4)
			in->flags |= EMU_IF_HIGH8M;
		return;
	}
	if (in->adsize == 2)
		modrm16(cpu, s, in, rm);
	else
		modrm32(cpu, s, in, rm, d);
}

/* ---- immediates -------------------------------------------------------- */

static void immediate(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in, unsigned kind)
{
	unsigned zsize = in->opsize <= 2 ? in->opsize : 4;

	switch (kind) {
	case OPF_IMM_B:
	case OPF_IMM_REL8:
		in->imm = (uint64_t)(int64_t)(int8_t)fb(cpu, s);
		break;
	case OPF_IMM_W:
		in->imm = fetch_n(cpu, s, 2);
		break;
	case OPF_IMM_Z:
	case OPF_IMM_RELZ:
		in->imm = emu_sext(fetch_n(cpu, s, zsize), zsize);
		break;
	case OPF_IMM_V:
		in->imm = in->opsize == 8 ? fetch_n(cpu, s, 8) : fetch_n(cpu, s, zsize);
		break;
	case OPF_IMM_ENTER:
		in->imm = fetch_n(cpu, s, 2);
		in->imm2 = fb(cpu, s);
		break;
	case OPF_IMM_FAR:
		in->imm = fetch_n(cpu, s, zsize);
		in->imm2 = fetch_n(cpu, s, 2);
		break;
	case OPF_IMM_MOFFS:
		in->mod = 0;
		in->base = in->index = EMU_NOREG;
		in->disp = (int64_t)fetch_n(cpu, s, in->adsize);
		break;
	default:
		break;
	}
}

/* ---- prefixes, sizes ---------------------------------------------------- */

static int seg_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
		return EMU_ES;
	case 0x2e:
		return EMU_CS;
	case 0x36:
		return EMU_SS;
	case 0x3e:
		return EMU_DS;
	case 0x64:
		return EMU_FS;
	case 0x65:
		return EMU_GS;
	default:
		return -1;
	}
}

/* Reads prefixes and returns the first opcode byte. */
static uint8_t prefixes(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in,
			struct dstate *d)
{
	for (;;) {
		uint8_t b = fb(cpu, s);
		int sp = seg_prefix(b);

		if (sp >= 0) {
			d->seg_override = sp;
		} else if (b == 0xf0) {
			in->pfx |= EMU_PFX_LOCK;
		} else if (b == 0xf2) {
			in->pfx = (uint8_t)((in->pfx & ~EMU_PFX_REP) | EMU_PFX_REPNE);
		} else if (b == 0xf3) {
			in->pfx = (uint8_t)((in->pfx & ~EMU_PFX_REPNE) | EMU_PFX_REP);
		} else if (b == 0x66) {
			in->pfx |= EMU_PFX_OPSZ;
		} else if (b == 0x67) {
			in->pfx |= EMU_PFX_ADSZ;
		} else if (cpu->mode == EMU_MODE_LONG64 && (b & 0xf0) == 0x40) {
			d->rex = b; /* only counts when the opcode follows at once */
			continue;
		} else {
			return b;
		}
		d->rex = 0;
		if (s->fail || s->too_long)
			return 0;
	}
}

static void sizes(struct emu_cpu *cpu, struct emu_insn *in, const struct dstate *d, unsigned f)
{
	bool lm = cpu->mode == EMU_MODE_LONG64;
	unsigned def = cpu->mode == EMU_MODE_PROT32 || lm ? 4 : 2;

	if (d->rex & 8)
		in->opsize = 8;
	else if (in->pfx & EMU_PFX_OPSZ)
		in->opsize = (uint8_t)(def == 2 ? 4 : 2);
	else
		in->opsize = (uint8_t)def;
	if (lm && (f & OPF_DEF64) && !(d->rex & 8))
		in->opsize = (in->pfx & EMU_PFX_OPSZ) ? 2 : 8;
	if (lm && (f & OPF_F64))
		in->opsize = 8;
	if (f & OPF_BYTE)
		in->opsize = 1;
}

/* ---- the decoder ------------------------------------------------------- */

static const struct emu_opdesc *lookup(struct emu_cpu *cpu, struct emu_dsrc *s, struct emu_insn *in,
				       uint8_t b)
{
	in->opcode = b;
	if (b != 0x0f)
		return &emu_map1[b];
	b = fb(cpu, s);
	in->map = 1;
	if (b == 0x38 || b == 0x3a) {
		in->map = b == 0x38 ? 2 : 3;
		in->opcode = fb(cpu, s);
		return emu_map3_desc(in);
	}
	in->opcode = b;
	return &emu_map2[b];
}

static void finish(struct emu_cpu *cpu, struct emu_insn *in, const struct dstate *d, unsigned f)
{
	uint64_t next = in->rip + in->len;

	if (d->riprel)
		in->disp += (int64_t)next;
	if ((f & OPF_IMM_MASK) == OPF_IMM_REL8 || (f & OPF_IMM_MASK) == OPF_IMM_RELZ)
		in->imm = emu_admask(next + in->imm, in->opsize);
	if (f & OPF_CL)
		in->flags |= EMU_IF_CL;
	if (f & OPF_ONE)
		in->imm = 1;
	if (d->seg_override >= 0)
		in->seg = (uint8_t)d->seg_override;
	if ((f & OPF_END) || (in->pfx & (EMU_PFX_REP | EMU_PFX_REPNE) && (f & OPF_REPEND)))
		in->flags |= EMU_IF_END;
	/* near branches keep paging as it was; MOV to CRn (also OPF_F64, for
	 * its operand size) may not: a CR3 load changes translations. CLI and
	 * STI change only IF (STI's event and interrupt shadow stop linked
	 * code by themselves): a system block would drop the dispatch loop's
	 * cached code translations, and Linux's read path runs ~270 of them
	 * per MiB read */
	if ((f & OPF_END) && (!(f & OPF_F64) || in->fn == emu_op_mov_to_cr) &&
	    in->fn != emu_op_cli && in->fn != emu_op_sti)
		in->flags |= EMU_IF_SYS;
	if ((in->pfx & EMU_PFX_LOCK) && (!(f & OPF_LOCKOK) || in->mod == 3))
		in->fn = emu_op_ud;
	if (in->fn == emu_op_ud || in->fn == emu_op_unimpl || in->fn == emu_op_gp0)
		in->flags |= EMU_IF_END;
	(void)cpu;
}

int emu_decode(struct emu_cpu *cpu, struct emu_dsrc *s, uint64_t rip, struct emu_insn *in)
{
	struct dstate d = { .seg_override = -1 };
	const struct emu_opdesc *od;
	struct emu_opdesc g;
	unsigned f;

	memset(in, 0, sizeof(*in));
	in->rip = rip;
	in->base = in->index = EMU_NOREG;
	in->seg = EMU_DS;
	in->mod = 3;
	od = lookup(cpu, s, in, prefixes(cpu, s, in, &d));
	if (cpu->mode == EMU_MODE_LONG64)
		in->adsize = (in->pfx & EMU_PFX_ADSZ) ? 4 : 8;
	else
		in->adsize = (cpu->mode == EMU_MODE_PROT32) != !!(in->pfx & EMU_PFX_ADSZ) ? 4 : 2;
	f = od->f;
	if (f & OPF_MODRM)
		modrm(cpu, s, in, &d);
	if (f & OPF_SPECIAL) {
		g = emu_decode_special(cpu, in, od, d.rex);
		od = &g;
		f = od->f;
	} else if (f & OPF_GROUP) {
		od = &emu_groups[od->grp][(in->reg & 7)];
		f |= od->f;
	}
	if ((f & OPF_I64) && cpu->mode == EMU_MODE_LONG64)
		od = &emu_desc_ud;
	if (f & OPF_OPREG) {
		in->reg = in->rm = (uint8_t)((in->opcode & 7) | ((d.rex & 1) << 3));
		if (!d.rex && in->reg >= 4 && in->reg < 8)
			in->flags |= EMU_IF_HIGH8R | EMU_IF_HIGH8M;
	}
	if (d.rex)
		in->pfx |= EMU_PFX_REX | ((d.rex & 8) ? EMU_PFX_REXW : 0);
	sizes(cpu, in, &d, f);
	immediate(cpu, s, in, f & OPF_IMM_MASK);
	if (s->fail)
		return -EAGAIN;
	in->fn = in->mod == 3 ? od->r : od->m;
	if (!in->fn)
		in->fn = emu_op_ud;
	in->len = (uint8_t)s->pos;
	if (s->too_long) {
		in->fn = emu_op_gp0;
		in->len = 15;
	}
	finish(cpu, in, &d, f);
	in->fn = emu_fast_pick(cpu, in);
	return 0;
}
