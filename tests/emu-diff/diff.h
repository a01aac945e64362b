/* Differential tests of emu against the host CPU (issue 3, "Differential
 * tests"): one instruction sequence, one start state, run natively in this
 * process (native.c) and in emu at CPL3 (emu-run.c); results compared
 * (compare.c). Cases come from the hand-written corpus (corpus-*.S) or the
 * random generator (gen*.c). */
#ifndef VS_EMU_DIFF_DIFF_H
#define VS_EMU_DIFF_DIFF_H

#include "layout.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum diff_gpr {
	DIFF_RAX,
	DIFF_RCX,
	DIFF_RDX,
	DIFF_RBX,
	DIFF_RSP,
	DIFF_RBP,
	DIFF_RSI,
	DIFF_RDI,
	DIFF_R8,
	DIFF_R9,
	DIFF_R10,
	DIFF_R11,
	DIFF_R12,
	DIFF_R13,
	DIFF_R14,
	DIFF_R15
};

/* Architectural state a sequence sees and leaves. Layout known to tramp.S. */
struct diff_state {
	uint64_t r[16]; /* enum diff_gpr order (the encoding's) */
	uint64_t rip;
	uint64_t rflags;
	uint8_t data[DIFF_DATA_SIZE]; /* the data area at DIFF_DATA_VA */
	_Alignas(16) uint8_t xmm[16][16]; /* XMM0-15 */
	uint32_t mxcsr;
};

/* diff_result.vector when no exception ended the run. */
#define DIFF_END (-1) /* reached the end marker (UD2 right after the code) */
#define DIFF_HANG (-2) /* watchdog */
#define DIFF_ERROR (-3) /* the runner failed; detail says why */

struct diff_result {
	struct diff_state st; /* at the end marker, or at the faulting instruction */
	int vector; /* DIFF_END, DIFF_HANG, DIFF_ERROR or the exception */
	bool has_err;
	uint32_t err;
	uint64_t cr2;
	char detail[160];
};

/* One sequence to run: code is copied to DIFF_CODE_VA and followed by UD2. */
struct diff_seq {
	const char *name;
	const uint8_t *code;
	size_t len; /* at most DIFF_CODE_MAX */
	uint64_t undef; /* RFLAGS bits not compared (undefined after the code) */
	const struct diff_state *init;
	/* Random sequences: the bits undefined before the instruction at each
	 * offset (DIFF_UNDEF_UNKNOWN: not an instruction start), for runs that
	 * end in an exception there; NULL: undef applies. */
	const uint16_t *undef_at;
};
#define DIFF_UNDEF_UNKNOWN 0xffff
#define DIFF_CODE_MAX (DIFF_CODE_SIZE - 2)

/* A corpus entry as corpus.h's CASE macro lays it out. */
struct diff_case {
	const char *name;
	const uint8_t *start, *end;
	uint64_t undef, req, seed;
};

struct diff_corpus {
	const char *family;
	const struct diff_case *cases; /* ends with name == NULL */
};
/* corpus.c: every family's table; NULL-terminated. */
extern const struct diff_corpus diff_corpora[];

/* A runner fills *out for seq; never fails as a C function: trouble is
 * out->vector == DIFF_ERROR. */
struct diff_runner {
	const char *name;
	void (*run)(void *ctx, const struct diff_seq *seq, struct diff_result *out);
	void *ctx;
};

/* native.c: maps the code and data areas into this process and installs the
 * signal handlers. Returns 0 or -errno. */
int diff_native_init(void);
void diff_native_run(void *ctx, const struct diff_seq *seq, struct diff_result *out);

/* state.c */
uint64_t diff_rand(uint64_t *rng);
/* A start state for seed: GPRs from a mix of edge and random values, RSP at
 * DIFF_STACK_TOP, random arithmetic flags and DF, random data. */
void diff_state_random(struct diff_state *st, uint64_t seed);
/* Compares a (expected, native) with b (emu) for seq; prints what differs
 * to f (one "# " line each) when f is not NULL. Returns true when equal. */
bool diff_compare(const struct diff_seq *seq, const struct diff_result *a,
		  const struct diff_result *b, FILE *f);
void diff_print_result(FILE *f, const char *who, const struct diff_result *r);
void diff_print_state(FILE *f, const char *who, const struct diff_state *st);
/* Disassembles seq's code with objdump when it is there, else a hex dump. */
void diff_print_code(FILE *f, const struct diff_seq *seq);

/* features.c: DIFF_REQ_* the host CPU has. */
uint64_t diff_host_features(void);

/* emu-run.c: the runner backed by emu (one VM per run). open returns 0 or
 * -errno; features are the DIFF_REQ_* emu's CPUID advertises. */
int diff_emu_open(struct diff_runner *r);
void diff_emu_close(struct diff_runner *r);
uint64_t diff_emu_features(void);

/* gen.c: a random valid sequence for seed into buf (at most max bytes);
 * *undef gets the RFLAGS bits it leaves undefined, undef_at[] (max
 * entries) those undefined before the instructions that may fault.
 * features: DIFF_REQ_* both sides have. Returns the length. */
size_t diff_gen(uint64_t seed, uint64_t features, uint8_t *buf, size_t max, uint64_t *undef,
		uint16_t *undef_at);

#endif
