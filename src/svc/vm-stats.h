/* A running VM's figures (the VMM's control socket "stats" command,
 * docs/api/control.md), for `GET /v1/vms/{name}/stats`: the VMM's CPU time
 * (its vCPU threads run the guest), its resident memory and the guest's. */
#ifndef VS_SVC_VM_STATS_H
#define VS_SVC_VM_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_svc;

struct vs_vm_stats {
	char *name;
	bool running, paused; /* not running: the figures below are 0 */
	uint64_t at_ns; /* when sampled (CLOCK_MONOTONIC) */
	uint64_t cpu_ns; /* the VMM process's CPU time */
	uint64_t rss; /* the VMM's resident bytes (guest RAM it has touched included) */
	uint64_t mem; /* the guest's RAM */
	unsigned cpus;
	uint64_t uptime_ms, console_bytes;
};

/* 0 with *out (vs_vm_stats_clear it), -ENOENT, or -errno with *err. */
int vs_svc_vm_stats(struct vs_svc *svc, const char *name, struct vs_vm_stats *out,
		    struct vs_err **err);
void vs_vm_stats_clear(struct vs_vm_stats *s);
/* cur as JSON (openapi.yaml VmStats); cpu_percent from prev (may be NULL). */
json_t *vs_vm_stats_to_json(const struct vs_vm_stats *prev, const struct vs_vm_stats *cur);

#endif
