/* libFuzzer target for the config.json parser (and the exec process.json
 * parser): any input must parse or fail with one line, never crash or leak.
 * fuzz-spec-replay.c runs the same entry point over corpus/spec in every
 * build; with clang, meson also builds the libFuzzer binary fuzz-spec. */
#include "ctr/spec.h"
#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_spec *s = NULL;
	struct vs_err *e = NULL;
	struct vs_spec_process p;

	if (vs_spec_parse((const char *)data, size, &s, &e) == 0) {
		vs_spec_free(s);
	} else if (!e || strchr(e->msg, '\n')) {
		__builtin_trap(); /* a failure must carry one line */
	}
	vs_err_free(e);
	e = NULL;
	memset(&p, 0, sizeof(p));
	vs_spec_process_parse_text((const char *)data, size, &p, &e);
	vs_spec_process_clear(&p);
	vs_err_free(e);
	return 0;
}
