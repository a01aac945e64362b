/* test-bench.c - the `bench` test: CPU work loops at CPL0 with paging on,
 * for comparing CPUs that run the guest (vessel's emu vs QEMU's TCG: see
 * bench/emu.sh). Not for KVM-PVM, which emulates CPL0 at ~2 MIPS.
 *
 * Each loop of bench.S runs a fixed number of iterations whose instruction
 * count the assembler computed; the time comes from the TSC. Output:
 *   vessel-test: bench: <loop> insns=<N> ns=<T> [bytes=<B>]
 *   vessel-test: bench: total insns=<N> ns=<T>
 * PASS if every loop's result is right (checksum, or the memory it wrote).
 * `bench:P` scales every iteration count to P percent (1-1000). */
#include "arch.h"
#include "bench.h"
#include "console.h"
#include "tests.h"
#include "tsc.h"

/* Iterations at 100 %: about 2 s in all under QEMU 7.2 TCG on our machines. */
#define ALU_ROUNDS 40000000
#define MEM_PASSES 500
#define CALL_ROUNDS 20000000
#define MOVSB_COPIES 1000
#define STOSQ_FILLS 1000
#define BYTECOPY_COPIES 500

#define MEM_WORDS (BENCH_MEM_BYTES / 8)
#define STR_SRC (bench_buf + BENCH_MEM_BYTES)
#define STR_DST (bench_buf + BENCH_MEM_BYTES + BENCH_STR_BYTES)
#define CALL_SEED 0x0123456789abcdefull
#define SCALE_MAX 1000

/* @base scaled to @scale percent, at least 1: the loops count down to zero
 * with dec/jnz, so 0 would mean 2^64 iterations. */
static uint64_t scaled(uint64_t base, uint64_t scale)
{
	uint64_t n = base * scale / 100;

	return n ? n : 1;
}

struct bench_result {
	uint64_t insns, bytes, ticks;
};

static const uint64_t alu_seed[5] = { 0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9, 0x94d049bb133111eb,
				      0x2545f4914f6cdd1d, 0x5851f42d4c957f2d };

static uint64_t rol64(uint64_t v, unsigned int n)
{
	return v << n | v >> (64 - n);
}

/* bench_alu_loop in C, instruction by instruction. */
static uint64_t alu_ref(uint64_t n)
{
	uint64_t a = alu_seed[0], d = alu_seed[1], c = alu_seed[2], r8 = alu_seed[3];
	uint64_t r9 = alu_seed[4], r11;

	for (; n; n--) {
		a += d;
		c = rol64(c ^ a, 13);
		r8 -= c;
		r9 = r8 * 0x2545F491;
		r9 ^= r9 >> 17;
		d += r9;
		r11 = a + d * 4 + 3;
		r8 ^= r11;
		c += a < d; /* cmp %rdx, %rax sets CF when rax < rdx; adc adds it */
	}
	return a ^ d ^ c ^ r8 ^ r9;
}

static int bench_alu(uint64_t scale, struct bench_result *r)
{
	uint64_t n = scaled(ALU_ROUNDS, scale), t0, got;

	t0 = rdtsc();
	got = bench_alu_loop(n, alu_seed);
	r->ticks = rdtsc() - t0;
	r->insns = n * bench_alu_insns;
	if (got != alu_ref(n))
		return test_fail("alu: checksum 0x%lx, expected 0x%lx", got, alu_ref(n));
	return 0;
}

/* Words start as their index; each pass adds them up and increments them. */
static int bench_mem(uint64_t scale, struct bench_result *r)
{
	uint64_t *w = (uint64_t *)bench_buf, p = scaled(MEM_PASSES, scale), t0, got, want;
	const uint64_t n = MEM_WORDS;

	for (uint64_t i = 0; i < n; i++)
		w[i] = i;
	t0 = rdtsc();
	got = bench_mem_loop(p, w, n);
	r->ticks = rdtsc() - t0;
	r->insns = p * (n * bench_mem_insns + bench_mem_outer_insns);
	r->bytes = p * n * 8;
	want = p * (n * (n - 1) / 2) + n * (p * (p - 1) / 2);
	if (got != want)
		return test_fail("mem: sum 0x%lx, expected 0x%lx", got, want);
	for (uint64_t i = 0; i < n; i++)
		if (w[i] != i + p)
			return test_fail("mem: word %lu is %lu after %lu passes", i, w[i], p);
	return 0;
}

static int bench_call(uint64_t scale, struct bench_result *r)
{
	uint64_t n = scaled(CALL_ROUNDS, scale), t0, got, want = CALL_SEED;

	t0 = rdtsc();
	got = bench_call_loop(n, CALL_SEED);
	r->ticks = rdtsc() - t0;
	r->insns = n * bench_call_insns;
	for (uint64_t k = n; k; k--)
		want = rol64(want + k, 5) ^ k;
	if (got != want)
		return test_fail("call: result 0x%lx, expected 0x%lx", got, want);
	return 0;
}

static void str_fill(void)
{
	uint64_t *s = (uint64_t *)STR_SRC, *d = (uint64_t *)STR_DST;

	for (uint64_t i = 0; i < BENCH_STR_BYTES / 8; i++) {
		s[i] = i * 0x0101010101010101ull ^ 0x8040201008040201ull;
		d[i] = 0;
	}
}

static int str_check(const char *what)
{
	const uint64_t *s = (const uint64_t *)STR_SRC, *d = (const uint64_t *)STR_DST;

	for (uint64_t i = 0; i < BENCH_STR_BYTES / 8; i++)
		if (s[i] != d[i])
			return test_fail("%s: copy differs at byte %lu", what, i * 8);
	return 0;
}

static int bench_movsb(uint64_t scale, struct bench_result *r)
{
	uint64_t n = scaled(MOVSB_COPIES, scale), t0;

	str_fill();
	t0 = rdtsc();
	bench_movsb_loop(n, STR_DST, STR_SRC, BENCH_STR_BYTES);
	r->ticks = rdtsc() - t0;
	r->insns = n * bench_movsb_insns;
	r->bytes = n * BENCH_STR_BYTES;
	return str_check("movsb");
}

static int bench_stosq(uint64_t scale, struct bench_result *r)
{
	uint64_t *w = (uint64_t *)bench_buf, n = scaled(STOSQ_FILLS, scale), t0;

	t0 = rdtsc();
	bench_stosq_loop(n, w, MEM_WORDS);
	r->ticks = rdtsc() - t0;
	r->insns = n * bench_stosq_insns;
	r->bytes = n * BENCH_MEM_BYTES;
	for (uint64_t i = 0; i < MEM_WORDS; i++)
		if (w[i] != 1)
			return test_fail("stosq: word %lu is 0x%lx, expected 1", i, w[i]);
	return 0;
}

static int bench_bytecopy(uint64_t scale, struct bench_result *r)
{
	uint64_t n = scaled(BYTECOPY_COPIES, scale), t0;

	str_fill();
	t0 = rdtsc();
	bench_bytecopy_loop(n, STR_DST, STR_SRC, BENCH_STR_BYTES);
	r->ticks = rdtsc() - t0;
	r->insns = n * (BENCH_STR_BYTES * bench_bytecopy_insns + bench_bytecopy_outer_insns);
	r->bytes = n * BENCH_STR_BYTES;
	return str_check("bytecopy");
}

struct bench {
	const char *name;
	int (*run)(uint64_t scale, struct bench_result *r);
};

static const struct bench benches[] = {
	{ "alu", bench_alu },	  { "mem", bench_mem },	    { "call", bench_call },
	{ "movsb", bench_movsb }, { "stosq", bench_stosq }, { "bytecopy", bench_bytecopy },
};

static uint64_t ticks_to_ns(uint64_t ticks, uint64_t khz)
{
	/* ticks * 10^6 / khz without overflow for runs up to hours */
	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

int test_bench(const char *arg)
{
	uint64_t scale = 100, khz = tsc_khz(), insns = 0, ns = 0, t;

	if (arg[0] && (parse_u64(arg, strlen(arg), &scale) || !scale || scale > SCALE_MAX))
		return test_fail("bench:P takes a percentage from 1 to %u", SCALE_MAX);
	kprintf("bench: tsc_khz=%lu (%s) scale=%lu%%\n", khz, tsc_khz_source, scale);
	for (unsigned int i = 0; i < TK_ARRAY_SIZE(benches); i++) {
		struct bench_result r = { 0, 0, 0 };

		if (benches[i].run(scale, &r))
			return -1;
		t = ticks_to_ns(r.ticks, khz);
		insns += r.insns;
		ns += t;
		if (r.bytes)
			kprintf("vessel-test: bench: %s insns=%lu ns=%lu bytes=%lu\n",
				benches[i].name, r.insns, t, r.bytes);
		else
			kprintf("vessel-test: bench: %s insns=%lu ns=%lu\n", benches[i].name,
				r.insns, t);
	}
	kprintf("vessel-test: bench: total insns=%lu ns=%lu\n", insns, ns);
	return 0;
}
