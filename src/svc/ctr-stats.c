/* One sample of a container's figures (ctr-stats.h). The cgroup is
 * /vessel/<id> in every hierarchy (ctr-config.c); a file is read from the
 * hierarchy that has it, so the same code reads v1 controllers, hybrid
 * hosts and pure cgroup v2:
 *   CPU     v1 cpuacct.usage (ns)          v2 cpu.stat usage_usec
 *   memory  memory.usage_in_bytes/.current less (total_)inactive_file of
 *           memory.stat; limit memory.limit_in_bytes/.max (else host RAM)
 *   PIDs    pids.current
 *   block   v1 blkio.throttle.io_service_bytes(_recursive) Read/Write,
 *           v2 io.stat rbytes=/wbytes=
 *   net     /proc/<init>/net/dev of the container's netns, without lo. */
#include "svc/ctr-stats.h"
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "ctr/cgroup.h"
#include "store/containers.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAT_FILE_MAX (64u << 10) /* memory.stat is ~2 KiB, io.stat a line a device */

/* The text of a pseudo-file (their size reads as 0: read to EOF), at most
 * STAT_FILE_MAX bytes, malloc'd and NUL-terminated; NULL if unreadable. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = xmalloc(STAT_FILE_MAX + 1);
	n = fread(buf, 1, STAT_FILE_MAX, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	return xrealloc(buf, n + 1);
}

/* The text of file in the first hierarchy of cg that has it, or NULL. */
static char *cg_text(struct vs_cgroup *cg, const char *file)
{
	for (size_t i = 0; i < vs_cgroup_n_hier(cg); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", vs_cgroup_hier_dir(cg, i), file);
		char *t = read_text(p);

		if (t)
			return t;
	}
	return NULL;
}

/* The value of "key N" (or "key=N" with eq) lines summed over text. */
static uint64_t sum_key(const char *text, const char *key, char sep)
{
	size_t kl = strlen(key);
	uint64_t sum = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;

		/* key at the line's start or after a space (io.stat: "8:0 rbytes=1") */
		while (*q && *q != '\n') {
			if ((q == p || q[-1] == ' ') && !strncmp(q, key, kl) && q[kl] == sep) {
				sum += strtoull(q + kl + 1, NULL, 10);
				break;
			}
			q++;
		}
	}
	return sum;
}

static void read_cpu(struct vs_cgroup *cg, struct vs_ctr_stats *s)
{
	unsigned long long v = 0;
	_cleanup_free_ char *t = NULL;

	if (vs_cgroup_read_u64(cg, "cpuacct.usage", &v) == 0) {
		s->cpu_ns = v;
		return;
	}
	if ((t = cg_text(cg, "cpu.stat")))
		s->cpu_ns = sum_key(t, "usage_usec", ' ') * 1000;
}

static void read_memory(struct vs_cgroup *cg, struct vs_ctr_stats *s)
{
	unsigned long long use = 0, lim = 0, host = vs_host_mem_total();
	_cleanup_free_ char *t = cg_text(cg, "memory.stat");
	uint64_t inactive = 0;

	if (vs_cgroup_read_u64(cg, "memory.usage_in_bytes", &use) < 0)
		vs_cgroup_read_u64(cg, "memory.current", &use);
	if (t)
		inactive = strstr(t, "total_inactive_file ") ?
				   sum_key(t, "total_inactive_file", ' ') :
				   sum_key(t, "inactive_file", ' ');
	s->mem_usage = inactive < use ? use - inactive : use;
	if (vs_cgroup_read_u64(cg, "memory.limit_in_bytes", &lim) < 0 &&
	    vs_cgroup_read_u64(cg, "memory.max", &lim) < 0) /* "max": no number */
		lim = 0;
	s->mem_limit = lim && lim < host ? lim : host;
}

static void read_blkio(struct vs_cgroup *cg, struct vs_ctr_stats *s)
{
	static const char *const v1[] = { "blkio.throttle.io_service_bytes_recursive",
					  "blkio.throttle.io_service_bytes",
					  "blkio.io_service_bytes_recursive", NULL };
	char *t = NULL;

	if ((t = cg_text(cg, "io.stat"))) {
		s->blk_read = sum_key(t, "rbytes", '=');
		s->blk_write = sum_key(t, "wbytes", '=');
		free(t);
		return;
	}
	for (size_t i = 0; v1[i] && !t; i++)
		t = cg_text(cg, v1[i]);
	if (t) { /* "8:0 Read 4096" */
		s->blk_read = sum_key(t, "Read", ' ');
		s->blk_write = sum_key(t, "Write", ' ');
		free(t);
	}
}

/* Sums the byte columns of /proc/<pid>/net/dev but lo's; nothing when the
 * container shares our network namespace (--network host: the host's
 * figures are not the container's). */
static void read_net(pid_t pid, struct vs_ctr_stats *s)
{
	_cleanup_free_ char *ns = xasprintf("/proc/%d/ns/net", (int)pid);
	_cleanup_free_ char *dev = xasprintf("/proc/%d/net/dev", (int)pid);
	struct stat a, b;
	FILE *f;
	char line[512];

	if (stat(ns, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 ||
	    (a.st_ino == b.st_ino && a.st_dev == b.st_dev))
		return;
	if (!(f = fopen(dev, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long rx, tx, skip;

		if (!colon)
			continue; /* the two header lines */
		*colon = 0;
		while (*name == ' ')
			name++;
		if (!strcmp(name, "lo"))
			continue;
		/* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &skip,
			   &skip, &skip, &skip, &skip, &skip, &skip, &tx) == 9) {
			s->net_rx += rx;
			s->net_tx += tx;
		}
	}
	fclose(f);
}

static int sample(const struct vs_store_ctr *row, struct vs_ctr_stats *s, struct vs_err **err)
{
	_cleanup_free_ char *path = xasprintf(VS_CTR_CGROUP_PARENT "/%s", row->id);
	struct vs_cgroup *cg = NULL;
	unsigned long long pids = 0;
	int r = vs_cgroup_open(VS_CGROUP_FSROOT, path, &cg, err);

	if (r < 0)
		return r;
	read_cpu(cg, s);
	read_memory(cg, s);
	if (vs_cgroup_read_u64(cg, "pids.current", &pids) == 0)
		s->pids = pids;
	read_blkio(cg, s);
	vs_cgroup_free(cg);
	if (row->init_pid > 0)
		read_net((pid_t)row->init_pid, s);
	return 0;
}

int vs_svc_ctr_stats(struct vs_svc *svc, const char *key, struct vs_ctr_stats *out,
		     struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	struct vs_ctr_stats s = { 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	s.online_cpus = cpus > 0 ? (unsigned)cpus : 1;
	s.running = strcmp(row->state, "running") == 0;
	s.at_ns = vs_now_ns();
	if (s.running && (r = sample(row, &s, err)) < 0) {
		vs_store_ctr_free(row);
		return r;
	}
	s.id = xstrdup(row->id);
	s.name = xstrdup(row->name);
	vs_store_ctr_free(row);
	*out = s;
	return 0;
}

void vs_ctr_stats_clear(struct vs_ctr_stats *s)
{
	free(s->id);
	free(s->name);
	*s = (struct vs_ctr_stats){ 0 };
}

double vs_ctr_stats_cpu_percent(const struct vs_ctr_stats *prev, const struct vs_ctr_stats *cur)
{
	if (!prev || !prev->running || !cur->running || cur->at_ns <= prev->at_ns ||
	    cur->cpu_ns < prev->cpu_ns || strcmp(prev->id, cur->id))
		return -1;
	return 100.0 * (double)(cur->cpu_ns - prev->cpu_ns) / (double)(cur->at_ns - prev->at_ns);
}

json_t *vs_ctr_stats_to_json(const struct vs_ctr_stats *prev, const struct vs_ctr_stats *cur)
{
	double cpu = vs_ctr_stats_cpu_percent(prev, cur);
	double mem = cur->mem_limit ? 100.0 * (double)cur->mem_usage / (double)cur->mem_limit : 0;

	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:o, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, "
			 "s:i}",
			 "id", cur->id, "name", cur->name, "running", cur->running, "read_at_ns",
			 (json_int_t)cur->at_ns, "cpu_ns", (json_int_t)cur->cpu_ns, "cpu_percent",
			 cpu < 0 ? json_null() : json_real(cpu), "mem_usage",
			 (json_int_t)cur->mem_usage, "mem_limit", (json_int_t)cur->mem_limit,
			 "mem_percent", mem, "pids", (json_int_t)cur->pids, "blk_read",
			 (json_int_t)cur->blk_read, "blk_write", (json_int_t)cur->blk_write,
			 "net_rx", (json_int_t)cur->net_rx, "net_tx", (json_int_t)cur->net_tx,
			 "online_cpus", (int)cur->online_cpus);
}
