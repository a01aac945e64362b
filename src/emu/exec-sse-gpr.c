/* SSE forms with a general-register or RFLAGS side: MOVD/MOVQ, PINSR*,
 * PEXTR*, EXTRACTPS, CVT*SI*, PMOVMSKB/MOVMSKP*, the SSE4.2 string
 * compares (ECX or XMM0, RFLAGS) and CRC32. Register results zero-extend
 * to 64 bits, as every 32-bit (or narrower, for PEXTRB/W) GPR write of
 * these instructions does. */
#include "emu/sse.h"

/* An mm register has four words: PINSRW/PEXTRW on mm take imm mod 4. */
static inline unsigned sse_imm(const struct emu_insn *in, const struct emu_sse_op *op)
{
	unsigned imm = (unsigned)(in->imm & 0xff) | ((in->pfx & EMU_PFX_REXW) ? SSE_W : 0);

	return op->mmx ? imm & ~4u : imm;
}

/* msize 0: the operand is 8 bytes with REX.W, else 4. */
static inline unsigned gpr_size(const struct emu_insn *in, const struct emu_sse_op *op)
{
	if (op->msize)
		return op->msize;
	return (in->pfx & EMU_PFX_REXW) ? 8 : 4;
}

/* xmm(reg) = fn(xmm(reg), r/m): MOVD/MOVQ 66 0F 6E, PINSRB/W/D/Q,
 * CVTSI2SS/SD. The r/m value arrives zero-extended in s.q[0]. */
EMU_HANDLER(emu_op_sse_from_gpr)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	unsigned n = gpr_size(in, op);
	union emu_xmm d, s = { 0 };

	emu_sse_avail(cpu, in, op);
	if (in->mod == 3)
		s.q[0] = cpu->r[in->rm] & emu_mask(n);
	else
		emu_sse_load(cpu, in, &s, n, false);
	emu_sse_opnd_get(cpu, op->mmx & MX_REG, in->reg, &d);
	emu_sse_run(cpu, op, op->fn, &d, &s, sse_imm(in, op));
	emu_sse_opnd_set(cpu, op->mmx & MX_REG, in->reg, &d);
}

/* r/m = fn(xmm(reg)): MOVD/MOVQ 66 0F 7E, PEXTRB/W/D/Q, EXTRACTPS. */
EMU_HANDLER(emu_op_sse_to_rm)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	unsigned n = gpr_size(in, op);
	union emu_xmm d = { 0 }, s;

	emu_sse_avail(cpu, in, op);
	emu_sse_opnd_get(cpu, op->mmx & MX_REG, in->reg, &s);
	op->fn(&d, &s, sse_imm(in, op));
	if (in->mod == 3) {
		/* PEXTRB/W/D and MOVD/EXTRACTPS to r32 zero-extend; 64-bit forms
		 * and PEXTRQ write all 64 bits */
		cpu->r[in->rm] = d.q[0] & emu_mask(n < 4 ? 4 : n);
	} else {
		emu_sse_store(cpu, in, &d, n, false);
	}
	emu_sse_done(cpu, in, op);
}

/* gpr(reg) = fn(xmm/m): CVT(T)SS2SI/CVT(T)SD2SI, PMOVMSKB, MOVMSKPS/PD,
 * PEXTRW 0F C5. */
EMU_HANDLER(emu_op_sse_to_gpr)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	union emu_xmm d = { 0 }, s;

	emu_sse_avail(cpu, in, op);
	if (in->mod == 3)
		emu_sse_opnd_get(cpu, op->mmx & MX_RM, in->rm, &s);
	else
		emu_sse_load(cpu, in, &s, op->msize, false);
	emu_sse_run(cpu, op, op->fn, &d, &s, sse_imm(in, op));
	cpu->r[in->reg] = (in->pfx & EMU_PFX_REXW) ? d.q[0] : (uint32_t)d.q[0];
	emu_sse_done(cpu, in, op);
}

/* The explicit length of PCMPESTRx: |RAX| or |EAX| (REX.W), at most 16
 * bytes or 8 words. */
static int32_t estr_len(uint64_t r, bool w, unsigned imm)
{
	int64_t v = w ? (int64_t)r : (int64_t)(int32_t)r;
	int64_t max = (imm & 1) ? 8 : 16;

	if (v < 0)
		v = v == INT64_MIN ? max : -v;
	return (int32_t)(v > max ? max : v);
}

/* 66 0F 3A 60-63: no alignment requirement; ECX (I forms, 32-bit write)
 * or XMM0 (M forms), and CF/ZF/SF/OF with AF = PF = 0. */
EMU_HANDLER(emu_op_sse_pcmpstr)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	bool w = in->pfx & EMU_PFX_REXW;
	unsigned imm = (unsigned)(in->imm & 0xff);
	union emu_xmm a, b, mask;
	int32_t la = 0, ld = 0;
	uint64_t f, idx = 0;

	emu_sse_avail(cpu, in, op);
	if (in->mod == 3)
		emu_xmm_get(cpu, in->rm, &b);
	else
		emu_sse_load(cpu, in, &b, 16, false);
	emu_xmm_get(cpu, in->reg, &a);
	if (in->opcode < 0x62) {
		la = estr_len(cpu->r[EMU_RAX], w, imm);
		ld = estr_len(cpu->r[EMU_RDX], w, imm);
	}
	f = emu_sse_pcmpstr(in->opcode, &a, &b, imm, la, ld, &idx, &mask);
	if (in->opcode & 1)
		cpu->r[EMU_RCX] = (uint32_t)idx;
	else
		emu_xmm_set(cpu, 0, &mask);
	emu_sse_set_flags(cpu, f);
}

/* CRC32 (F2 0F 38 F0/F1): CRC-32C of r/m8/16/32/64 into r32/r64, on the
 * host's own CRC32 instruction (SSE4.2). */
EMU_HANDLER(emu_op_sse_crc32)
{
	const struct emu_sse_op *op = emu_sse_op(in);
	unsigned n = in->opcode == 0xf0 ? 1 : in->opsize;
	uint64_t v, c;

	emu_sse_avail(cpu, in, op);
	if (in->mod == 3)
		v = emu_reg_get(cpu, in->rm, n, n == 1 && (in->flags & EMU_IF_HIGH8M));
	else
		v = emu_mem_read(cpu, in, n);
	c = (uint32_t)cpu->r[in->reg];
	switch (n) {
	case 1:
		__asm__("crc32b %b1, %k0" : "+r"(c) : "r"(v));
		break;
	case 2:
		__asm__("crc32w %w1, %k0" : "+r"(c) : "r"(v));
		break;
	case 4:
		__asm__("crc32l %k1, %k0" : "+r"(c) : "r"(v));
		break;
	default:
		__asm__("crc32q %1, %0" : "+r"(c) : "r"(v));
		break;
	}
	cpu->r[in->reg] = (uint32_t)c;
}
