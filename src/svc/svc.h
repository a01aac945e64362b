/* The service layer: every verb on vessel's objects as a library call that
 * takes a spec or options struct and returns a result or a vs_err. The CLI
 * only parses arguments and prints; `vessel serve` (the REST API) will call
 * the same functions with the same structs (docs/api/).
 *
 * Layering: src/svc sits on {store, vmm, block, ctr} and under {cli, api}.
 * It holds the policy no lower layer may know: where a VM lives under the
 * root (<root>/vms/<name>/), how its VMM process is started and watched,
 * and the host's sizing rules. */
#ifndef VS_SVC_SVC_H
#define VS_SVC_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vs_err;
struct vs_store;

struct vs_svc {
	char *root; /* --root / VESSEL_ROOT */
	struct vs_store *store; /* opened by vs_svc_open() */
	pid_t *children; /* the VMMs' reapers this process forked: reaped once they end */
	size_t nchildren;
};

#define VS_SVC_DEFAULT_ROOT "/var/lib/vessel"

/* Opens the state under root (created if missing). Returns 0 or -errno with *err. */
int vs_svc_open(const char *root, struct vs_svc **out, struct vs_err **err);
void vs_svc_close(struct vs_svc *svc);

/* A test seam (tests/helpers/vessel-fault.c): when set, called with the name
 * of each step of a multi-step change ("create:dir", "create:row", ...), so
 * a test can kill the process between any two. NULL in vessel itself. */
extern void (*vs_svc_step_hook)(const char *step);

#endif
