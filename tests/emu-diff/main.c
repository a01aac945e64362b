/* emu-diff: runs the corpus and random sequences natively and in emu and
 * compares them; TAP on stdout (STYLE.md "Tests").
 *
 *   emu-diff                      corpus + 2000 random sequences (seed 1)
 *   emu-diff --fuzz --seed S --count N | --seconds T
 *                                 long random run; stops at the first
 *                                 mismatch with a full report, exit 1
 *   emu-diff --replay I --seed S  random sequence I alone, full report
 *   emu-diff --case NAME          corpus cases whose name contains NAME
 *   emu-diff --self               native against native (no emu): checks
 *                                 the native runner and the corpus
 *   --verbose                     every corpus result in full */
#include "diff.h"
#include "known.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_COUNT 2000
#define BATCH 100
#define PROGRESS 100000

struct opts {
	uint64_t seed;
	unsigned long count;
	double seconds; /* fuzz: run this long instead of count */
	long replay; /* random sequence index, or -1 */
	const char *only; /* corpus filter */
	bool fuzz, self, no_corpus, no_random, verbose;
};

struct ctx {
	struct opts o;
	struct diff_runner a, b;
	uint64_t features; /* DIFF_REQ_* on both sides */
	unsigned tap, failed;
	unsigned long outcomes[33]; /* native results: [0..31] vectors, [32] end */
	struct diff_state init;
	struct diff_result ra, rb;
	uint8_t code[DIFF_CODE_MAX];
	uint16_t undef_at[DIFF_CODE_MAX];
};

static bool run_pair(struct ctx *c, const struct diff_seq *seq)
{
	c->a.run(c->a.ctx, seq, &c->ra);
	c->b.run(c->b.ctx, seq, &c->rb);
	if (c->ra.vector == DIFF_END || (c->ra.vector >= 0 && c->ra.vector < 32))
		c->outcomes[c->ra.vector == DIFF_END ? 32 : c->ra.vector]++;
	return diff_compare(seq, &c->ra, &c->rb, NULL);
}

static void report(struct ctx *c, const struct diff_seq *seq, bool full)
{
	if (full) {
		diff_print_code(stdout, seq);
		diff_print_state(stdout, "start", seq->init);
		diff_print_result(stdout, c->a.name, &c->ra);
		diff_print_result(stdout, c->b.name, &c->rb);
		printf("# differences (undefined flags %#" PRIx64 " not compared):\n", seq->undef);
	}
	diff_compare(seq, &c->ra, &c->rb, stdout);
}

static void run_case(struct ctx *c, const char *family, const struct diff_case *k, unsigned i)
{
	struct diff_seq seq = {
		.name = k->name,
		.code = k->start,
		.len = (size_t)(k->end - k->start),
		.undef = k->undef,
		.init = &c->init,
	};

	c->tap++;
	if ((k->req & c->features) != k->req) {
		printf("ok %u - %s/%s # SKIP needs CPUID features %#" PRIx64 "\n", c->tap, family,
		       k->name, k->req & ~c->features);
		return;
	}
	diff_state_random(&c->init, k->seed ? k->seed : i + 1);
	if (run_pair(c, &seq) && !c->o.verbose) {
		printf("ok %u - %s/%s\n", c->tap, family, k->name);
		return;
	}
	if (diff_compare(&seq, &c->ra, &c->rb, NULL)) {
		printf("ok %u - %s/%s\n", c->tap, family, k->name);
		diff_print_result(stdout, c->a.name, &c->ra);
		return;
	}
	c->failed++;
	printf("not ok %u - %s/%s\n", c->tap, family, k->name);
	report(c, &seq, c->o.fuzz || c->o.verbose);
}

static void run_corpus(struct ctx *c)
{
	unsigned i = 0;

	for (const struct diff_corpus *f = diff_corpora; f->family; f++)
		for (const struct diff_case *k = f->cases; k->name; k++, i++)
			if (!c->o.only || strstr(k->name, c->o.only))
				run_case(c, f->family, k, i);
}

/* Random sequence i of a run: its code and start state. */
static void make_random(struct ctx *c, unsigned long i, struct diff_seq *seq)
{
	uint64_t rng = c->o.seed ^ (i * 0xd1b54a32d192ed03ULL);
	uint64_t code_seed = diff_rand(&rng);

	diff_state_random(&c->init, diff_rand(&rng));
	seq->name = "random";
	seq->code = c->code;
	seq->init = &c->init;
	seq->undef_at = c->undef_at;
	seq->len = diff_gen(code_seed, c->features, c->code, sizeof(c->code), &seq->undef,
			    c->undef_at);
}

/* One TAP line per BATCH sequences; the first mismatch of a batch in full. */
static void run_batch(struct ctx *c, unsigned long from, unsigned long to)
{
	unsigned long bad = 0, first = 0;
	struct diff_seq seq;

	for (unsigned long i = from; i < to; i++) {
		make_random(c, i, &seq);
		if (run_pair(c, &seq))
			continue;
		if (!bad++)
			first = i;
	}
	c->tap++;
	if (!bad) {
		printf("ok %u - random %lu..%lu (seed %" PRIu64 ")\n", c->tap, from, to - 1,
		       c->o.seed);
		return;
	}
	c->failed++;
	printf("not ok %u - random %lu..%lu (seed %" PRIu64 "): %lu differ; first: --replay %lu\n",
	       c->tap, from, to - 1, c->o.seed, bad, first);
	make_random(c, first, &seq);
	run_pair(c, &seq);
	report(c, &seq, true);
}

static void run_random(struct ctx *c)
{
	for (unsigned long i = 0; i < c->o.count; i += BATCH)
		run_batch(c, i, i + BATCH < c->o.count ? i + BATCH : c->o.count);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How the native runs ended: a generator that faults too often tests little. */
static void print_outcomes(const struct ctx *c)
{
	printf("# outcomes: end %lu", c->outcomes[32]);
	for (int v = 0; v < 32; v++)
		if (c->outcomes[v])
			printf(", vector %d: %lu", v, c->outcomes[v]);
	printf("\n");
}

/* The long run: stops at the first mismatch. */
static void run_fuzz(struct ctx *c)
{
	double start = now_s();
	struct diff_seq seq;
	unsigned long i;

	for (i = 0; c->o.seconds > 0 || i < c->o.count; i++) {
		if (i % PROGRESS == 0 && i) {
			fprintf(stderr, "emu-diff: %lu sequences, %.0f s\n", i, now_s() - start);
			if (c->o.seconds > 0 && now_s() - start >= c->o.seconds)
				break;
		}
		make_random(c, i, &seq);
		if (run_pair(c, &seq))
			continue;
		c->failed++;
		printf("not ok %u - random %lu (seed %" PRIu64 "; replay: --seed %" PRIu64
		       " --replay %lu)\n",
		       ++c->tap, i, c->o.seed, c->o.seed, i);
		report(c, &seq, true);
		return;
	}
	printf("ok %u - random 0..%lu (seed %" PRIu64 "), %.1f s\n", ++c->tap, i - 1, c->o.seed,
	       now_s() - start);
	print_outcomes(c);
}

static void run_replay(struct ctx *c)
{
	struct diff_seq seq;
	bool same;

	make_random(c, (unsigned long)c->o.replay, &seq);
	same = run_pair(c, &seq);
	c->failed += !same;
	printf("%s %u - random %ld (seed %" PRIu64 ")\n", same ? "ok" : "not ok", ++c->tap,
	       c->o.replay, c->o.seed);
	report(c, &seq, true);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "replay", required_argument, NULL, 'r' },
		{ "case", required_argument, NULL, 'c' },
		{ "fuzz", no_argument, NULL, 'f' },
		{ "self", no_argument, NULL, 'S' },
		{ "no-corpus", no_argument, NULL, 'C' },
		{ "no-random", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct opts){ .seed = 1, .count = DEFAULT_COUNT, .replay = -1 };
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			o->count = strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'r':
			o->replay = strtol(optarg, NULL, 0);
			break;
		case 'c':
			o->only = optarg;
			break;
		case 'f':
			o->fuzz = true;
			break;
		case 'S':
			o->self = true;
			break;
		case 'C':
			o->no_corpus = true;
			break;
		case 'R':
			o->no_random = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/* Runner a is always native; b is emu, or native again with --self. */
static int open_runners(struct ctx *c)
{
	int r = diff_native_init();

	if (r < 0) {
		printf("1..0 # SKIP cannot map the native test area: %s\n", strerror(-r));
		return r;
	}
	c->a = (struct diff_runner){ .name = "native", .run = diff_native_run };
	c->features = diff_host_features();
	if (c->o.self) {
		c->b = c->a;
		c->b.name = "native2";
		return 0;
	}
	r = diff_emu_open(&c->b);
	if (r < 0) {
		printf("1..0 # SKIP no emu runner: %s\n", strerror(-r));
		return r;
	}
	c->features &= diff_emu_features();
	return 0;
}

int main(int argc, char **argv)
{
	static struct ctx c;

	if (parse_opts(argc, argv, &c.o) < 0) {
		fprintf(stderr, "usage: emu-diff [--self] [--seed S] [--count N] [--case NAME]\n"
				"       [--no-corpus] [--no-random] [--fuzz [--seconds T]] "
				"[--replay I] [--verbose]\n");
		return 2;
	}
	if (open_runners(&c) < 0)
		return 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (c.o.replay >= 0)
		run_replay(&c);
	else if (c.o.fuzz)
		run_fuzz(&c);
	else {
		if (!c.o.no_corpus) {
			c.failed += diff_known_run(&c.a, true, &c.init, &c.ra, &c.tap);
			if (!c.o.self)
				c.failed += diff_known_run(&c.b, false, &c.init, &c.rb, &c.tap);
			run_corpus(&c);
		}
		if (!c.o.no_random)
			run_random(&c);
	}
	printf("1..%u\n", c.tap);
	if (!c.o.self)
		diff_emu_close(&c.b);
	return c.failed ? 1 : 0;
}
