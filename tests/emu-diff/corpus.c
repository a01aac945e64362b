/* The corpus families (corpus-*.S), in the order they run. */
#include "diff.h"

extern const struct diff_case diff_corpus_alu[], diff_corpus_shift[], diff_corpus_muldiv[],
	diff_corpus_string[], diff_corpus_bits[], diff_corpus_flow[], diff_corpus_mov[],
	diff_corpus_exc[], diff_corpus_ssefp[], diff_corpus_sseint[], diff_corpus_x87[],
	diff_corpus_mmx[];

const struct diff_corpus diff_corpora[] = {
	{ "alu", diff_corpus_alu },
	{ "shift", diff_corpus_shift },
	{ "muldiv", diff_corpus_muldiv },
	{ "string", diff_corpus_string },
	{ "bits", diff_corpus_bits },
	{ "flow", diff_corpus_flow },
	{ "mov", diff_corpus_mov },
	{ "exc", diff_corpus_exc },
	{ "ssefp", diff_corpus_ssefp },
	{ "sseint", diff_corpus_sseint },
	{ "x87", diff_corpus_x87 },
	{ "mmx", diff_corpus_mmx },
	{ NULL, NULL },
};
