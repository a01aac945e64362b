/* The decoder's side of the SSE unit: which 0F/0F38/0F3A opcodes are
 * SSE's, the mandatory prefix (F3 or F2 when present, else 66, else none),
 * immediates, and the entry a decoded instruction carries (in->imm2). */
#include "emu/decode.h"

#include "emu/sse.h"

extern const struct emu_sse_op emu_sse_0f[256][4];
extern const struct emu_sse_op emu_sse_0f_shift[3][8];
extern const struct emu_sse_op emu_mmx_0f_shift[3][8];
extern const struct emu_sse_op emu_sse_38[256][4];
extern const struct emu_sse_op emu_sse_3a[256][4];

static unsigned mandatory_prefix(const struct emu_insn *in)
{
	if (in->pfx & EMU_PFX_REP)
		return 2;
	if (in->pfx & EMU_PFX_REPNE)
		return 3;
	return (in->pfx & EMU_PFX_OPSZ) ? 1 : 0;
}

const struct emu_sse_op *emu_sse_lookup(const struct emu_insn *in)
{
	unsigned p = mandatory_prefix(in), o = in->opcode;
	const struct emu_sse_op *op;

	if (in->map == 1 && o >= 0x71 && o <= 0x73)
		op = p == 1 ? &emu_sse_0f_shift[o - 0x71][in->reg & 7] :
		     p == 0 ? &emu_mmx_0f_shift[o - 0x71][in->reg & 7] :
			      NULL;
	else if (in->map == 1)
		op = &emu_sse_0f[o][p];
	else if (in->map == 2)
		op = &emu_sse_38[o][p];
	else
		op = &emu_sse_3a[o][p];
	return op && op->h ? op : NULL;
}

/* 0F opcodes of the SSE unit (the rest of the 0F map is decode-tables.c's). */
static bool sse_owns(const struct emu_insn *in)
{
	unsigned o = in->opcode;

	if (in->map != 1)
		return true; /* 0F 38 (MOVBE is decoded before) and 0F 3A */
	return (o >= 0x10 && o <= 0x17) || (o >= 0x28 && o <= 0x2f) || (o >= 0x50 && o <= 0x76) ||
	       (o >= 0x7c && o <= 0x7f) || o == 0xc2 || (o >= 0xc4 && o <= 0xc6) ||
	       (o >= 0xd0 && o <= 0xfe);
}

static bool sse_has_imm(const struct emu_insn *in)
{
	unsigned o = in->opcode;

	return in->map == 3 || (in->map == 1 && ((o >= 0x70 && o <= 0x73) || o == 0xc2 ||
						 (o >= 0xc4 && o <= 0xc6)));
}

bool emu_sse_decode(struct emu_insn *in, struct emu_opdesc *out)
{
	const struct emu_sse_op *op;
	uint32_t f;

	if (!in->map || !sse_owns(in))
		return false;
	f = OPF_MODRM | (sse_has_imm(in) ? OPF_IMM_B : 0);
	op = emu_sse_lookup(in);
	if (!op) {
		*out = (struct emu_opdesc){ emu_op_unimpl, emu_op_unimpl, f, 0 };
	} else if ((op->form == SSE_FORM_REG && in->mod != 3) ||
		   (op->form == SSE_FORM_MEM && in->mod == 3)) {
		*out = (struct emu_opdesc){ emu_op_ud, emu_op_ud, f, 0 };
	} else {
		in->imm2 = (uintptr_t)op;
		*out = (struct emu_opdesc){ op->h, op->h, f, 0 };
	}
	return true;
}
