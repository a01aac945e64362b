/* Microbenchmark of the emu core (not a test): integer, memory, call/ret,
 * string and SSE (integer, floating point) loops at CPL0 in 64-bit mode with paging on; prints guest
 * instructions per second from emu_cpu_get_stats(). Run by hand:
 *   build/tests/unit/emu/bench-core */
#include "core-harness.h"

#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench(struct h *h, const char *name, const uint8_t *code, size_t len)
{
	struct emu_stats a, b;
	double t;

	emu_cpu_get_stats(h->cpu, &a);
	t = now();
	h_run(h, code, len);
	assert_int_equal(h->exit.vector, 6);
	t = now() - t;
	emu_cpu_get_stats(h->cpu, &b);
	printf("%-8s %8.1f M insns in %.3f s: %6.1f MIPS (%llu blocks built)\n", name,
	       (b.insns - a.insns) / 1e6, t, (b.insns - a.insns) / t / 1e6,
	       (unsigned long long)(b.blocks_built - a.blocks_built));
}

#define N 0x01000000 /* 16 M iterations */

static void run(void **state)
{
	struct h h;
	/* l: add rax, rcx; xor rdx, rax; sub rbx, 1; dec ecx; jnz l */
	static const uint8_t alu[] = { 0xb9,
				       N & 0xff,
				       (N >> 8) & 0xff,
				       (N >> 16) & 0xff,
				       N >> 24,
				       0x48,
				       0x01,
				       0xc8,
				       0x48,
				       0x31,
				       0xc2,
				       0x48,
				       0x83,
				       0xeb,
				       0x01,
				       0xff,
				       0xc9,
				       0x75,
				       0xf2,
				       UD2 };
	/* l: mov rax, [rdi]; add rax, rcx; mov [rdi+8], rax; dec ecx; jnz l */
	static const uint8_t mem[] = { 0xb9,
				       N & 0xff,
				       (N >> 8) & 0xff,
				       (N >> 16) & 0xff,
				       N >> 24,
				       0x48,
				       0x8b,
				       0x07,
				       0x48,
				       0x01,
				       0xc8,
				       0x48,
				       0x89,
				       0x47,
				       0x08,
				       0xff,
				       0xc9,
				       0x75,
				       0xf2,
				       UD2 };
	/* l: call f; dec ecx; jnz l; ud2; f: ret */
	static const uint8_t call[] = { 0xb9,
					N & 0xff,
					(N >> 8) & 0xff,
					(N >> 16) & 0xff,
					N >> 24,
					0xe8,
					0x06,
					0,
					0,
					0,
					0xff,
					0xc9,
					0x75,
					0xf7,
					UD2,
					0xc3 };
	/* l: mov esi, DATA; mov edi, DATA+0x8000; mov edx, ecx; mov ecx, 4096;
	 *    rep movsb; mov ecx, edx; dec ecx; jnz l  (4096 iterations) */
	static const uint8_t str[] = { 0xb9, 0x00, 0x10, 0,    0,    0xbe, 0x00, 0x00,
				       0x02, 0x00, 0xbf, 0x00, 0x80, 0x02, 0x00, 0x89,
				       0xca, 0xb9, 0x00, 0x10, 0,    0,	   0xf3, 0xa4,
				       0x89, 0xd1, 0xff, 0xc9, 0x75, 0xe7, UD2 };

	/* l: movdqa xmm1, [rdi]; pcmpeqb xmm1, xmm0; pmovmskb eax, xmm1; paddd xmm2, xmm1;
	 *    dec ecx; jnz l  (glibc's strlen inner loop, roughly) */
	static const uint8_t sse_int[] = { 0xb9,
					   N & 0xff,
					   (N >> 8) & 0xff,
					   (N >> 16) & 0xff,
					   N >> 24,
					   0x66,
					   0x0f,
					   0x6f,
					   0x0f,
					   0x66,
					   0x0f,
					   0x74,
					   0xc8,
					   0x66,
					   0x0f,
					   0xd7,
					   0xc1,
					   0x66,
					   0x0f,
					   0xfe,
					   0xd1,
					   0xff,
					   0xc9,
					   0x75,
					   0xec,
					   UD2 };
	/* l: addps xmm0, xmm1; mulsd xmm2, xmm3; cvtsi2sd xmm4, ecx; dec ecx; jnz l */
	static const uint8_t sse_fp[] = { 0xb9,
					  N & 0xff,
					  (N >> 8) & 0xff,
					  (N >> 16) & 0xff,
					  N >> 24,
					  0x0f,
					  0x58,
					  0xc1,
					  0xf2,
					  0x0f,
					  0x59,
					  0xd3,
					  0xf2,
					  0x0f,
					  0x2a,
					  0xe1,
					  0xff,
					  0xc9,
					  0x75,
					  0xf1,
					  UD2 };
	struct kvm_sregs sregs;

	(void)state;
	h_init(&h, H_LONG);
	h.regs.rdi = H_DATA;
	bench(&h, "alu", alu, sizeof(alu));
	bench(&h, "mem", mem, sizeof(mem));
	bench(&h, "call", call, sizeof(call));
	bench(&h, "movsb", str, sizeof(str));
	emu_cpu_get_sregs(h.cpu, &sregs);
	sregs.cr4 |= 0x600; /* OSFXSR, OSXMMEXCPT */
	assert_int_equal(emu_cpu_set_sregs(h.cpu, &sregs), 0);
	bench(&h, "sse-int", sse_int, sizeof(sse_int));
	bench(&h, "sse-fp", sse_fp, sizeof(sse_fp));
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(run) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
