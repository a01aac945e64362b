/* Start states, comparison of two results, and the readable report of a
 * mismatch (registers, flags, data bytes, exception, disassembly). */
#include "diff.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIFF_MAX_DATA_LINES 8

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};

/* splitmix64: small, good enough, and the same sequence on every host. */
uint64_t diff_rand(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Register values that hit carries, sign changes and size boundaries
 * often, and plain random ones the rest of the time. */
static uint64_t rand_value(uint64_t *rng)
{
	static const uint64_t edges[] = {
		0,
		1,
		2,
		~0ULL,
		0x7f,
		0x80,
		0xff,
		0x7fff,
		0x8000,
		0xffff,
		0x7fffffff,
		0x80000000,
		0xffffffff,
		0x100000000ULL,
		0x7fffffffffffffffULL,
		0x8000000000000000ULL,
	};
	uint64_t r = diff_rand(rng);

	switch (r % 8) {
	case 0:
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return (r >> 8) & 0xff;
	case 2:
		return (r >> 8) & 0xffff;
	case 3:
		return (uint32_t)(r >> 8);
	case 4:
		return (uint64_t) - (int64_t)((r >> 8) & 0xff);
	default:
		return diff_rand(rng);
	}
}

/* Floating-point lanes that hit the corners: signed zeros, infinities,
 * quiet and signaling NaNs, denormals, the normal range's ends, integer
 * conversion limits, halves (rounding ties); else a random value of
 * moderate exponent, so that arithmetic is mostly inexact. */
static uint32_t rand_f32(uint64_t *rng)
{
	static const uint32_t edges[] = {
		0,	    0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
		0xffc00001, 0x7fa00000, 0xff800001, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff,
		0xff7fffff, 0x3f000000, 0x3fc00000, 0xc0200000, 0x4f000000, 0xcf000000, 0x5f000000,
		0xdf000000, 0x4b000000, 0x00400000, 0x0c000000,
	};
	uint64_t r = diff_rand(rng);

	if (r % 3 == 0)
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	return (uint32_t)(r >> 32 & 0x80000000) | (uint32_t)((112 + (r >> 8) % 32) << 23) |
	       (uint32_t)(r >> 16 & 0x7fffff);
}

static uint64_t rand_f64(uint64_t *rng)
{
	static const uint64_t edges[] = {
		0,
		1ULL << 63,
		0x3ff0000000000000ULL,
		0xbff0000000000000ULL,
		0x7ff0000000000000ULL,
		0xfff0000000000000ULL,
		0x7ff8000000000000ULL,
		0xfff8000000000001ULL,
		0x7ff4000000000000ULL,
		0xfff0000000000001ULL,
		1,
		0x800fffffffffffffULL,
		0x0010000000000000ULL,
		0x7fefffffffffffffULL,
		0x3fe0000000000000ULL,
		0x3ff8000000000000ULL,
		0xc004000000000000ULL,
		0x41e0000000000000ULL,
		0xc1e0000000000000ULL,
		0x43e0000000000000ULL,
		0x4330000000000000ULL,
		0x41dfffffffc00000ULL,
		0x3810000000000000ULL,
		0x47efffffe0000000ULL,
	};
	uint64_t r = diff_rand(rng);

	if (r % 3 == 0)
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	return (diff_rand(rng) & 0x800fffffffffffffULL) | (uint64_t)(1000 + (r >> 8) % 48) << 52;
}

/* XMM registers (float, double or integer lanes) and MXCSR: any rounding
 * mode, DAZ/FTZ sometimes, exceptions masked seven times in eight. From
 * their own stream, so the GPRs and data of a seed stay what they were. */
static void random_simd(struct diff_state *st, uint64_t seed)
{
	uint64_t rng = seed ^ 0x5353455353455353ULL, r;

	for (int i = 0; i < 16; i++) {
		unsigned kind = (unsigned)(diff_rand(&rng) % 4);

		for (int k = 0; k < 16; k += kind == 1 ? 8 : 4) {
			uint64_t v = kind == 0 ? rand_f32(&rng) :
				     kind == 1 ? rand_f64(&rng) :
				     kind == 2 ? rand_value(&rng) :
						 diff_rand(&rng);

			memcpy(st->xmm[i] + k, &v, kind == 1 ? 8 : 4);
		}
	}
	r = diff_rand(&rng);
	st->mxcsr = 0x1f80 | (uint32_t)(r & 0x6000);
	st->mxcsr |= (r >> 16) % 4 == 0 ? 0x40 : 0;
	st->mxcsr |= (r >> 20) % 4 == 0 ? 0x8000 : 0;
	if ((r >> 24) % 8 == 0)
		st->mxcsr &= ~(uint32_t)((r >> 32) & 0x1f80);
	if ((r >> 40) % 2 == 0)
		st->mxcsr |= (uint32_t)(r >> 44) & 0x3f;
}

void diff_state_random(struct diff_state *st, uint64_t seed)
{
	uint64_t rng = seed;

	for (int i = 0; i < 16; i++)
		st->r[i] = rand_value(&rng);
	st->r[DIFF_RSP] = DIFF_STACK_TOP;
	st->rip = DIFF_CODE_VA;
	st->rflags = 0x2 | (diff_rand(&rng) & (DIFF_ARITH | DIFF_DF));
	for (size_t i = 0; i < DIFF_DATA_SIZE; i += 8) {
		uint64_t v = diff_rand(&rng);

		memcpy(st->data + i, &v, 8);
	}
	random_simd(st, seed);
}

/* "#GP" for the architectural exceptions, "vector N" for the rest. */
static const char *vector_name(int v, char buf[16])
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL,
		"#TS", "#NP", "#SS", "#GP", "#PF", NULL,  "#MF", "#AC", "#MC", "#XM",
	};

	if (v == DIFF_END)
		return "end";
	if (v == DIFF_HANG)
		return "hang";
	if (v == DIFF_ERROR)
		return "error";
	if (v >= 0 && v < (int)(sizeof(names) / sizeof(names[0])) && names[v])
		return names[v];
	snprintf(buf, 16, "vector %d", v);
	return buf;
}

/* "#GP(0x10a)", "#PF(0x6) cr2=0x10102000", "end", "vector 33". */
static const char *exit_str(const struct diff_result *r, char buf[96])
{
	char name[16];
	int n = snprintf(buf, 96, "%s", vector_name(r->vector, name));

	if (r->has_err)
		n += snprintf(buf + n, 96 - (size_t)n, "(%#x)", r->err);
	if (r->vector == 14)
		snprintf(buf + n, 96 - (size_t)n, " cr2=%#" PRIx64, r->cr2);
	return buf;
}

static bool compare_exit(const struct diff_result *a, const struct diff_result *b, FILE *f)
{
	bool same = a->vector == b->vector && a->has_err == b->has_err && a->err == b->err &&
		    a->cr2 == b->cr2;
	char sa[96], sb[96];

	if (!same && f)
		fprintf(f, "# exit: native %s  emu %s%s%s\n", exit_str(a, sa), exit_str(b, sb),
			b->detail[0] ? "  " : "", b->detail);
	return same;
}

static bool compare_regs(const struct diff_state *a, const struct diff_state *b, uint64_t flag_mask,
			 FILE *f)
{
	bool same = true;

	for (int i = 0; i < 16; i++) {
		if (a->r[i] == b->r[i])
			continue;
		same = false;
		if (f)
			fprintf(f, "# %s: native %#018" PRIx64 "  emu %#018" PRIx64 "\n",
				gpr_names[i], a->r[i], b->r[i]);
	}
	if (a->rip != b->rip) {
		same = false;
		if (f)
			fprintf(f, "# rip: native code+%#" PRIx64 "  emu code+%#" PRIx64 "\n",
				a->rip - DIFF_CODE_VA, b->rip - DIFF_CODE_VA);
	}
	if ((a->rflags ^ b->rflags) & flag_mask) {
		same = false;
		if (f)
			fprintf(f,
				"# rflags (compared bits %#" PRIx64 "): native %#" PRIx64
				"  emu %#" PRIx64 "  differ %#" PRIx64 "\n",
				flag_mask, a->rflags & flag_mask, b->rflags & flag_mask,
				(a->rflags ^ b->rflags) & flag_mask);
	}
	return same;
}

static bool compare_simd(const struct diff_state *a, const struct diff_state *b, FILE *f)
{
	bool same = a->mxcsr == b->mxcsr;

	if (!same && f)
		fprintf(f, "# mxcsr: native %#x  emu %#x\n", a->mxcsr, b->mxcsr);
	for (int i = 0; i < 16; i++) {
		uint64_t x[2], y[2];

		if (!memcmp(a->xmm[i], b->xmm[i], 16))
			continue;
		same = false;
		memcpy(x, a->xmm[i], 16);
		memcpy(y, b->xmm[i], 16);
		if (f)
			fprintf(f,
				"# xmm%d: native %016" PRIx64 "%016" PRIx64 "  emu %016" PRIx64
				"%016" PRIx64 "\n",
				i, x[1], x[0], y[1], y[0]);
	}
	return same;
}

static bool compare_data(const struct diff_state *a, const struct diff_state *b, FILE *f)
{
	int lines = 0;

	if (!memcmp(a->data, b->data, DIFF_DATA_SIZE))
		return true;
	for (size_t i = 0; i < DIFF_DATA_SIZE && f; i += 8) {
		uint64_t x, y;

		if (!memcmp(a->data + i, b->data + i, 8))
			continue;
		memcpy(&x, a->data + i, 8);
		memcpy(&y, b->data + i, 8);
		if (lines++ == DIFF_MAX_DATA_LINES) {
			fprintf(f, "# data: more differences\n");
			break;
		}
		fprintf(f, "# data %#zx: native %016" PRIx64 "  emu %016" PRIx64 "\n",
			(size_t)DIFF_DATA_VA + i, x, y);
	}
	return false;
}

/* The undefined flags where a's run ended: after the code, or before the
 * faulting instruction of a random sequence (all arithmetic flags when
 * that is not an instruction the generator knows). */
static uint64_t undef_at_end(const struct diff_seq *seq, const struct diff_result *a)
{
	uint64_t off = a->st.rip - DIFF_CODE_VA;

	if (!seq->undef_at || a->vector < 0)
		return seq->undef;
	if (off >= DIFF_CODE_MAX || seq->undef_at[off] == DIFF_UNDEF_UNKNOWN)
		return DIFF_ARITH;
	return seq->undef_at[off];
}

bool diff_compare(const struct diff_seq *seq, const struct diff_result *a,
		  const struct diff_result *b, FILE *f)
{
	uint64_t mask = (DIFF_ARITH | DIFF_DF) & ~undef_at_end(seq, a);
	bool same = compare_exit(a, b, f);

	/* Each call runs for its report, hence no short-circuit. */
	same &= compare_regs(&a->st, &b->st, mask, f);
	same &= compare_data(&a->st, &b->st, f);
	same &= compare_simd(&a->st, &b->st, f);
	return same;
}

void diff_print_state(FILE *f, const char *who, const struct diff_state *st)
{
	fprintf(f, "# %-6s rip=code+%#" PRIx64 " rflags=%#" PRIx64 "\n", who,
		st->rip - DIFF_CODE_VA, st->rflags);
	for (int i = 0; i < 16; i += 4)
		fprintf(f,
			"#   %-3s %016" PRIx64 "  %-3s %016" PRIx64 "  %-3s %016" PRIx64
			"  %-3s %016" PRIx64 "\n",
			gpr_names[i], st->r[i], gpr_names[i + 1], st->r[i + 1], gpr_names[i + 2],
			st->r[i + 2], gpr_names[i + 3], st->r[i + 3]);
	fprintf(f, "#   mxcsr %#x\n", st->mxcsr);
	for (int i = 0; i < 16; i += 2) {
		uint64_t x[4];

		memcpy(x, st->xmm[i], 32);
		fprintf(f,
			"#   xmm%-2d %016" PRIx64 "%016" PRIx64 "  xmm%-2d %016" PRIx64
			"%016" PRIx64 "\n",
			i, x[1], x[0], i + 1, x[3], x[2]);
	}
}

void diff_print_result(FILE *f, const char *who, const struct diff_result *r)
{
	char buf[96];

	fprintf(f, "# %s: %s%s%s\n", who, exit_str(r, buf), r->detail[0] ? " " : "", r->detail);
	diff_print_state(f, who, &r->st);
}

static void print_hex(FILE *f, const struct diff_seq *seq)
{
	fprintf(f, "# code:");
	for (size_t i = 0; i < seq->len; i++)
		fprintf(f, " %02x", seq->code[i]);
	fprintf(f, "\n");
}

/* objdump reads the bytes from a temporary file; its lines get "# ". */
void diff_print_code(FILE *f, const struct diff_seq *seq)
{
	char path[] = "/tmp/emu-diff-XXXXXX", cmd[256], line[256];
	int fd = mkstemp(path);
	FILE *p;

	print_hex(f, seq);
	if (fd < 0)
		return;
	if (write(fd, seq->code, seq->len) != (ssize_t)seq->len) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "objdump -D -b binary -m i386:x86-64 --adjust-vma=%#x %s 2>/dev/null",
		 DIFF_CODE_VA, path);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		if (strchr(line, '\t'))
			fprintf(f, "# %s", line);
	if (p)
		pclose(p);
	unlink(path);
}
