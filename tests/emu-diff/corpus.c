/* The corpus families (corpus-*.S), in the order they run. */
#include "diff.h"

extern const struct diff_case diff_corpus_alu[];

const struct diff_corpus diff_corpora[] = {
	{ "alu", diff_corpus_alu },
	{ NULL, NULL },
};
