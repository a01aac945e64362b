/* String instructions MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/
 * REPNE, all operand and address sizes, DF. Registers are updated after
 * each element, so a fault leaves a restartable state. A REP instruction
 * ends its block and runs at most STR_CHUNK elements per execution; when
 * elements remain it leaves cpu->rip on itself, so the dispatch loop can
 * look at events (interrupts, kicks) between chunks. */
#include "emu/core.h"

#define STR_CHUNK 4096

enum strk { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

static inline uint64_t areg(struct emu_cpu *cpu, int r, unsigned as)
{
	return emu_admask(cpu->r[r], as);
}

static inline void areg_add(struct emu_cpu *cpu, int r, unsigned as, int64_t d)
{
	emu_reg_set(cpu, (unsigned)r, as, false, cpu->r[r] + (uint64_t)d);
}

/* One element. Returns false when a REPE/REPNE condition ends the loop. */
static inline void str_one(struct emu_cpu *cpu, const struct emu_insn *in, enum strk k, int64_t d)
{
	unsigned sz = in->opsize, as = in->adsize;
	uint64_t a, b;

	if (sz == 8 && k >= S_INS) {
		sz = 4; /* port I/O has no 64-bit form; REX.W is ignored */
		d /= 2;
	}
	switch (k) {
	case S_MOVS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, a);
		areg_add(cpu, EMU_RSI, as, d);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_CMPS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		b = emu_read(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz);
		emu_lazy_set(cpu, EMU_LZ_SUB, sz, (a - b) & emu_mask(sz), a, b);
		areg_add(cpu, EMU_RSI, as, d);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_STOS:
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, cpu->r[EMU_RAX]);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_LODS:
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_reg_set(cpu, EMU_RAX, sz, false, a);
		areg_add(cpu, EMU_RSI, as, d);
		break;
	case S_SCAS:
		a = emu_reg_get(cpu, EMU_RAX, sz, false);
		b = emu_read(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz);
		emu_lazy_set(cpu, EMU_LZ_SUB, sz, (a - b) & emu_mask(sz), a, b);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	case S_INS:
		/* permission first, then the destination is probed before the
		 * port is read (a read may have side effects) */
		emu_io_check(cpu, (uint16_t)cpu->r[EMU_RDX], sz);
		(void)emu_seg_lin(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, EMU_ACC_WRITE);
		a = emu_io_in(cpu, (uint16_t)cpu->r[EMU_RDX], sz);
		emu_write(cpu, EMU_ES, areg(cpu, EMU_RDI, as), sz, a);
		areg_add(cpu, EMU_RDI, as, d);
		break;
	default:
		emu_io_check(cpu, (uint16_t)cpu->r[EMU_RDX], sz); /* before the memory read */
		a = emu_read(cpu, in->seg, areg(cpu, EMU_RSI, as), sz);
		emu_io_out(cpu, (uint16_t)cpu->r[EMU_RDX], sz, a);
		areg_add(cpu, EMU_RSI, as, d);
		break;
	}
}

/* ---- bulk fast path for REP MOVS / REP STOS ------------------------------- */

#define BULK_BUDGET (256u << 10) /* bytes per execution before looking at events */

/* Host pointer for n bytes at seg:off when they sit in one page the TLB
 * maps for this access (writes: only pages without decoded code), or NULL. */
static void *bulk_ptr(struct emu_cpu *cpu, int seg, uint64_t off, uint64_t n, bool write)
{
	uint64_t lin =
		emu_seg_lin(cpu, seg, off, (unsigned)n, write ? EMU_ACC_WRITE : EMU_ACC_READ);
	const struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);

	if ((lin & 0xfff) + n > 4096)
		return NULL;
	if ((write ? t->tag_write : t->tag_read) != (lin & ~0xfffULL))
		return NULL;
	return (void *)(uintptr_t)(lin + t->addend);
}

/* Elements (of sz bytes) from off up to its page end, at most max. */
static inline uint64_t to_page_end(uint64_t off, unsigned sz, uint64_t max)
{
	uint64_t n = (4096 - (off & 0xfff)) / sz;

	return n < max ? n : max;
}

/* Copies/fills whole runs of elements that lie in mapped RAM pages; returns
 * false when the next element needs the per-element path (page miss,
 * crossing element, overlap, MMIO) or the budget is spent. */
static bool bulk_step(struct emu_cpu *cpu, const struct emu_insn *in, bool movs, uint64_t *budget)
{
	unsigned sz = in->opsize, as = in->adsize;
	uint64_t cnt = areg(cpu, EMU_RCX, as), di = areg(cpu, EMU_RDI, as), si = 0, n, bytes;
	uint8_t *d, *src = NULL;

	n = to_page_end(di, sz, cnt < *budget / sz ? cnt : *budget / sz);
	if (movs) {
		si = areg(cpu, EMU_RSI, as);
		n = to_page_end(si, sz, n);
	}
	bytes = n * sz;
	if (n == 0 || !(d = bulk_ptr(cpu, EMU_ES, di, bytes, true)))
		return false;
	if (movs) {
		if (!(src = bulk_ptr(cpu, in->seg, si, bytes, false)))
			return false;
		if (d > src && d < src + bytes)
			return false; /* forward overlap replicates: per element */
		memmove(d, src, bytes);
		areg_add(cpu, EMU_RSI, as, (int64_t)bytes);
	} else if (sz == 1) {
		memset(d, (int)(cpu->r[EMU_RAX] & 0xff), bytes);
	} else {
		for (uint64_t i = 0; i < n; i++)
			emu_store_host(d + i * sz, sz, cpu->r[EMU_RAX]);
	}
	areg_add(cpu, EMU_RDI, as, (int64_t)bytes);
	areg_add(cpu, EMU_RCX, as, -(int64_t)n);
	*budget -= bytes;
	return true;
}

/* REP MOVS/STOS with DF = 0 and 32/64-bit addressing: bulk runs, with the
 * element path for whatever they cannot take. */
static void rep_bulk(struct emu_cpu *cpu, const struct emu_insn *in, enum strk k)
{
	uint64_t budget = BULK_BUDGET;
	unsigned as = in->adsize;

	while (areg(cpu, EMU_RCX, as) != 0) {
		if (budget < in->opsize) {
			cpu->rip = in->rip;
			return;
		}
		if (bulk_step(cpu, in, k == S_MOVS, &budget))
			continue;
		str_one(cpu, in, k, in->opsize);
		areg_add(cpu, EMU_RCX, as, -1);
		budget -= in->opsize;
	}
}

static inline void str_op(struct emu_cpu *cpu, const struct emu_insn *in, enum strk k)
{
	int64_t d = (cpu->rflags & EMU_FLAG_DF) ? -(int64_t)in->opsize : in->opsize;
	unsigned as = in->adsize, n = 0;
	bool cond = k == S_CMPS || k == S_SCAS;

	if (!(in->pfx & (EMU_PFX_REP | EMU_PFX_REPNE))) {
		str_one(cpu, in, k, d);
		return;
	}
	if ((k == S_MOVS || k == S_STOS) && d > 0 && as >= 4) {
		rep_bulk(cpu, in, k);
		return;
	}
	while (areg(cpu, EMU_RCX, as) != 0) {
		if (n++ == STR_CHUNK) {
			cpu->rip = in->rip; /* continue after the dispatch loop looked */
			return;
		}
		str_one(cpu, in, k, d);
		areg_add(cpu, EMU_RCX, as, -1);
		if (cond && emu_cond(cpu, EMU_CC_E) != !!(in->pfx & EMU_PFX_REP))
			return;
	}
}

EMU_HANDLER(emu_op_movs)
{
	str_op(cpu, in, S_MOVS);
}

EMU_HANDLER(emu_op_cmps)
{
	str_op(cpu, in, S_CMPS);
}

EMU_HANDLER(emu_op_stos)
{
	str_op(cpu, in, S_STOS);
}

EMU_HANDLER(emu_op_lods)
{
	str_op(cpu, in, S_LODS);
}

EMU_HANDLER(emu_op_scas)
{
	str_op(cpu, in, S_SCAS);
}

EMU_HANDLER(emu_op_ins)
{
	str_op(cpu, in, S_INS);
}

EMU_HANDLER(emu_op_outs)
{
	str_op(cpu, in, S_OUTS);
}

/* IN/OUT: E4-E7 take the port from imm8, EC-EF from DX. */
static inline uint16_t io_port(struct emu_cpu *cpu, const struct emu_insn *in)
{
	return (in->opcode & 8) ? (uint16_t)cpu->r[EMU_RDX] : (uint16_t)(in->imm & 0xff);
}

EMU_HANDLER(emu_op_in)
{
	unsigned sz = in->opsize > 4 ? 4 : in->opsize;

	emu_reg_set(cpu, EMU_RAX, sz, false, emu_io_in(cpu, io_port(cpu, in), sz));
}

EMU_HANDLER(emu_op_out)
{
	unsigned sz = in->opsize > 4 ? 4 : in->opsize;

	emu_io_out(cpu, io_port(cpu, in), sz, emu_reg_get(cpu, EMU_RAX, sz, false));
}
