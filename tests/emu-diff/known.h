/* Sequences with a known outcome, checked on one runner (known.c). */
#ifndef VS_EMU_DIFF_KNOWN_H
#define VS_EMU_DIFF_KNOWN_H

#include "diff.h"

/* Runs every known sequence on runner (init and res are scratch; native:
 * the runner is the host CPU) and prints one TAP line each, numbered from
 * *tap + 1. Returns the failures. */
unsigned diff_known_run(const struct diff_runner *runner, bool native, struct diff_state *init,
			struct diff_result *res, unsigned *tap);

#endif
