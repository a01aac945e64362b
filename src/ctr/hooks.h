/* OCI hooks: each runs with the container state JSON on its stdin, its own
 * args and env, and an optional timeout; a failing hook fails the step. */
#ifndef VS_CTR_HOOKS_H
#define VS_CTR_HOOKS_H

#include <stddef.h>

struct vs_err;
struct vs_spec_hooks;

/* Runs the hooks in order. state_json is written to each hook's stdin.
 * Returns 0 or -errno with "error running <kind> hook #i: ..." in *err. */
int vs_hooks_run(const struct vs_spec_hooks *h, const char *kind, const char *state_json,
		 struct vs_err **err);

/* Runs every hook of h even when some fail (poststop: runtime spec
 * "errors MUST be logged and the remaining hooks executed"); each failure
 * is one warning line. Returns how many failed. */
size_t vs_hooks_run_all(const struct vs_spec_hooks *h, const char *kind, const char *state_json);

#endif
