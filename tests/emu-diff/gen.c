/* Random instruction sequences (diff.h diff_gen), part 1: operand pickers
 * and the sequence loop; the families are in gen-alu.c, gen-ops.c and
 * gen-x87.c.
 * Integer instructions
 * with random registers, sizes, immediates and addressing forms, kept
 * valid: memory operands land in the data area (writes in its upper page;
 * the stack lives in the lower one), RSP changes only through balanced
 * stack operations, divisions are usually prepared to not fault, and an
 * instruction that reads a flag the sequence left undefined gets a CMP
 * before it. g->undef tracks the flags the SDM leaves undefined.
 *
 */
#include "gen.h"

/* Flags each condition code reads (Jcc/SETcc/CMOVcc low nibble). */
const uint64_t gen_cc_flags[16] = {
	OF, OF, CF, CF, ZF,	 ZF,	  CF | ZF,	CF | ZF,
	SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF,
};

/* ---- operands ---------------------------------------------------------- */

unsigned gen_pick_size(struct gen *g)
{
	return 1u << gen_rand(g, 4);
}

unsigned gen_pick_size_wide(struct gen *g)
{
	return 2u << gen_rand(g, 3);
}

static bool may_write(const struct gen *g, int r)
{
	return r != DIFF_RSP && !(g->keep_rbp && r == DIFF_RBP);
}

int gen_pick_dst(struct gen *g)
{
	int r;

	do
		r = (int)gen_rand(g, 16);
	while (!may_write(g, r));
	return r;
}

int gen_pick_src(struct gen *g)
{
	return (int)gen_rand(g, 16);
}

/* Registers for an 8-bit operation: either the legacy set (AL..BL,
 * AH..BH; no REX) or with REX (any of 16; SPL..DIL). Sets in->byte_rex. */
static int pick8(struct gen *g, struct gen_insn *in, bool dst)
{
	static const int legacy[8] = { 0, 1, 2, 3, GEN_AH, GEN_AH + 1, GEN_AH + 2, GEN_AH + 3 };

	if (!in->byte_rex)
		return legacy[gen_rand(g, 8)];
	return dst ? gen_pick_dst(g) : gen_pick_src(g);
}

int gen_pick_reg(struct gen *g, struct gen_insn *in, unsigned size, bool dst)
{
	if (size == 1)
		return pick8(g, in, dst);
	return dst ? gen_pick_dst(g) : gen_pick_src(g);
}

/* A register for addressing: not in avoid, not RSP; below 8 when low. */
static int pick_addr_reg(struct gen *g, unsigned avoid, bool low)
{
	int r;

	do
		r = (int)gen_rand(g, low ? 8 : 16);
	while (r == DIFF_RSP || (avoid & (1u << r)) || !may_write(g, r));
	return r;
}

int32_t gen_small_disp(struct gen *g)
{
	switch (gen_rand(g, 3)) {
	case 0:
		return 0;
	case 1:
		return (int32_t)gen_rand(g, 256) - 128;
	default:
		return (int32_t)gen_rand(g, 0x20000) - 0x10000;
	}
}

/* Loads reg with v; with addr32, garbage above bit 31 that the 67 prefix
 * must ignore. */
static void set_addr_reg(struct gen *g, int reg, uint32_t v, bool addr32)
{
	static const uint8_t movabs = 0xb8;

	if (addr32 && gen_rand(g, 2))
		gen_emit_opreg(g, 8, &movabs, 1, reg, diff_rand(&g->rng) << 32 | v, 8);
	else
		gen_mov32(g, reg, v);
}

/* Base + index*scale + disp == addr, registers loaded first. */
static void mem_base_index(struct gen *g, struct gen_rm *m, uint32_t addr, unsigned avoid, bool low)
{
	uint32_t k = (uint32_t)gen_rand(g, 16);

	m->base = pick_addr_reg(g, avoid, low);
	m->index = pick_addr_reg(g, avoid | 1u << m->base, low);
	m->scale = (unsigned)gen_rand(g, 4);
	m->disp = gen_small_disp(g);
	m->addr32 = gen_rand(g, 4) == 0;
	set_addr_reg(g, m->index, k, m->addr32);
	set_addr_reg(g, m->base, addr - (k << m->scale) - (uint32_t)m->disp, m->addr32);
}

/* A memory operand of size bytes in the data area (the upper page for a
 * write); may emit MOVs that load its base/index registers (never one in
 * avoid; below R8 when low: no REX allowed). RSP in avoid: no [RSP+disp]
 * (POP to memory adds 8 to RSP before it computes the address). */
void gen_pick_mem(struct gen *g, struct gen_rm *m, unsigned size, bool write, unsigned avoid,
		  bool low)
{
	uint32_t lo = write ? GEN_W_LO : 0;
	uint32_t off = lo + (uint32_t)gen_rand(g, DIFF_DATA_SIZE - lo - size + 1);
	uint32_t addr, k = (uint32_t)gen_rand(g, 16);

	if (g->align)
		off &= ~(g->align - 1);
	else if (gen_rand(g, 2))
		off &= ~(size - 1);
	addr = DIFF_DATA_VA + off;
	*m = (struct gen_rm){ .mem = true, .base = GEN_NONE, .index = GEN_NONE };
	switch (gen_rand(g, 6)) {
	case 0:
		m->disp = (int32_t)addr;
		break;
	case 1:
		m->base = GEN_RIP;
		m->target = addr;
		break;
	case 2:
		m->base = pick_addr_reg(g, avoid, low);
		m->disp = gen_small_disp(g);
		m->addr32 = gen_rand(g, 4) == 0;
		set_addr_reg(g, m->base, addr - (uint32_t)m->disp, m->addr32);
		break;
	case 3:
		m->index = pick_addr_reg(g, avoid, low);
		m->scale = (unsigned)gen_rand(g, 4);
		gen_mov32(g, m->index, k);
		m->disp = (int32_t)(addr - (k << m->scale));
		break;
	case 4:
		if (avoid & 1u << DIFF_RSP) {
			m->disp = (int32_t)addr;
			break;
		}
		m->base = DIFF_RSP;
		m->disp = (int32_t)(addr - (DIFF_STACK_TOP - g->stack));
		break;
	default:
		mem_base_index(g, m, addr, avoid, low);
		break;
	}
}

/* Makes the flags in need defined (CMP defines all six) before a reader. */
void gen_need_flags(struct gen *g, uint64_t need)
{
	struct gen_insn in = { .size = 8, .op = { 0x39 }, .nop = 1 };

	if (!(g->undef & need))
		return;
	in.reg = gen_pick_src(g);
	in.rm.reg = gen_pick_src(g);
	gen_emit(g, &in);
	g->undef &= ~ARITH;
}

/* The r/m operand: a register (dst: written) or memory. */
void gen_pick_rm(struct gen *g, struct gen_insn *in, bool mem, bool write, unsigned avoid)
{
	if (!mem) {
		in->rm = (struct gen_rm){ .reg = gen_pick_reg(g, in, in->size, write) };
		return;
	}
	gen_pick_mem(g, &in->rm, in->size, write, avoid, in->size == 1 && !in->byte_rex);
}

/* 8-bit instructions choose the legacy or the REX register set once. */
void gen_start8(struct gen *g, struct gen_insn *in)
{
	in->byte_rex = in->size == 1 && gen_rand(g, 2);
}

/* ---- sequences ------------------------------------------------------------------ */

struct family {
	void (*fn)(struct gen *g);
	unsigned weight;
	bool flow; /* contains a nested block, or is too long for one (x87): not
		    * inside another */
};

static const struct family families[] = {
	{ gen_alu, 14, false },	   { gen_unary, 4, false },	  { gen_shift, 8, false },
	{ gen_shld, 3, false },	   { gen_div, 4, false },	  { gen_mul, 5, false },
	{ gen_mov, 8, false },	   { gen_lea, 5, false },	  { gen_cc, 6, false },
	{ gen_pushpop, 5, false }, { gen_xchg, 5, false },	  { gen_bt, 4, false },
	{ gen_scan, 4, false },	   { gen_bswap_movbe, 3, false }, { gen_misc, 4, false },
	{ gen_string, 4, false },  { gen_jcc, 4, true },	  { gen_call, 2, true },
	{ gen_enter, 2, true },	   { gen_sse, 16, false },	  { gen_x87, 5, true },
};

void gen_one(struct gen *g)
{
	unsigned total = 0, pick;
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		total += families[i].weight;
	do {
		pick = (unsigned)gen_rand(g, total);
		for (i = 0; pick >= families[i].weight; i++)
			pick -= families[i].weight;
	} while (g->nested && families[i].flow);
	gen_mark(g);
	families[i].fn(g);
}

void gen_mark(struct gen *g)
{
	if (g->len < g->max)
		g->undef_at[g->len] = (uint16_t)g->undef;
}

size_t diff_gen(uint64_t seed, uint64_t features, uint8_t *buf, size_t max, uint64_t *undef,
		uint16_t *undef_at)
{
	struct gen g = {
		.buf = buf, .max = max, .rng = seed, .features = features, .undef_at = undef_at
	};
	unsigned n = 1 + (unsigned)gen_rand(&g, GEN_MAX_INSNS);

	for (size_t i = 0; i < max; i++)
		undef_at[i] = DIFF_UNDEF_UNKNOWN;
	for (unsigned i = 0; i < n && g.len + GEN_ROOM + GEN_MMX_END < max; i++)
		gen_one(&g);
	gen_mmx_end(&g);
	gen_mark(&g);
	*undef = g.undef;
	return g.len;
}
