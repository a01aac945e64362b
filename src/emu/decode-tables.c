/* Opcode tables of the decoder: what each opcode's bytes look like (ModRM,
 * immediate kind, operand-size rules) and which handler executes it, per
 * Intel SDM vol. 2, appendix A (opcode maps).
 *
 * Map: one-byte map, 0F map, ModRM groups, 0F38/0F3A, special cases
 * (opcodes that depend on mode, a mandatory prefix or the whole ModRM). */
#include "emu/decode.h"

#include "emu/core.h"
#include "emu/sse.h"
#include "emu/exec-x87.h"

#define M OPF_MODRM
#define MB (OPF_MODRM | OPF_BYTE)
#define UNI                                        \
	{                                          \
		emu_op_unimpl, emu_op_unimpl, 0, 0 \
	}
#define UNIM                                               \
	{                                                  \
		emu_op_unimpl, emu_op_unimpl, OPF_MODRM, 0 \
	}
#define UNIMI                                                          \
	{                                                              \
		emu_op_unimpl, emu_op_unimpl, OPF_MODRM | OPF_IMM_B, 0 \
	}
#define E(r, m, f)         \
	{                  \
		r, m, f, 0 \
	}
#define R(h, f)               \
	{                     \
		h, NULL, f, 0 \
	} /* no ModRM or register only */
#define B(h, f)            \
	{                  \
		h, h, f, 0 \
	} /* one handler for both forms */
#define G(g, f)                                \
	{                                      \
		NULL, NULL, (f) | OPF_GROUP, g \
	}
#define S(f)                                     \
	{                                        \
		NULL, NULL, (f) | OPF_SPECIAL, 0 \
	}

enum { G1, G1A, G2, G3, G4, G5, G6, G7, G8, G11, NGROUPS };

#define ALU_ROWS(base, op, lk)                                                  \
	[base + 0] = E(emu_op_##op##_EG_r, emu_op_##op##_EG_m, MB | lk),        \
		[base + 1] = E(emu_op_##op##_EG_r, emu_op_##op##_EG_m, M | lk), \
		[base + 2] = E(emu_op_##op##_GE_r, emu_op_##op##_GE_m, MB),     \
		[base + 3] = E(emu_op_##op##_GE_r, emu_op_##op##_GE_m, M),      \
		[base + 4] = R(emu_op_##op##_I_r, OPF_BYTE | OPF_IMM_B),        \
		[base + 5] = R(emu_op_##op##_I_r, OPF_IMM_Z)

#define JCC(base, imm)                                                                    \
	[base + 0x0] = R(emu_op_jcc_0, imm), [base + 0x1] = R(emu_op_jcc_1, imm),         \
		[base + 0x2] = R(emu_op_jcc_2, imm), [base + 0x3] = R(emu_op_jcc_3, imm), \
		[base + 0x4] = R(emu_op_jcc_4, imm), [base + 0x5] = R(emu_op_jcc_5, imm), \
		[base + 0x6] = R(emu_op_jcc_6, imm), [base + 0x7] = R(emu_op_jcc_7, imm), \
		[base + 0x8] = R(emu_op_jcc_8, imm), [base + 0x9] = R(emu_op_jcc_9, imm), \
		[base + 0xa] = R(emu_op_jcc_a, imm), [base + 0xb] = R(emu_op_jcc_b, imm), \
		[base + 0xc] = R(emu_op_jcc_c, imm), [base + 0xd] = R(emu_op_jcc_d, imm), \
		[base + 0xe] = R(emu_op_jcc_e, imm), [base + 0xf] = R(emu_op_jcc_f, imm)

#define BR (OPF_F64 | OPF_END)
#define STR(h, f) B(h, (f) | OPF_REPEND)

const struct emu_opdesc emu_map1[256] = {
	ALU_ROWS(0x00, add, OPF_LOCKOK),
	ALU_ROWS(0x08, or, OPF_LOCKOK),
	ALU_ROWS(0x10, adc, OPF_LOCKOK),
	ALU_ROWS(0x18, sbb, OPF_LOCKOK),
	ALU_ROWS(0x20, and, OPF_LOCKOK),
	ALU_ROWS(0x28, sub, OPF_LOCKOK),
	ALU_ROWS(0x30, xor, OPF_LOCKOK),
	ALU_ROWS(0x38, cmp, 0),
	[0x06] = R(emu_op_push_sreg, OPF_I64),
	[0x07] = R(emu_op_pop_sreg, OPF_I64 | OPF_END),
	[0x0e] = R(emu_op_push_sreg, OPF_I64),
	[0x0f] = UNI,
	[0x16] = R(emu_op_push_sreg, OPF_I64),
	[0x17] = R(emu_op_pop_sreg, OPF_I64 | OPF_END),
	[0x1e] = R(emu_op_push_sreg, OPF_I64),
	[0x1f] = R(emu_op_pop_sreg, OPF_I64 | OPF_END),
	[0x27] = UNI,
	[0x2f] = UNI,
	[0x37] = UNI,
	[0x3f] = UNI,
	[0x40 ... 0x47] = R(emu_op_inc_r, OPF_OPREG),
	[0x48 ... 0x4f] = R(emu_op_dec_r, OPF_OPREG),
	[0x50 ... 0x57] = R(emu_op_push_O, OPF_OPREG | OPF_DEF64),
	[0x58 ... 0x5f] = R(emu_op_pop_O, OPF_OPREG | OPF_DEF64),
	[0x60] = R(emu_op_pusha, OPF_I64),
	[0x61] = R(emu_op_popa, OPF_I64),
	[0x62] = UNIM,
	[0x63] = S(M),
	[0x68] = R(emu_op_push_I, OPF_DEF64 | OPF_IMM_Z),
	[0x69] = B(emu_op_imul3, M | OPF_IMM_Z),
	[0x6a] = R(emu_op_push_I, OPF_DEF64 | OPF_IMM_B),
	[0x6b] = B(emu_op_imul3, M | OPF_IMM_B),
	[0x6c] = STR(emu_op_ins, OPF_BYTE | OPF_END),
	[0x6d] = STR(emu_op_ins, OPF_END),
	[0x6e] = STR(emu_op_outs, OPF_BYTE | OPF_END),
	[0x6f] = STR(emu_op_outs, OPF_END),
	JCC(0x70, OPF_IMM_REL8 | BR),
	[0x80] = G(G1, MB | OPF_IMM_B | OPF_LOCKOK),
	[0x81] = G(G1, M | OPF_IMM_Z | OPF_LOCKOK),
	[0x82] = G(G1, MB | OPF_IMM_B | OPF_LOCKOK | OPF_I64),
	[0x83] = G(G1, M | OPF_IMM_B | OPF_LOCKOK),
	[0x84] = E(emu_op_test_EG_r, emu_op_test_EG_m, MB),
	[0x85] = E(emu_op_test_EG_r, emu_op_test_EG_m, M),
	[0x86] = E(emu_op_xchg_r, emu_op_xchg_m, MB | OPF_LOCKOK),
	[0x87] = E(emu_op_xchg_r, emu_op_xchg_m, M | OPF_LOCKOK),
	[0x88] = E(emu_op_mov_EG_r, emu_op_mov_EG_m, MB),
	[0x89] = E(emu_op_mov_EG_r, emu_op_mov_EG_m, M),
	[0x8a] = E(emu_op_mov_GE_r, emu_op_mov_GE_m, MB),
	[0x8b] = E(emu_op_mov_GE_r, emu_op_mov_GE_m, M),
	[0x8c] = B(emu_op_mov_rm_sreg, M),
	[0x8d] = E(NULL, emu_op_lea, M),
	[0x8e] = B(emu_op_mov_sreg_rm, M | OPF_END),
	[0x8f] = G(G1A, M | OPF_DEF64),
	[0x90 ... 0x97] = S(OPF_OPREG),
	[0x98] = R(emu_op_cbw, 0),
	[0x99] = R(emu_op_cwd, 0),
	[0x9a] = R(emu_op_callf_A, OPF_I64 | OPF_IMM_FAR | OPF_END),
	[0x9b] = R(emu_op_fwait, 0),
	[0x9c] = R(emu_op_pushf, OPF_DEF64),
	[0x9d] = R(emu_op_popf, OPF_DEF64 | OPF_END),
	[0x9e] = R(emu_op_sahf, 0),
	[0x9f] = R(emu_op_lahf, 0),
	[0xa0] = E(NULL, emu_op_mov_GE_m, OPF_BYTE | OPF_IMM_MOFFS),
	[0xa1] = E(NULL, emu_op_mov_GE_m, OPF_IMM_MOFFS),
	[0xa2] = E(NULL, emu_op_mov_EG_m, OPF_BYTE | OPF_IMM_MOFFS),
	[0xa3] = E(NULL, emu_op_mov_EG_m, OPF_IMM_MOFFS),
	[0xa4] = STR(emu_op_movs, OPF_BYTE),
	[0xa5] = STR(emu_op_movs, 0),
	[0xa6] = STR(emu_op_cmps, OPF_BYTE),
	[0xa7] = STR(emu_op_cmps, 0),
	[0xa8] = R(emu_op_test_I_r, OPF_BYTE | OPF_IMM_B),
	[0xa9] = R(emu_op_test_I_r, OPF_IMM_Z),
	[0xaa] = STR(emu_op_stos, OPF_BYTE),
	[0xab] = STR(emu_op_stos, 0),
	[0xac] = STR(emu_op_lods, OPF_BYTE),
	[0xad] = STR(emu_op_lods, 0),
	[0xae] = STR(emu_op_scas, OPF_BYTE),
	[0xaf] = STR(emu_op_scas, 0),
	[0xb0 ... 0xb7] = R(emu_op_mov_OI, OPF_OPREG | OPF_BYTE | OPF_IMM_B),
	[0xb8 ... 0xbf] = R(emu_op_mov_OI, OPF_OPREG | OPF_IMM_V),
	[0xc0] = G(G2, MB | OPF_IMM_B),
	[0xc1] = G(G2, M | OPF_IMM_B),
	[0xc2] = R(emu_op_ret, BR | OPF_IMM_W),
	[0xc3] = R(emu_op_ret, BR),
	[0xc4] = S(M),
	[0xc5] = S(M),
	[0xc6] = G(G11, MB | OPF_IMM_B),
	[0xc7] = G(G11, M | OPF_IMM_Z),
	[0xc8] = R(emu_op_enter, OPF_DEF64 | OPF_IMM_ENTER),
	[0xc9] = R(emu_op_leave, OPF_DEF64),
	[0xca] = R(emu_op_retf, OPF_END | OPF_IMM_W),
	[0xcb] = R(emu_op_retf, OPF_END),
	[0xcc] = R(emu_op_int3, OPF_END),
	[0xcd] = R(emu_op_int_n, OPF_END | OPF_IMM_B),
	[0xce] = R(emu_op_into, OPF_END | OPF_I64),
	[0xcf] = R(emu_op_iret, OPF_END),
	[0xd0] = G(G2, MB | OPF_ONE),
	[0xd1] = G(G2, M | OPF_ONE),
	[0xd2] = G(G2, MB | OPF_CL),
	[0xd3] = G(G2, M | OPF_CL),
	[0xd4] = { emu_op_unimpl, NULL, OPF_IMM_B, 0 },
	[0xd5] = { emu_op_unimpl, NULL, OPF_IMM_B, 0 },
	[0xd6] = UNI,
	[0xd7] = R(emu_op_xlat, 0),
	[0xd8 ... 0xdf] = S(M), /* x87: emu_x87_handler() */
	[0xe0] = R(emu_op_loopne, OPF_IMM_REL8 | BR),
	[0xe1] = R(emu_op_loope, OPF_IMM_REL8 | BR),
	[0xe2] = R(emu_op_loop, OPF_IMM_REL8 | BR),
	[0xe3] = R(emu_op_jcxz, OPF_IMM_REL8 | BR),
	[0xe4] = R(emu_op_in, OPF_BYTE | OPF_IMM_B | OPF_END),
	[0xe5] = R(emu_op_in, OPF_IMM_B | OPF_END),
	[0xe6] = R(emu_op_out, OPF_BYTE | OPF_IMM_B | OPF_END),
	[0xe7] = R(emu_op_out, OPF_IMM_B | OPF_END),
	[0xe8] = R(emu_op_call, OPF_IMM_RELZ | BR),
	[0xe9] = R(emu_op_jmp, OPF_IMM_RELZ | BR),
	[0xea] = R(emu_op_jmpf_A, OPF_I64 | OPF_IMM_FAR | OPF_END),
	[0xeb] = R(emu_op_jmp, OPF_IMM_REL8 | BR),
	[0xec] = R(emu_op_in, OPF_BYTE | OPF_END),
	[0xed] = R(emu_op_in, OPF_END),
	[0xee] = R(emu_op_out, OPF_BYTE | OPF_END),
	[0xef] = R(emu_op_out, OPF_END),
	[0xf0] = UNI,
	[0xf1] = R(emu_op_int1, OPF_END),
	[0xf2] = UNI,
	[0xf3] = UNI,
	[0xf4] = R(emu_op_hlt, OPF_END),
	[0xf5] = R(emu_op_cmc, 0),
	[0xf6] = G(G3, MB | OPF_LOCKOK),
	[0xf7] = G(G3, M | OPF_LOCKOK),
	[0xf8] = R(emu_op_clc, 0),
	[0xf9] = R(emu_op_stc, 0),
	[0xfa] = R(emu_op_cli, OPF_END),
	[0xfb] = R(emu_op_sti, OPF_END),
	[0xfc] = R(emu_op_cld, 0),
	[0xfd] = R(emu_op_std, 0),
	[0xfe] = G(G4, MB | OPF_LOCKOK),
	[0xff] = G(G5, M | OPF_LOCKOK),
};

#define CMOV(n) [0x40 + n] = B(emu_op_cmov, M)
#define SETCC(n) [0x90 + n] = B(emu_op_setcc, MB)

const struct emu_opdesc emu_map2[256] = {
	[0x00] = G(G6, M),
	[0x01] = S(M),
	[0x02] = B(emu_op_lar, M),
	[0x03] = B(emu_op_lsl, M),
	[0x04] = R(emu_op_ud, 0),
	[0x05] = R(emu_op_syscall, OPF_END),
	[0x06] = R(emu_op_clts, OPF_END),
	[0x07] = R(emu_op_sysret, OPF_END),
	[0x08] = R(emu_op_invd, OPF_END),
	[0x09] = R(emu_op_invd, OPF_END),
	[0x0a] = R(emu_op_ud, 0),
	[0x0b] = R(emu_op_ud, 0),
	[0x0c] = R(emu_op_ud, 0),
	[0x0d] = E(emu_op_nop, emu_op_nop, M),
	[0x0e] = UNI,
	[0x0f] = UNIMI,
	[0x10 ... 0x17] = S(M), /* SSE: sse-decode.c */
	[0x18 ... 0x1f] = B(emu_op_nop, M),
	[0x20] = B(emu_op_mov_from_cr, M | OPF_F64),
	[0x21] = B(emu_op_mov_from_dr, M | OPF_F64),
	[0x22] = B(emu_op_mov_to_cr, M | OPF_F64 | OPF_END),
	[0x23] = B(emu_op_mov_to_dr, M | OPF_F64 | OPF_END),
	[0x24 ... 0x27] = R(emu_op_ud, 0),
	[0x28 ... 0x2f] = S(M),
	[0x30] = R(emu_op_wrmsr, OPF_END),
	[0x31] = R(emu_op_rdtsc, 0),
	[0x32] = R(emu_op_rdmsr, 0),
	[0x33] = UNI,
	[0x34] = R(emu_op_sysenter, OPF_END),
	[0x35] = R(emu_op_sysexit, OPF_END),
	[0x36] = R(emu_op_ud, 0),
	[0x37] = UNI,
	[0x38 ... 0x3f] = R(emu_op_ud, 0),
	CMOV(0),
	CMOV(1),
	CMOV(2),
	CMOV(3),
	CMOV(4),
	CMOV(5),
	CMOV(6),
	CMOV(7),
	CMOV(8),
	CMOV(9),
	CMOV(10),
	CMOV(11),
	CMOV(12),
	CMOV(13),
	CMOV(14),
	CMOV(15),
	[0x50 ... 0x76] = S(M),
	[0x77] = R(emu_op_emms, 0),
	[0x78 ... 0x7b] = UNIM,
	[0x7c ... 0x7f] = S(M),
	JCC(0x80, OPF_IMM_RELZ | BR),
	SETCC(0),
	SETCC(1),
	SETCC(2),
	SETCC(3),
	SETCC(4),
	SETCC(5),
	SETCC(6),
	SETCC(7),
	SETCC(8),
	SETCC(9),
	SETCC(10),
	SETCC(11),
	SETCC(12),
	SETCC(13),
	SETCC(14),
	SETCC(15),
	[0xa0] = R(emu_op_push_sreg, OPF_DEF64),
	[0xa1] = R(emu_op_pop_sreg, OPF_DEF64 | OPF_END),
	[0xa2] = R(emu_op_cpuid, 0),
	[0xa3] = B(emu_op_bt_G, M),
	[0xa4] = B(emu_op_shld, M | OPF_IMM_B),
	[0xa5] = B(emu_op_shld, M | OPF_CL),
	[0xa6] = R(emu_op_ud, 0),
	[0xa7] = R(emu_op_ud, 0),
	[0xa8] = R(emu_op_push_sreg, OPF_DEF64),
	[0xa9] = R(emu_op_pop_sreg, OPF_DEF64 | OPF_END),
	[0xaa] = UNI,
	[0xab] = B(emu_op_bts_G, M | OPF_LOCKOK),
	[0xac] = B(emu_op_shrd, M | OPF_IMM_B),
	[0xad] = B(emu_op_shrd, M | OPF_CL),
	[0xae] = S(M),
	[0xaf] = B(emu_op_imul2, M),
	[0xb0] = B(emu_op_cmpxchg, MB | OPF_LOCKOK),
	[0xb1] = B(emu_op_cmpxchg, M | OPF_LOCKOK),
	[0xb2] = E(NULL, emu_op_lxs, M | OPF_END),
	[0xb3] = B(emu_op_btr_G, M | OPF_LOCKOK),
	[0xb4] = E(NULL, emu_op_lxs, M | OPF_END),
	[0xb5] = E(NULL, emu_op_lxs, M | OPF_END),
	[0xb6] = B(emu_op_movzx8, M),
	[0xb7] = B(emu_op_movzx16, M),
	[0xb8] = S(M),
	[0xb9] = E(emu_op_ud, emu_op_ud, M),
	[0xba] = G(G8, M | OPF_IMM_B | OPF_LOCKOK),
	[0xbb] = B(emu_op_btc_G, M | OPF_LOCKOK),
	[0xbc] = S(M),
	[0xbd] = S(M),
	[0xbe] = B(emu_op_movsx8, M),
	[0xbf] = B(emu_op_movsx16, M),
	[0xc0] = B(emu_op_xadd, MB | OPF_LOCKOK),
	[0xc1] = B(emu_op_xadd, M | OPF_LOCKOK),
	[0xc2] = S(M),
	[0xc3] = E(NULL, emu_op_mov_EG_m, M),
	[0xc4 ... 0xc6] = S(M),
	[0xc7] = S(M | OPF_LOCKOK),
	[0xc8 ... 0xcf] = R(emu_op_bswap, OPF_OPREG),
	[0xd0 ... 0xfe] = S(M),
	[0xff] = E(emu_op_ud, emu_op_ud, M),
};

const struct emu_opdesc emu_desc_ud = R(emu_op_ud, 0);

const struct emu_opdesc emu_groups[NGROUPS][8] = {
	[G1] = { E(emu_op_add_I_r, emu_op_add_I_m, 0),
		 E(emu_op_or_I_r, emu_op_or_I_m, 0),
		 E(emu_op_adc_I_r, emu_op_adc_I_m, 0),
		 E(emu_op_sbb_I_r, emu_op_sbb_I_m, 0),
		 E(emu_op_and_I_r, emu_op_and_I_m, 0),
		 E(emu_op_sub_I_r, emu_op_sub_I_m, 0),
		 E(emu_op_xor_I_r, emu_op_xor_I_m, 0),
		 { emu_op_cmp_I_r, emu_op_cmp_I_m, 0, 0 } },
	[G1A] = { B(emu_op_pop_E, 0), R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0),
		  R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0) },
	[G2] = { B(emu_op_rol, 0), B(emu_op_ror, 0), B(emu_op_rcl, 0), B(emu_op_rcr, 0),
		 B(emu_op_shl, 0), B(emu_op_shr, 0), B(emu_op_shl, 0), B(emu_op_sar, 0) },
	[G3] = { E(emu_op_test_I_r, emu_op_test_I_m, OPF_IMM_Z),
		 E(emu_op_test_I_r, emu_op_test_I_m, OPF_IMM_Z), B(emu_op_not, 0), B(emu_op_neg, 0),
		 B(emu_op_mul, 0), B(emu_op_imul1, 0), B(emu_op_div, 0), B(emu_op_idiv, 0) },
	[G4] = { E(emu_op_inc_r, emu_op_inc_m, 0), E(emu_op_dec_r, emu_op_dec_m, 0),
		 R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0),
		 R(emu_op_ud, 0), R(emu_op_ud, 0) },
	[G5] = { E(emu_op_inc_r, emu_op_inc_m, 0), E(emu_op_dec_r, emu_op_dec_m, 0),
		 B(emu_op_call_E, BR), E(NULL, emu_op_callf_M, OPF_END), B(emu_op_jmp_E, BR),
		 E(NULL, emu_op_jmpf_M, OPF_END), B(emu_op_push_E, OPF_DEF64), R(emu_op_ud, 0) },
	[G6] = { B(emu_op_sldt, 0), B(emu_op_str, 0), B(emu_op_lldt, OPF_END),
		 B(emu_op_ltr, OPF_END), B(emu_op_verr, 0), B(emu_op_verr, 0), R(emu_op_ud, 0),
		 R(emu_op_ud, 0) },
	[G7] = { E(NULL, emu_op_sgdt, 0), E(NULL, emu_op_sgdt, 0), E(NULL, emu_op_lgdt, OPF_END),
		 E(NULL, emu_op_lgdt, OPF_END), B(emu_op_smsw, 0), R(emu_op_ud, 0),
		 B(emu_op_lmsw, OPF_END), E(NULL, emu_op_invlpg, OPF_END) },
	[G8] = { R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0), R(emu_op_ud, 0),
		 B(emu_op_bt_I, 0), B(emu_op_bts_I, 0), B(emu_op_btr_I, 0), B(emu_op_btc_I, 0) },
	[G11] = { E(emu_op_mov_EI_r, emu_op_mov_EI_m, 0), UNI, UNI, UNI, UNI, UNI, UNI, UNI },
};

/* ---- 0F 38 / 0F 3A ------------------------------------------------------ */

static const struct emu_opdesc map3_sse = S(M); /* sse-decode.c */
static const struct emu_opdesc movbe_load = E(NULL, emu_op_movbe_load, M);
static const struct emu_opdesc movbe_store = E(NULL, emu_op_movbe_store, M);

const struct emu_opdesc *emu_map3_desc(const struct emu_insn *in)
{
	if (in->map == 2 && (in->opcode == 0xf0 || in->opcode == 0xf1) &&
	    !(in->pfx & EMU_PFX_REPNE))
		return in->opcode == 0xf0 ? &movbe_load : &movbe_store;
	return &map3_sse; /* SSSE3/SSE4.x, CRC32; ADX and the rest: #UD */
}

/* ---- special cases ---------------------------------------------------------- */

/* 0F 01 with mod == 3: the whole ModRM byte names the instruction. */
static struct emu_opdesc grp7_reg(const struct emu_insn *in)
{
	static const struct emu_opdesc ud = R(emu_op_ud, 0);
	uint8_t m = (uint8_t)(0xc0 | ((in->reg & 7) << 3) | (in->rm & 7));

	switch (m) {
	case 0xca:
	case 0xcb:
		return (struct emu_opdesc)R(emu_op_clac_stac, 0);
	case 0xd0:
		return (struct emu_opdesc)R(emu_op_xgetbv, 0);
	case 0xd1:
		return (struct emu_opdesc)R(emu_op_xsetbv, OPF_END);
	case 0xf8:
		return (struct emu_opdesc)R(emu_op_swapgs, OPF_END);
	case 0xf9:
		return (struct emu_opdesc)R(emu_op_rdtscp, 0);
	default:
		break;
	}
	if ((in->reg & 7) == 4)
		return (struct emu_opdesc)R(emu_op_smsw, 0);
	if ((in->reg & 7) == 6)
		return (struct emu_opdesc)R(emu_op_lmsw, OPF_END);
	return (in->reg & 7) == 7 || (in->reg & 7) == 1 ? (struct emu_opdesc)UNI : ud;
}

/* 0F AE: fences (register forms), CLFLUSH; the x87/SSE state ones unimplemented. */
static struct emu_opdesc grp15(const struct emu_insn *in)
{
	unsigned r = in->reg & 7;

	if (in->mod == 3) {
		if (!(in->pfx & (EMU_PFX_REP | EMU_PFX_OPSZ)) && r >= 5)
			return (struct emu_opdesc)R(emu_op_fence, 0);
		return (struct emu_opdesc)UNI;
	}
	if ((r == 2 || r == 3) && !(in->pfx & (EMU_PFX_REP | EMU_PFX_REPNE | EMU_PFX_OPSZ)))
		return (struct emu_opdesc)E(NULL, r == 2 ? emu_op_ldmxcsr : emu_op_stmxcsr, 0);
	if (r == 7 || (r == 6 && (in->pfx & EMU_PFX_OPSZ)))
		return (struct emu_opdesc)E(NULL, emu_op_clflush, 0); /* CLFLUSH(OPT), CLWB */
	if (!(in->pfx & (EMU_PFX_REP | EMU_PFX_REPNE | EMU_PFX_OPSZ))) {
		static const emu_handler state[8] = { emu_op_fxsave, emu_op_fxrstor, NULL,
						      NULL,	     emu_op_xsave,   emu_op_xrstor,
						      emu_op_xsave };
		if (state[r])
			return (struct emu_opdesc)E(NULL, state[r], r & 1 ? OPF_END : 0);
	}
	return (struct emu_opdesc)UNI;
}

static struct emu_opdesc grp9(const struct emu_insn *in)
{
	unsigned r = in->reg & 7;

	if (in->mod != 3)
		return r == 1 ? (struct emu_opdesc)E(NULL, emu_op_cmpxchg8b, OPF_LOCKOK) :
				(struct emu_opdesc)R(emu_op_ud, 0);
	if (r == 7 && (in->pfx & EMU_PFX_REP))
		return (struct emu_opdesc)R(emu_op_rdpid, 0);
	return r >= 6 ? (struct emu_opdesc)UNI : (struct emu_opdesc)R(emu_op_ud, 0);
}

static struct emu_opdesc special_map1(struct emu_cpu *cpu, struct emu_insn *in, uint8_t rex)
{
	bool lm = cpu->mode == EMU_MODE_LONG64;

	switch (in->opcode) {
	case 0xd8 ... 0xdf: {
		emu_handler h = emu_x87_handler(in);

		return (struct emu_opdesc)B(h, 0);
	}
	case 0x63:
		if (lm)
			return (struct emu_opdesc)B(emu_op_movsxd, M);
		return (struct emu_opdesc)UNIM; /* ARPL */
	case 0xc4:
	case 0xc5:
		if (lm || in->mod == 3)
			return (struct emu_opdesc)UNI; /* VEX */
		return (struct emu_opdesc)E(NULL, emu_op_lxs, M | OPF_END);
	default: /* 0x90-0x97 */
		if (in->opcode == 0x90 && !(rex & 1))
			return (struct emu_opdesc)R(emu_op_nop, 0); /* NOP, PAUSE */
		return (struct emu_opdesc)R(emu_op_xchg_O, OPF_OPREG);
	}
}

struct emu_opdesc emu_decode_special(struct emu_cpu *cpu, struct emu_insn *in,
				     const struct emu_opdesc *od, uint8_t rex)
{
	struct emu_opdesc d;
	bool f3 = in->pfx & EMU_PFX_REP;

	if (emu_sse_decode(in, &d))
		return d;
	if (in->map == 0)
		d = special_map1(cpu, in, rex);
	else if (in->opcode == 0x01)
		d = in->mod == 3 ? grp7_reg(in) : emu_groups[G7][in->reg & 7];
	else if (in->opcode == 0xae)
		d = grp15(in);
	else if (in->opcode == 0xc7)
		d = grp9(in);
	else if (in->opcode == 0xb8)
		d = f3 ? (struct emu_opdesc)B(emu_op_popcnt, 0) :
			 (struct emu_opdesc)R(emu_op_ud, 0);
	else if (in->opcode == 0xbc)
		d = (struct emu_opdesc)B(f3 ? emu_op_tzcnt : emu_op_bsf, 0);
	else
		d = (struct emu_opdesc)B(f3 ? emu_op_lzcnt : emu_op_bsr, 0);
	d.f |= od->f & ~OPF_SPECIAL;
	return d;
}
