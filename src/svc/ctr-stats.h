/* `docker stats`-style figures of a container (issue 15), one sample at a
 * time, from its cgroup (v1/hybrid or v2) and /proc: CPU time, memory,
 * PIDs, block I/O and the network I/O of its network namespace. The CLI
 * (`vessel stats`) and the API (/v1/containers/{name}/stats) both call
 * this; rates (CPU %) come from two samples (vs_ctr_stats_to_json). */
#ifndef VS_SVC_CTR_STATS_H
#define VS_SVC_CTR_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_svc;

struct vs_ctr_stats {
	char *id, *name;
	bool running; /* false: every figure below is 0 */
	uint64_t at_ns; /* when sampled (CLOCK_MONOTONIC, vs_now_ns) */
	uint64_t cpu_ns; /* CPU time used by the cgroup so far */
	uint64_t mem_usage; /* bytes, less inactive page cache (as docker) */
	uint64_t mem_limit; /* the cgroup's limit, or the host's memory */
	uint64_t pids; /* tasks in the cgroup */
	uint64_t blk_read, blk_write; /* bytes, every device */
	uint64_t net_rx, net_tx; /* bytes, every interface of its netns but lo;
				  * 0 with the host's network */
	unsigned online_cpus;
};

/* Samples the container (a name, an id or a unique id prefix). Returns 0
 * with *out filled (vs_ctr_stats_clear it), -ENOENT ("no container named")
 * or -errno with *err. A container that does not run gives zeros. */
int vs_svc_ctr_stats(struct vs_svc *svc, const char *key, struct vs_ctr_stats *out,
		     struct vs_err **err);
void vs_ctr_stats_clear(struct vs_ctr_stats *s);

/* CPU use between two samples of one container, in percent of one CPU
 * (200 = two CPUs busy); a negative value when it cannot be told (no
 * previous sample, a restart in between). */
double vs_ctr_stats_cpu_percent(const struct vs_ctr_stats *prev, const struct vs_ctr_stats *cur);

/* cur as JSON (docs/api/openapi.yaml, CtrStats); with prev (may be NULL)
 * cpu_percent is filled, else null. A new reference. */
json_t *vs_ctr_stats_to_json(const struct vs_ctr_stats *prev, const struct vs_ctr_stats *cur);

#endif
