/* The SSE unit's generic handlers: availability (CR0.EM/TS, CR4.OSFXSR,
 * the host's extensions), operand fetch with the 16-byte alignment rule,
 * MXCSR around floating-point operations (#XM or #UD for unmasked
 * exceptions), write-back; LDMXCSR/STMXCSR. The operations are in
 * sse-map*.c; the forms with general registers in exec-sse-gpr.c.
 *
 * Order of checks (SDM vol. 2 "SIMD floating-point exceptions" tables and
 * vol. 3 §13.1): #UD (CR0.EM, !CR4.OSFXSR, extension absent), #NM (CR0.TS),
 * then the memory operand (#GP/#SS/#PF, misaligned 16-byte operand #GP(0)),
 * then #XM; a faulting instruction changes nothing. */
#include "emu/sse.h"

static unsigned sse_host;

static void __attribute__((constructor)) sse_host_init(void)
{
	sse_host = emu_sse_host_features();
}

/* True when this form of op has an MMX-register operand (or is EMMS). */
static inline bool mmx_live(const struct emu_insn *in, const struct emu_sse_op *op)
{
	return (op->mmx & (MX_REG | MX_X87)) || ((op->mmx & MX_RM) && in->mod == 3);
}

/* MMX instructions need no CR4.OSFXSR (SDM vol. 3 table 23-7: #UD on
 * CR0.EM only) and raise #MF for a pending x87 exception, after #NM. */
void emu_sse_avail(struct emu_cpu *cpu, const struct emu_insn *in, const struct emu_sse_op *op)
{
	bool fxsr = !op->mmx || (op->mmx & MX_SSE);

	if (op->feat & ~sse_host)
		emu_raise_unimplemented(cpu, in);
	if (op->flags & SSE_GPR)
		return;
	if ((cpu->cr0 & EMU_CR0_EM) || (fxsr && !(cpu->cr4 & EMU_CR4_OSFXSR)))
		emu_raise_ud(cpu);
	if (cpu->cr0 & EMU_CR0_TS)
		emu_raise(cpu, EMU_NM, EMU_NO_ERRCODE);
	if (op->mmx && mmx_live(in, op) && (x87_get16(cpu, X87_FSW) & FSW_ES))
		emu_raise(cpu, EMU_MF, EMU_NO_ERRCODE);
}

/* The transition comes with the instruction's completion: a faulting MMX
 * instruction leaves TOP and the tags alone (as the hardware does). */
void emu_sse_done(struct emu_cpu *cpu, const struct emu_insn *in, const struct emu_sse_op *op)
{
	if (op->mmx && mmx_live(in, op))
		x87_mmx_enter(cpu);
}

/* EMMS: every x87 register tagged empty. */
EMU_HANDLER(emu_op_emms)
{
	static const struct emu_sse_op emms = { .mmx = MX_X87 };

	emu_sse_avail(cpu, in, &emms);
	cpu->fxsave[X87_FTW] = 0;
}

/* ---- memory operands -------------------------------------------------- */

void emu_sse_load(struct emu_cpu *cpu, const struct emu_insn *in, union emu_xmm *x, unsigned n,
		  bool align)
{
	uint64_t lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), n, EMU_ACC_READ);
	struct emu_tlb_entry *t;

	if (n <= 8) {
		x->q[0] = emu_read_lin(cpu, lin, n);
		x->q[1] = 0;
		return;
	}
	if (align && (lin & 15))
		emu_raise_gp(cpu, 0);
	t = emu_tlb_slot(cpu, lin);
	if (t->tag_read == (lin & ~0xfffULL) && (lin & 0xfff) <= 4096 - 16)
		memcpy(x, (const void *)(uintptr_t)(lin + t->addend), 16);
	else
		emu_read_bytes(cpu, lin, x, 16);
}

void emu_sse_store(struct emu_cpu *cpu, const struct emu_insn *in, const union emu_xmm *x,
		   unsigned n, bool align)
{
	uint64_t lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), n, EMU_ACC_WRITE);
	struct emu_tlb_entry *t;

	if (n <= 8) {
		emu_write_lin(cpu, lin, n, x->q[0]);
		return;
	}
	if (align && (lin & 15))
		emu_raise_gp(cpu, 0);
	t = emu_tlb_slot(cpu, lin);
	if (t->tag_write == (lin & ~0xfffULL) && (lin & 0xfff) <= 4096 - 16)
		memcpy((void *)(uintptr_t)(lin + t->addend), x, 16);
	else
		emu_write_bytes(cpu, lin, x, 16);
}

/* ---- MXCSR around a floating-point operation ---------------------------- */

/* Folds the flags an operation raised into the guest's MXCSR. An unmasked
 * one raises #XM (#UD without CR4.OSXMMEXCPT) before the destination is
 * written; when it is a pre-computation exception (invalid, denormal,
 * divide by zero) only those flags are set (SDM vol. 1 §11.5.2). */
static void sse_fp_done(struct emu_cpu *cpu, uint32_t g, uint32_t fl, bool precomp)
{
	uint32_t un = fl & ~(g >> 7) & EMU_MXCSR_FLAGS;

	if (un) {
		if (precomp && (un & (EMU_MXCSR_IE | EMU_MXCSR_DE | EMU_MXCSR_ZE)))
			fl &= EMU_MXCSR_IE | EMU_MXCSR_DE | EMU_MXCSR_ZE;
		emu_mxcsr_set(cpu, g | fl);
		if (cpu->cr4 & EMU_CR4_OSXMMEXCPT)
			emu_raise(cpu, EMU_XM, EMU_NO_ERRCODE);
		emu_raise_ud(cpu);
	}
	if (fl & ~g)
		emu_mxcsr_set(cpu, g | fl);
}

void emu_sse_run(struct emu_cpu *cpu, const struct emu_sse_op *op, emu_sse_fn fn, union emu_xmm *d,
		 const union emu_xmm *s, unsigned imm)
{
	union emu_xmm d0 = *d;
	uint32_t g, h, fl;

	if (!(op->flags & SSE_FP)) {
		fn(d, s, imm);
		return;
	}
	g = emu_mxcsr_get(cpu);
	if ((g & EMU_MXCSR_MASKS) == EMU_MXCSR_MASKS) {
		/* Every exception masked (the usual case): the host runs with the
		 * guest's whole MXCSR, flags included, and keeps it afterwards;
		 * the sticky flags then are the guest's new ones. Loading MXCSR
		 * when it changes the flags costs ~50 ns here, hence no switch
		 * back per instruction (emu_cpu_run() restores the host's). */
		uint32_t cur, st;

		__asm__ volatile("stmxcsr %0" : "=m"(cur)::"memory");
		if (cur != g)
			__asm__ volatile("ldmxcsr %0" ::"m"(g) : "memory");
		fn(d, s, imm);
		__asm__ volatile("stmxcsr %0" : "=m"(st)::"memory");
		if (st != g)
			emu_mxcsr_set(cpu, st);
		return;
	}
	if (op->arith == SSE_AR_DP) {
		/* step by step to see whether and how it traps (each step applied
		 * the pre-computation rule); if not, the host's DPPS as usual: its
		 * NaN propagation is not that of the steps */
		fl = emu_sse_dp(op->fpe == SSE_E_PD, d, s, imm, g); /* some unmasked */
		if (fl & ~(g >> 7) & EMU_MXCSR_FLAGS)
			sse_fp_done(cpu, g, fl, false);
	}
	h = emu_sse_host_enter(g);
	fn(d, s, imm);
	fl = emu_sse_host_leave(h);
	if ((~g & (EMU_MXCSR_OM | EMU_MXCSR_UM)) && op->fpe)
		fl = emu_sse_fp_fixup(op, fn, &d0, s, d, imm, g, fl);
	sse_fp_done(cpu, g, fl, true);
}

void emu_sse_set_flags(struct emu_cpu *cpu, uint64_t f)
{
	emu_flags_flush(cpu);
	cpu->rflags = (cpu->rflags & ~EMU_FLAGS_ARITH) | (f & EMU_FLAGS_ARITH);
}

/* ---- handler kinds ------------------------------------------------------ */

static inline unsigned sse_imm(const struct emu_insn *in)
{
	return (unsigned)(in->imm & 0xff) | ((in->pfx & EMU_PFX_REXW) ? SSE_W : 0);
}

/* The source operand of a register/memory form. */
static inline void sse_src(struct emu_cpu *cpu, const struct emu_insn *in,
			   const struct emu_sse_op *op, union emu_xmm *s)
{
	if (in->mod == 3)
		emu_sse_opnd_get(cpu, op->mmx & MX_RM, in->rm, s);
	else
		emu_sse_load(cpu, in, s, op->msize, op->flags & SSE_A16);
}

/* Places an MMX form's 64-bit operands (MX_ARR) so that the XMM
 * operation's low quadword (MX_HI: high) is the MMX result. */
static void mmx_place(const struct emu_sse_op *op, union emu_xmm *d, union emu_xmm *s)
{
	switch (op->mmx & MX_ARR) {
	case MX_PAIR:
		d->q[1] = s->q[0];
		*s = *d;
		break;
	case MX_HI:
		d->q[1] = d->q[0];
		s->q[1] = s->q[0];
		break;
	case MX_DUP:
		d->q[1] = d->q[0];
		break;
	case MX_CAT:
		s->q[1] = d->q[0];
		d->q[0] = d->q[1] = 0;
		break;
	default:
		break;
	}
}

EMU_HANDLER(emu_op_sse_rm)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	emu_sse_fn fn = op->fn;
	union emu_xmm d, s;

	emu_sse_avail(cpu, in, op);
	sse_src(cpu, in, op, &s);
	if (in->mod != 3 && op->fnm)
		fn = op->fnm;
	if (in->mod != 3 && (op->flags & SSE_MZ))
		memset(&d, 0, sizeof(d));
	else
		emu_sse_opnd_get(cpu, op->mmx & MX_REG, in->reg, &d);
	if (op->mmx & MX_ARR)
		mmx_place(op, &d, &s);
	emu_sse_run(cpu, op, fn, &d, &s, sse_imm(in));
	if (op->flags & SSE_FLAGS) {
		emu_sse_set_flags(cpu, d.q[1]);
		return;
	}
	if ((op->mmx & MX_ARR) == MX_HI)
		d.q[0] = d.q[1];
	emu_sse_opnd_set(cpu, op->mmx & MX_REG, in->reg, &d);
	emu_sse_done(cpu, in, op);
}

/* PBLENDVB/BLENDVPS/BLENDVPD: XMM0 is the implicit third operand, passed
 * to the operation as s[1]. */
EMU_HANDLER(emu_op_sse_blendv)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	union emu_xmm d, s[2];

	emu_sse_avail(cpu, in, op);
	sse_src(cpu, in, op, &s[0]);
	emu_xmm_get(cpu, 0, &s[1]);
	emu_xmm_get(cpu, in->reg, &d);
	op->fn(&d, s, 0);
	emu_xmm_set(cpu, in->reg, &d);
}

/* Stores: the destination is r/m, the source xmm(reg). A memory
 * destination gets the low msize bytes of the result. */
EMU_HANDLER(emu_op_sse_st)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	union emu_xmm d, s;

	emu_sse_avail(cpu, in, op);
	emu_sse_opnd_get(cpu, op->mmx & MX_REG, in->reg, &s);
	if (in->mod == 3) {
		emu_sse_opnd_get(cpu, op->mmx & MX_RM, in->rm, &d);
		op->fn(&d, &s, 0);
		emu_sse_opnd_set(cpu, op->mmx & MX_RM, in->rm, &d);
	} else {
		memset(&d, 0, sizeof(d));
		(op->fnm ? op->fnm : op->fn)(&d, &s, 0);
		emu_sse_store(cpu, in, &d, op->msize, op->flags & SSE_A16);
	}
	emu_sse_done(cpu, in, op);
}

/* Groups 12-14 (66 0F 71-73 /r ib, and 0F 71-73 on mm): shifts of
 * xmm(rm) or mm(rm) by an immediate. */
EMU_HANDLER(emu_op_sse_shimm)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	union emu_xmm d, s = { .q = { in->imm & 0xff, 0 } };

	emu_sse_avail(cpu, in, op);
	emu_sse_opnd_get(cpu, op->mmx & MX_RM, in->rm, &d);
	op->fn(&d, &s, (unsigned)(in->imm & 0xff));
	emu_sse_opnd_set(cpu, op->mmx & MX_RM, in->rm, &d);
}

/* MASKMOVDQU (MASKMOVQ: msize 8, mm registers): the bytes of reg whose
 * mask byte in rm has its top bit set go to DS:rDI (segment override
 * allowed), one by one. */
EMU_HANDLER(emu_op_sse_maskmov)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	uint64_t a = emu_admask(cpu->r[EMU_RDI], in->adsize);
	unsigned n = op->msize;
	union emu_xmm v, m;

	emu_sse_avail(cpu, in, op);
	emu_sse_opnd_get(cpu, op->mmx & MX_REG, in->reg, &v);
	emu_sse_opnd_get(cpu, op->mmx & MX_RM, in->rm, &m);
	/* a fault leaves memory untouched: probe the first selected byte of
	 * each page before writing any */
	for (unsigned i = 0, page = ~0u; i < n; i++) {
		uint64_t lin;

		if (!(m.b[i] & 0x80))
			continue;
		lin = emu_seg_lin(cpu, in->seg, emu_admask(a + i, in->adsize), 1, EMU_ACC_WRITE);
		if ((lin >> 12) != page)
			(void)emu_rmw_ptr(cpu, lin, 1);
		page = (unsigned)(lin >> 12);
	}
	for (unsigned i = 0; i < n; i++)
		if (m.b[i] & 0x80)
			emu_write(cpu, in->seg, emu_admask(a + i, in->adsize), 1, v.b[i]);
	emu_sse_done(cpu, in, op);
}

EMU_HANDLER(emu_op_ldmxcsr)
{
	const struct emu_sse_op op = { 0 };
	uint32_t v;

	emu_sse_avail(cpu, in, &op);
	v = (uint32_t)emu_mem_read(cpu, in, 4);
	if (v & ~EMU_MXCSR_WRMASK)
		emu_raise_gp(cpu, 0);
	emu_mxcsr_set(cpu, v);
}

EMU_HANDLER(emu_op_stmxcsr)
{
	const struct emu_sse_op op = { 0 };

	emu_sse_avail(cpu, in, &op);
	emu_mem_write(cpu, in, 4, emu_mxcsr_get(cpu));
}
