/* emu core: the decoder, encodings -> lengths, operands and handlers
 * (SDM vol. 2 ch. 2 and appendix A). Decodes from a byte buffer, without a
 * VM: nothing here crosses a page, so no fetch is needed. */
#include "emu/core.h"
#include "emu/decode.h"
#include "emu/sse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static struct emu_insn dec(enum emu_mode mode, uint64_t rip, const uint8_t *b, unsigned n)
{
	static struct emu_cpu cpu; /* ~300 KiB with its soft TLBs: not on the stack */
	struct emu_dsrc s = { .p = b, .avail = n, .lin = rip };
	struct emu_insn in;

	memset(&cpu, 0, sizeof(cpu));
	cpu.mode = mode;
	assert_int_equal(emu_decode(&cpu, &s, rip, &in), 0);
	/* the tables' handler; the specialized forms exec-fast.c picks for
	 * it are checked in test-fast.c */
	in.fn = emu_fast_generic(in.fn);
	return in;
}

#define DEC64(...)                                            \
	({                                                    \
		static const uint8_t b_[] = { __VA_ARGS__ };  \
		dec(EMU_MODE_LONG64, 0x1000, b_, sizeof(b_)); \
	})

static void test_modrm_sib_disp(void **state)
{
	struct emu_insn in;

	(void)state;
	/* mov rax, [r12 + r13*8 + 0x12345678]: 4b 8b 84 ec 78 56 34 12 */
	in = DEC64(0x4b, 0x8b, 0x84, 0xec, 0x78, 0x56, 0x34, 0x12);
	assert_int_equal(in.len, 8);
	assert_int_equal(in.opsize, 8);
	assert_int_equal(in.adsize, 8);
	assert_int_equal(in.reg, EMU_RAX);
	assert_int_equal(in.mod, 2);
	assert_int_equal(in.base, EMU_R12);
	assert_int_equal(in.index, EMU_R13);
	assert_int_equal(in.scale, 3);
	assert_int_equal(in.disp, 0x12345678);
	assert_ptr_equal(in.fn, emu_op_mov_GE_m);
	/* add [rsp+8], ecx: 01 4c 24 08 -> SS segment, no index */
	in = DEC64(0x01, 0x4c, 0x24, 0x08);
	assert_int_equal(in.len, 4);
	assert_int_equal(in.base, EMU_RSP);
	assert_int_equal(in.index, EMU_NOREG);
	assert_int_equal(in.seg, EMU_SS);
	assert_int_equal(in.disp, 8);
	assert_int_equal(in.opsize, 4);
	/* mov eax, [rip + 0x10] (8b 05 10 00 00 00) at 0x1000: disp = 0x1016 */
	in = DEC64(0x8b, 0x05, 0x10, 0, 0, 0);
	assert_int_equal(in.len, 6);
	assert_int_equal(in.base, EMU_NOREG);
	assert_int_equal(in.disp, 0x1016);
	/* cmp dword [rip - 4], 7 (83 3d fc ff ff ff 07): RIP-relative after imm */
	in = DEC64(0x83, 0x3d, 0xfc, 0xff, 0xff, 0xff, 0x07);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.disp, 0x1007 - 4);
	assert_int_equal(in.imm, 7);
	assert_ptr_equal(in.fn, emu_op_cmp_I_m);
	/* [rbp] needs disp8: 8b 45 00; [r13] too: 41 8b 45 00 */
	in = DEC64(0x41, 0x8b, 0x45, 0x00);
	assert_int_equal(in.len, 4);
	assert_int_equal(in.base, EMU_R13);
	/* SIB with no base: 8b 04 25 00 10 00 00 = mov eax, [0x1000] */
	in = DEC64(0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.base, EMU_NOREG);
	assert_int_equal(in.index, EMU_NOREG);
	assert_int_equal(in.disp, 0x1000);
}

static void test_prefixes_sizes(void **state)
{
	struct emu_insn in;

	(void)state;
	/* 66 prefix: add ax, 0x1234 (66 05 34 12) */
	in = DEC64(0x66, 0x05, 0x34, 0x12);
	assert_int_equal(in.len, 4);
	assert_int_equal(in.opsize, 2);
	assert_int_equal(in.imm, 0x1234);
	/* REX.W wins over 66: 66 48 05 imm32 sign-extended */
	in = DEC64(0x66, 0x48, 0x05, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(in.len, 7);
	assert_int_equal(in.opsize, 8);
	assert_int_equal(in.imm, ~0ULL);
	/* REX not immediately before the opcode is ignored: 48 66 01 c0 */
	in = DEC64(0x48, 0x66, 0x01, 0xc0);
	assert_int_equal(in.opsize, 2);
	/* mov r64, imm64 (49 bb ...) */
	in = DEC64(0x49, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8);
	assert_int_equal(in.len, 10);
	assert_int_equal(in.reg, EMU_R11);
	assert_int_equal(in.imm, 0x0807060504030201ULL);
	/* push/pop default to 64 bits; 66 makes 16 */
	assert_int_equal(DEC64(0x50).opsize, 8);
	assert_int_equal(DEC64(0x66, 0x50).opsize, 2);
	/* 67: 32-bit addressing in long mode */
	in = DEC64(0x67, 0x8b, 0x00);
	assert_int_equal(in.adsize, 4);
	/* segment override, lock, rep */
	in = DEC64(0x64, 0xf0, 0x48, 0x0f, 0xb1, 0x0f);
	assert_int_equal(in.seg, EMU_FS);
	assert_true(in.pfx & EMU_PFX_LOCK);
	assert_ptr_equal(in.fn, emu_op_cmpxchg);
	in = DEC64(0xf3, 0x48, 0xab);
	assert_true(in.pfx & EMU_PFX_REP);
	assert_true(in.flags & EMU_IF_END);
	assert_int_equal(in.opsize, 8);
	/* high byte registers: 88 e5 = mov ch, ah; with REX 40 88 e5 = mov bpl, spl */
	in = DEC64(0x88, 0xe5);
	assert_true(in.flags & EMU_IF_HIGH8M);
	assert_true(in.flags & EMU_IF_HIGH8R);
	in = DEC64(0x40, 0x88, 0xe5);
	assert_false(in.flags & (EMU_IF_HIGH8M | EMU_IF_HIGH8R));
	/* LOCK with a register destination becomes #UD */
	assert_ptr_equal(DEC64(0xf0, 0x01, 0xc0).fn, emu_op_ud);
	/* more than 15 bytes: #GP */
	in = DEC64(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		   0x66, 0x66, 0x90);
	assert_ptr_equal(in.fn, emu_op_gp0);
}

static void test_branches(void **state)
{
	struct emu_insn in;

	(void)state;
	/* jne -2 (75 fe) at 0x1000: target 0x1000 */
	in = DEC64(0x75, 0xfe);
	assert_int_equal(in.imm, 0x1000);
	assert_ptr_equal(in.fn, emu_op_jcc_5);
	assert_true(in.flags & EMU_IF_END);
	/* call rel32 (e8 00 01 00 00): 0x1105, 64-bit */
	in = DEC64(0xe8, 0x00, 0x01, 0, 0);
	assert_int_equal(in.imm, 0x1105);
	assert_int_equal(in.opsize, 8);
	/* jcc rel32 0f 84 */
	in = DEC64(0x0f, 0x84, 0xfa, 0xff, 0xff, 0xff);
	assert_int_equal(in.len, 6);
	assert_int_equal(in.imm, 0x1000);
	/* 16-bit code: jmp wraps at 64 KiB (e9 ff ff at 0xfffd -> 0xffff... + (-1)) */
	static const uint8_t j16[] = { 0xe9, 0x10, 0x00 };
	in = dec(EMU_MODE_REAL, 0xfff0, j16, 3);
	assert_int_equal(in.len, 3);
	assert_int_equal(in.imm, (0xfff3 + 0x10) & 0xffff);
	/* ff /2 call [rax]: 64-bit operand */
	in = DEC64(0xff, 0x10);
	assert_ptr_equal(in.fn, emu_op_call_E);
	assert_int_equal(in.opsize, 8);
}

static void test_modes_16_32(void **state)
{
	struct emu_insn in;
	static const uint8_t a[] = { 0x8b, 0x42, 0x04 }; /* mov ax, [bp+si+4] */
	static const uint8_t b[] = { 0x66, 0xb8, 1, 2, 3, 4 }; /* mov eax, imm32 */
	static const uint8_t c[] = { 0x40 }; /* inc eax (not REX) */
	static const uint8_t d[] = { 0x67, 0x8b, 0x04, 0x24 }; /* 32-bit ModRM in 16-bit */
	static const uint8_t e[] = { 0xc4, 0x05, 0, 0x10, 0, 0 }; /* les eax, [0x1000] */

	(void)state;
	in = dec(EMU_MODE_REAL, 0, a, sizeof(a));
	assert_int_equal(in.len, 3);
	assert_int_equal(in.base, EMU_RBP);
	assert_int_equal(in.index, EMU_RSI);
	assert_int_equal(in.seg, EMU_SS);
	assert_int_equal(in.opsize, 2);
	in = dec(EMU_MODE_REAL, 0, b, sizeof(b));
	assert_int_equal(in.len, 6);
	assert_int_equal(in.opsize, 4);
	in = dec(EMU_MODE_PROT32, 0, c, sizeof(c));
	assert_ptr_equal(in.fn, emu_op_inc_r);
	assert_int_equal(in.opsize, 4);
	in = dec(EMU_MODE_PROT16, 0, d, sizeof(d));
	assert_int_equal(in.len, 4);
	assert_int_equal(in.adsize, 4);
	assert_int_equal(in.base, EMU_RSP);
	in = dec(EMU_MODE_PROT32, 0, e, sizeof(e));
	assert_ptr_equal(in.fn, emu_op_lxs);
	assert_int_equal(in.len, 6);
}

static void test_system_and_unimplemented(void **state)
{
	(void)state;
	assert_ptr_equal(DEC64(0x0f, 0x01, 0xf8).fn, emu_op_swapgs);
	assert_ptr_equal(DEC64(0x0f, 0x01, 0x10).fn, emu_op_lgdt); /* lgdt [rax] */
	assert_ptr_equal(DEC64(0x0f, 0x01, 0x38).fn, emu_op_invlpg);
	assert_ptr_equal(DEC64(0x0f, 0x22, 0xd8).fn, emu_op_mov_to_cr); /* mov cr3, rax */
	assert_int_equal(DEC64(0x0f, 0x22, 0xd8).reg, 3);
	assert_ptr_equal(DEC64(0x0f, 0xae, 0xf0).fn, emu_op_fence); /* mfence */
	assert_ptr_equal(DEC64(0xf3, 0x0f, 0x1e, 0xfa).fn, emu_op_nop); /* endbr64 */
	assert_int_equal(DEC64(0x0f, 0x1f, 0x44, 0x00, 0x00).len, 5); /* nopl */
	assert_ptr_equal(DEC64(0x0f, 0x0b).fn, emu_op_ud);
	assert_ptr_equal(DEC64(0xf3, 0x90).fn, emu_op_nop); /* pause */
	assert_ptr_equal(DEC64(0x41, 0x90).fn, emu_op_xchg_O); /* xchg r8, rax */
	/* SSE: movups xmm0, [rax+4]; pshufd; mandatory prefixes pick the op */
	assert_int_equal(DEC64(0x0f, 0x10, 0x40, 0x04).len, 4);
	assert_ptr_equal(DEC64(0x0f, 0x10, 0x40, 0x04).fn, emu_op_sse_rm);
	assert_int_equal(DEC64(0x66, 0x0f, 0x70, 0xc1, 0x1b).len, 5);
	assert_int_equal(DEC64(0x66, 0x0f, 0x70, 0xc1, 0x1b).imm & 0xff, 0x1b);
	assert_ptr_equal(DEC64(0x66, 0x0f, 0x70, 0xc1, 0x1b).fn, emu_op_sse_rm);
	assert_ptr_not_equal(
		emu_sse_op(&(struct emu_insn){ .imm2 = DEC64(0xf3, 0x0f, 0x10, 0xc1).imm2 }),
		emu_sse_op(&(struct emu_insn){ .imm2 = DEC64(0xf2, 0x0f, 0x10, 0xc1).imm2 }));
	assert_int_equal(DEC64(0x66, 0x44, 0x0f, 0xfe, 0xc9).reg, 9); /* paddd xmm9, xmm1 */
	assert_ptr_equal(DEC64(0x0f, 0x6f, 0xc1).fn, emu_op_sse_rm); /* MMX movq */
	assert_ptr_equal(DEC64(0x0f, 0x77).fn, emu_op_emms);
	assert_int_equal(DEC64(0x0f, 0x77).len, 2);
	assert_ptr_equal(DEC64(0x0f, 0x73, 0xd9, 0x04).fn, emu_op_unimpl); /* no psrldq on mm */
	assert_ptr_equal(DEC64(0x0f, 0x71, 0xd1, 0x04).fn, emu_op_sse_shimm); /* psrlw mm1 */
	assert_ptr_equal(DEC64(0x0f, 0xd7, 0x00).fn, emu_op_ud); /* pmovmskb mm: register only */
	assert_ptr_equal(DEC64(0xf3, 0x0f, 0xd6, 0x00).fn, emu_op_ud); /* movq2dq: register only */
	assert_int_equal(DEC64(0x0f, 0x3a, 0x0f, 0xc1, 0x08).len, 5); /* palignr mm */
	assert_ptr_equal(DEC64(0x66, 0x0f, 0x12, 0xc1).fn, emu_op_ud); /* movlpd: memory only */
	assert_ptr_equal(DEC64(0x66, 0x0f, 0xd7, 0x00).fn, emu_op_ud); /* pmovmskb: register only */
	assert_ptr_equal(DEC64(0x66, 0x0f, 0x73, 0xd9, 0x04).fn, emu_op_sse_shimm); /* psrldq */
	assert_ptr_equal(DEC64(0x66, 0x0f, 0x73, 0xe1, 0x04).fn, emu_op_unimpl); /* /4: none */
	assert_ptr_equal(DEC64(0x0f, 0xae, 0x10).fn, emu_op_ldmxcsr);
	assert_ptr_equal(DEC64(0x0f, 0xae, 0x18).fn, emu_op_stmxcsr);
	assert_ptr_equal(DEC64(0xf0, 0x0f, 0x58, 0x00).fn, emu_op_ud); /* LOCK addps */
	assert_ptr_equal(DEC64(0xf2, 0x0f, 0x38, 0xf1, 0xc1).fn, emu_op_sse_crc32);
	assert_ptr_equal(DEC64(0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x0c).fn, emu_op_sse_pcmpstr);
	assert_int_equal(DEC64(0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08).len, 6); /* palignr */
	assert_ptr_equal(DEC64(0x0f, 0x38, 0xf0, 0x07).fn, emu_op_movbe_load);
	/* ARPL's slot is MOVSXD in long mode */
	assert_ptr_equal(DEC64(0x48, 0x63, 0xc1).fn, emu_op_movsxd);
	/* PUSH ES is invalid in 64-bit mode */
	assert_ptr_equal(DEC64(0x06).fn, emu_op_ud);
	assert_ptr_equal(DEC64(0xf3, 0x0f, 0xbc, 0xc1).fn, emu_op_tzcnt);
	assert_ptr_equal(DEC64(0x0f, 0xbc, 0xc1).fn, emu_op_bsf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modrm_sib_disp),
		cmocka_unit_test(test_prefixes_sizes),
		cmocka_unit_test(test_branches),
		cmocka_unit_test(test_modes_16_32),
		cmocka_unit_test(test_system_and_unimplemented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
