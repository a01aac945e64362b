/* The decoder's interface to the block builder and its opcode tables. */
#ifndef VS_EMU_DECODE_H
#define VS_EMU_DECODE_H

#include "emu/internal.h"

/* Where the decoder reads bytes: p[0..avail) are the bytes from the
 * instruction's first byte to the end of its page (at linear address lin).
 * An instruction that runs past avail is decoded only when may_cross (the
 * first instruction of a block): the decoder then fetches the next page
 * (possibly raising #PF) and records its gpa in gpa2. */
struct emu_dsrc {
	const uint8_t *p;
	unsigned avail;
	unsigned pos;
	uint64_t lin;
	bool may_cross;
	bool crossed;
	bool fail;
	bool too_long;
	uint64_t gpa2;
	uint8_t buf[16];
};

/* Decodes one instruction at rip into *in (handler included). Returns 0,
 * or -EAGAIN when the instruction runs past the page and !may_cross. */
int emu_decode(struct emu_cpu *cpu, struct emu_dsrc *s, uint64_t rip, struct emu_insn *in);

/* Opcode descriptor flags */
#define OPF_MODRM (1u << 0)
#define OPF_BYTE (1u << 1) /* operand size 1 */
#define OPF_DEF64 (1u << 2) /* 64-bit operand size by default in long mode */
#define OPF_F64 (1u << 3) /* always 64-bit in long mode (near branches) */
#define OPF_END (1u << 4) /* ends the block */
#define OPF_GROUP (1u << 5) /* ModRM.reg selects emu_groups[grp][reg] */
#define OPF_I64 (1u << 6) /* invalid in 64-bit mode */
#define OPF_OPREG (1u << 7) /* register in the opcode's low bits (+REX.B) */
#define OPF_LOCKOK (1u << 8) /* LOCK allowed with a memory operand */
#define OPF_REPEND (1u << 9) /* with REP/REPNE: ends the block */
#define OPF_SPECIAL (1u << 10) /* emu_decode_special() decides */
#define OPF_CL (1u << 11) /* shift count in CL */
#define OPF_ONE (1u << 12) /* shift count 1 */
#define OPF_IMM_SHIFT 16
#define OPF_IMM_B (1u << 16)
#define OPF_IMM_W (2u << 16)
#define OPF_IMM_Z (3u << 16)
#define OPF_IMM_V (4u << 16)
#define OPF_IMM_REL8 (5u << 16)
#define OPF_IMM_RELZ (6u << 16)
#define OPF_IMM_ENTER (7u << 16)
#define OPF_IMM_FAR (8u << 16)
#define OPF_IMM_MOFFS (9u << 16)
#define OPF_IMM_MASK (15u << 16)

struct emu_opdesc {
	emu_handler r; /* register form (mod == 3, or no ModRM) */
	emu_handler m; /* memory form; NULL: #UD */
	uint32_t f;
	uint8_t grp;
};

extern const struct emu_opdesc emu_map1[256]; /* one-byte opcodes */
extern const struct emu_opdesc emu_map2[256]; /* 0F xx */
extern const struct emu_opdesc emu_groups[][8];
extern const struct emu_opdesc emu_desc_ud;

/* 0F 38 / 0F 3A: descriptor by in->map and in->opcode (prefixes known). */
const struct emu_opdesc *emu_map3_desc(const struct emu_insn *in);
/* Opcodes whose handler depends on mode, prefixes or the whole ModRM byte;
 * called after ModRM is read. */
/* The SSE unit's opcodes (sse-decode.c): false when in is not one; else
 * *out is its descriptor and in->imm2 its operation. After ModRM. */
bool emu_sse_decode(struct emu_insn *in, struct emu_opdesc *out);
struct emu_opdesc emu_decode_special(struct emu_cpu *cpu, struct emu_insn *in,
				     const struct emu_opdesc *od, uint8_t rex);

#endif
