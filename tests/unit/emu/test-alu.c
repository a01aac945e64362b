/* emu core: integer instructions run through the real emu VM (decoder,
 * blocks, handlers, lazy flags), results and flags checked against values
 * derived from the architecture (SDM vol. 2 instruction pages). */
#include "core-harness.h"

#include <stdio.h>

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u

#define RUN64(h, ...)                                                \
	do {                                                         \
		static const uint8_t code_[] = { __VA_ARGS__, UD2 }; \
		h_run_ud2(h, code_, sizeof(code_));                  \
	} while (0)

static void flags_are(const struct h *h, unsigned want)
{
	unsigned got = (unsigned)h->regs.rflags & H_FLAGS_ARITH;

	if (got != want)
		fail_msg("flags %#x, want %#x", got, want);
}

static void test_add_sub_flags(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* mov rax, 0x7fffffffffffffff; add rax, 1 */
	RUN64(&h, 0x48, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x48, 0x83, 0xc0,
	      0x01);
	assert_int_equal(h.regs.rax, 0x8000000000000000ULL);
	flags_are(&h, OF | SF | AF | PF);
	/* mov eax, -1 (zero-extends); add eax, 1 -> 0, CF ZF AF PF */
	RUN64(&h, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x83, 0xc0, 0x01);
	assert_int_equal(h.regs.rax, 0);
	flags_are(&h, CF | ZF | AF | PF);
	/* stc; mov al, 0x7f; adc al, 0 -> 0x80: OF SF AF */
	h.regs.rax = 0x1234;
	RUN64(&h, 0xf9, 0xb0, 0x7f, 0x14, 0x00);
	assert_int_equal(h.regs.rax, 0x1280);
	flags_are(&h, OF | SF | AF);
	/* mov ecx, 1; sub ecx, 2 -> -1 (32-bit), CF SF AF PF */
	RUN64(&h, 0xb9, 0x01, 0, 0, 0, 0x83, 0xe9, 0x02);
	assert_int_equal(h.regs.rcx, 0xffffffffULL);
	flags_are(&h, CF | SF | AF | PF);
	/* stc; mov dx, 0x8000; sbb dx, 0 -> 0x7fff: OF AF PF */
	h.regs.rdx = 0xaaaa0000;
	RUN64(&h, 0xf9, 0x66, 0xba, 0x00, 0x80, 0x66, 0x83, 0xda, 0x00);
	assert_int_equal(h.regs.rdx, 0xaaaa7fff);
	flags_are(&h, OF | AF | PF);
	h_free(&h);
}

static void test_high_byte_regs(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	h.regs.rax = 0x1111;
	h.regs.rbx = 0x2200;
	/* add ah, bh -> ah = 0x33; mov ch, ah; (with REX: 40 88 e6 = mov sil, spl) */
	h.regs.rsi = 0;
	RUN64(&h, 0x00, 0xfc, 0x88, 0xe5, 0x40, 0x88, 0xe6);
	assert_int_equal(h.regs.rax, 0x3311);
	assert_int_equal(h.regs.rcx >> 8 & 0xff, 0x33);
	assert_int_equal(h.regs.rsi & 0xff, H_STACK & 0xff);
	h_free(&h);
}

/* Every condition code after CMP a, b, against the flags the SDM defines
 * for a - b. */
static bool cond_expected(unsigned cc, uint64_t a, uint64_t b)
{
	uint64_t r = a - b;
	bool cf = a < b, zf = r == 0, sf = r >> 63, of = ((a ^ b) & (a ^ r)) >> 63;
	bool pf = !__builtin_parity((unsigned)(r & 0xff)), v;

	switch (cc >> 1) {
	case 0:
		v = of;
		break;
	case 1:
		v = cf;
		break;
	case 2:
		v = zf;
		break;
	case 3:
		v = cf || zf;
		break;
	case 4:
		v = sf;
		break;
	case 5:
		v = pf;
		break;
	case 6:
		v = sf != of;
		break;
	default:
		v = zf || sf != of;
		break;
	}
	return v ^ (cc & 1);
}

static void test_setcc_all_conditions(void **state)
{
	static const uint64_t vals[] = {
		0,    1,   2, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL,
		0x80, 0xff
	};
	uint8_t code[16 * 4 + 8];
	unsigned n = 0;
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	code[n++] = 0x48, code[n++] = 0x39, code[n++] = 0xd8; /* cmp rax, rbx */
	for (unsigned cc = 0; cc < 16; cc++) {
		/* setcc [rdi + cc] */
		code[n++] = 0x0f, code[n++] = (uint8_t)(0x90 + cc), code[n++] = 0x47;
		code[n++] = (uint8_t)cc;
	}
	code[n++] = 0x0f, code[n++] = 0x0b;
	for (unsigned i = 0; i < 8; i++) {
		for (unsigned j = 0; j < 8; j++) {
			h.regs.rax = vals[i], h.regs.rbx = vals[j], h.regs.rdi = H_DATA;
			h_run_ud2(&h, code, n);
			for (unsigned cc = 0; cc < 16; cc++)
				if (h.ram[H_DATA + cc] != cond_expected(cc, vals[i], vals[j]))
					fail_msg("cc %x after cmp %#llx, %#llx", cc,
						 (unsigned long long)vals[i],
						 (unsigned long long)vals[j]);
		}
	}
	h_free(&h);
}

static void test_mul_div(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* mul rcx with rax = rcx = 2^64-1: rdx:rax = 2^128 - 2^65 + 1 */
	h.regs.rax = ~0ULL, h.regs.rcx = ~0ULL;
	RUN64(&h, 0x48, 0xf7, 0xe1);
	assert_int_equal(h.regs.rax, 1);
	assert_int_equal(h.regs.rdx, 0xfffffffffffffffeULL);
	assert_true(h.regs.rflags & CF);
	assert_true(h.regs.rflags & OF);
	/* div rcx: (rdx:rax) / rcx back */
	RUN64(&h, 0x48, 0xf7, 0xf1);
	assert_int_equal(h.regs.rax, ~0ULL);
	assert_int_equal(h.regs.rdx, 0);
	/* imul ecx, edx, -3 (6b ca fd) with edx = 7 */
	h.regs.rdx = 7;
	RUN64(&h, 0x6b, 0xca, 0xfd);
	assert_int_equal(h.regs.rcx, (uint32_t)-21);
	assert_false(h.regs.rflags & CF);
	/* idiv bl: ax = -7, bl = 2 -> al = -3, ah = -1 */
	h.regs.rax = (uint16_t)-7, h.regs.rbx = 2;
	RUN64(&h, 0xf6, 0xfb);
	assert_int_equal(h.regs.rax & 0xffff, 0xfffd);
	/* div by zero: #DE at the DIV */
	h.regs.rcx = 0;
	static const uint8_t de[] = { 0x90, 0x48, 0xf7, 0xf1, UD2 };
	h_run(&h, de, sizeof(de));
	assert_int_equal(h.exit.reason, EMU_EXIT_EXCEPTION);
	assert_int_equal(h.exit.vector, 0);
	assert_int_equal(h.regs.rip, H_CODE + 1);
	/* idiv overflow: edx:eax = 0x80000000, / -1 */
	h.regs.rax = 0x80000000, h.regs.rdx = 0xffffffff, h.regs.rcx = 0xffffffff;
	static const uint8_t de2[] = { 0xf7, 0xf9, UD2 };
	h_run(&h, de2, sizeof(de2));
	assert_int_equal(h.exit.vector, 0);
	h_free(&h);
}

static void test_shifts(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* shl eax, 1 with eax = 0xc0000000 -> 0x80000000, CF=1, OF=0 */
	h.regs.rax = 0xc0000000;
	RUN64(&h, 0xd1, 0xe0);
	assert_int_equal(h.regs.rax, 0x80000000);
	assert_true(h.regs.rflags & CF);
	assert_false(h.regs.rflags & OF);
	/* sar rax, 4 with rax = -256 -> -16 */
	h.regs.rax = (uint64_t)-256;
	RUN64(&h, 0x48, 0xc1, 0xf8, 0x04);
	assert_int_equal(h.regs.rax, (uint64_t)-16);
	/* stc; rcl al, 1 with al = 0x80: al = 0x01, CF = 1 */
	h.regs.rax = 0x80;
	RUN64(&h, 0xf9, 0xd0, 0xd0);
	assert_int_equal(h.regs.rax & 0xff, 1);
	assert_true(h.regs.rflags & CF);
	/* rcr: clc; rcr bl, 1 with bl = 1 -> 0, CF = 1 */
	h.regs.rbx = 1;
	RUN64(&h, 0xf8, 0xd0, 0xdb);
	assert_int_equal(h.regs.rbx & 0xff, 0);
	assert_true(h.regs.rflags & CF);
	/* shld rax, rdx, 8 */
	h.regs.rax = 0x1122334455667788ULL, h.regs.rdx = 0xaabbccddeeff0099ULL;
	RUN64(&h, 0x48, 0x0f, 0xa4, 0xd0, 0x08);
	assert_int_equal(h.regs.rax, 0x22334455667788aaULL);
	/* shrd eax, edx, cl with cl = 4 */
	h.regs.rax = 0x12345678, h.regs.rdx = 0xf, h.regs.rcx = 4;
	RUN64(&h, 0x0f, 0xad, 0xd0);
	assert_int_equal(h.regs.rax, 0xf1234567);
	/* rol ax, cl with cl = 0: no flag change (ZF stays from xor) */
	h.regs.rcx = 0;
	RUN64(&h, 0x31, 0xdb, 0x66, 0xd3, 0xc0);
	assert_true(h.regs.rflags & ZF);
	h_free(&h);
}

static void test_strings(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	for (unsigned i = 0; i < 100; i++)
		h.ram[H_DATA + i] = (uint8_t)i;
	/* rep movsb: 100 bytes from DATA to DATA+0x1000 */
	h.regs.rsi = H_DATA, h.regs.rdi = H_DATA + 0x1000, h.regs.rcx = 100;
	RUN64(&h, 0xf3, 0xa4);
	assert_memory_equal(h.ram + H_DATA, h.ram + H_DATA + 0x1000, 100);
	assert_int_equal(h.regs.rcx, 0);
	assert_int_equal(h.regs.rdi, H_DATA + 0x1000 + 100);
	/* std; rep stosq: 3 qwords downwards from DATA+0x2010; cld */
	h.regs.rax = 0x0102030405060708ULL, h.regs.rdi = H_DATA + 0x2010, h.regs.rcx = 3;
	RUN64(&h, 0xfd, 0xf3, 0x48, 0xab, 0xfc);
	assert_int_equal(h.regs.rdi, H_DATA + 0x2010 - 24);
	assert_int_equal(*(uint64_t *)(h.ram + H_DATA + 0x2000), 0x0102030405060708ULL);
	assert_int_equal(*(uint64_t *)(h.ram + H_DATA + 0x2008), 0x0102030405060708ULL);
	/* repne scasb for 42 in 0..99: stops after it, rcx = 100 - 43 */
	h.regs.rax = 42, h.regs.rdi = H_DATA, h.regs.rcx = 100;
	RUN64(&h, 0xf2, 0xae);
	assert_int_equal(h.regs.rcx, 57);
	assert_int_equal(h.regs.rdi, H_DATA + 43);
	assert_true(h.regs.rflags & ZF);
	/* repe cmpsb on equal buffers then a difference at 50 */
	h.ram[H_DATA + 0x1000 + 50] = 0xff;
	h.regs.rsi = H_DATA, h.regs.rdi = H_DATA + 0x1000, h.regs.rcx = 100;
	RUN64(&h, 0xf3, 0xa6);
	assert_int_equal(h.regs.rcx, 49);
	assert_false(h.regs.rflags & ZF);
	assert_true(h.regs.rflags & CF); /* 50 < 0xff */
	/* a long rep stosb (chunked): 64 KiB */
	h.regs.rax = 0xab, h.regs.rdi = H_DATA, h.regs.rcx = 0x10000;
	RUN64(&h, 0xf3, 0xaa);
	assert_int_equal(h.ram[H_DATA + 0xffff], 0xab);
	assert_int_equal(h.regs.rcx, 0);
	h_free(&h);
}

static void test_call_ret_loop(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* mov ecx, 1000; xor eax, eax
	 * l: call f; loop l; ud2
	 * f: add rax, 3; ret */
	static const uint8_t code[] = { 0xb9, 0xe8, 0x03, 0,	0,    0x31,
					0xc0, 0xe8, 0x04, 0,	0,    0, /* call +4 -> f */
					0xe2, 0xf9, /* loop -7 -> l */
					UD2,  0x48, 0x83, 0xc0, 0x03, 0xc3 };
	h_run(&h, code, sizeof(code));
	assert_int_equal(h.exit.vector, 6);
	assert_int_equal(h.regs.rip, H_CODE + 14);
	assert_int_equal(h.regs.rax, 3000);
	assert_int_equal(h.regs.rsp, H_STACK);
	/* push/pop, enter/leave */
	h.regs.rbp = 0x1234;
	RUN64(&h, 0xc8, 0x20, 0x00, 0x00, /* enter 0x20, 0 */
	      0x6a, 0xfb, 0x5b, /* push -5; pop rbx */
	      0xc9); /* leave */
	assert_int_equal(h.regs.rbx, (uint64_t)-5);
	assert_int_equal(h.regs.rbp, 0x1234);
	assert_int_equal(h.regs.rsp, H_STACK);
	h_free(&h);
}

static void test_bits(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* bsf rcx, rax; bsr rdx, rax; popcnt rsi, rax with rax = 0x00f0000000000100 */
	h.regs.rax = 0x00f0000000000100ULL;
	RUN64(&h, 0x48, 0x0f, 0xbc, 0xc8, 0x48, 0x0f, 0xbd, 0xd0, 0xf3, 0x48, 0x0f, 0xb8, 0xf0);
	assert_int_equal(h.regs.rcx, 8);
	assert_int_equal(h.regs.rdx, 55);
	assert_int_equal(h.regs.rsi, 5);
	/* lzcnt/tzcnt of 0 (32-bit): 32, CF = 1 */
	h.regs.rax = 0;
	RUN64(&h, 0xf3, 0x0f, 0xbd, 0xc8);
	assert_int_equal(h.regs.rcx, 32);
	assert_true(h.regs.rflags & CF);
	/* bts [rdi], rax with rax = 67: memory bit 67 = byte 8 bit 3; CF = old */
	memset(h.ram + H_DATA, 0, 16);
	h.regs.rdi = H_DATA, h.regs.rax = 67;
	RUN64(&h, 0x48, 0x0f, 0xab, 0x07);
	assert_int_equal(h.ram[H_DATA + 8], 8);
	assert_false(h.regs.rflags & CF);
	/* bt eax, 31 (imm) with eax = 0x80000000 */
	h.regs.rax = 0x80000000;
	RUN64(&h, 0x0f, 0xba, 0xe0, 0x1f);
	assert_true(h.regs.rflags & CF);
	h_free(&h);
}

static void test_atomics(void **state)
{
	struct h h;
	uint64_t *m;

	(void)state;
	h_init(&h, H_LONG);
	m = (uint64_t *)(h.ram + H_DATA);
	*m = 10;
	/* lock xadd [rdi], rax ; lock add qword [rdi], 5 */
	h.regs.rdi = H_DATA, h.regs.rax = 7;
	RUN64(&h, 0xf0, 0x48, 0x0f, 0xc1, 0x07, 0xf0, 0x48, 0x83, 0x07, 0x05);
	assert_int_equal(h.regs.rax, 10);
	assert_int_equal(*m, 22);
	/* cmpxchg [rdi], rcx: rax = 22 matches -> [rdi] = rcx, ZF */
	h.regs.rax = 22, h.regs.rcx = 99;
	RUN64(&h, 0xf0, 0x48, 0x0f, 0xb1, 0x0f);
	assert_int_equal(*m, 99);
	assert_true(h.regs.rflags & ZF);
	/* again: mismatch -> rax = 99, ZF = 0 */
	RUN64(&h, 0xf0, 0x48, 0x0f, 0xb1, 0x0f);
	assert_int_equal(h.regs.rax, 99);
	/* xchg [rdi], rbx */
	h.regs.rbx = 5;
	RUN64(&h, 0x48, 0x87, 0x1f);
	assert_int_equal(h.regs.rbx, 99);
	assert_int_equal(*m, 5);
	/* cmpxchg16b [rdi] (16-byte aligned) */
	m[0] = 1, m[1] = 2;
	h.regs.rax = 1, h.regs.rdx = 2, h.regs.rbx = 3, h.regs.rcx = 4;
	RUN64(&h, 0x48, 0x0f, 0xc7, 0x0f);
	assert_int_equal(m[0], 3);
	assert_int_equal(m[1], 4);
	assert_true(h.regs.rflags & ZF);
	/* lock on a register operand: #UD */
	static const uint8_t bad[] = { 0xf0, 0x01, 0xc0, UD2 };
	h_run(&h, bad, sizeof(bad));
	assert_int_equal(h.exit.vector, 6);
	assert_int_equal(h.regs.rip, H_CODE);
	h_free(&h);
}

/* The code overwrites the immediate of an instruction later in its own
 * block; the modified instruction must run. */
static void test_self_modifying(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	/* mov byte [rip + 1], 0x42   (c6 05 01 00 00 00 42): patches the imm8
	 *  of the next insn; mov al, 0x00 (b0 00) */
	RUN64(&h, 0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x42, 0xb0, 0x00);
	assert_int_equal(h.regs.rax & 0xff, 0x42);
	/* second run, same code bytes copied fresh: the cache must not reuse
	 * the block decoded from the patched bytes */
	h.regs.rax = 0;
	RUN64(&h, 0x90, 0xb0, 0x07);
	assert_int_equal(h.regs.rax & 0xff, 0x07);
	h_free(&h);
}

static void test_prot32_and_real(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, H_PROT32);
	/* mov eax, 5; add eax, ebx; push eax; pop ecx; movzx edx, cl */
	h.regs.rbx = 0x100;
	RUN64(&h, 0xb8, 0x05, 0, 0, 0, 0x01, 0xd8, 0x50, 0x59, 0x0f, 0xb6, 0xd1);
	assert_int_equal(h.regs.rax, 0x105);
	assert_int_equal(h.regs.rcx, 0x105);
	assert_int_equal(h.regs.rdx, 0x05);
	h_free(&h);
	h_init(&h, H_REAL);
	/* mov ax, 0x1234; add ax, 1; mov [bx+si+2], ax; mov cx, [bx+si+2] */
	h.regs.rbx = 0x100, h.regs.rsi = 0x10;
	RUN64(&h, 0xb8, 0x34, 0x12, 0x05, 0x01, 0x00, 0x89, 0x40, 0x02, 0x8b, 0x48, 0x02);
	assert_int_equal(h.regs.rax, 0x1235);
	assert_int_equal(h.regs.rcx, 0x1235);
	assert_int_equal(*(uint16_t *)(h.ram + 0x112), 0x1235); /* DS base 0 */
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_sub_flags),
		cmocka_unit_test(test_high_byte_regs),
		cmocka_unit_test(test_setcc_all_conditions),
		cmocka_unit_test(test_mul_div),
		cmocka_unit_test(test_shifts),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_call_ret_loop),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_atomics),
		cmocka_unit_test(test_self_modifying),
		cmocka_unit_test(test_prot32_and_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
