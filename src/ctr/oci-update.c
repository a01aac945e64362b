/* `update` (change a running container's limits) and `events` (stats and
 * OOM notifications, as runc prints them: one JSON object per line). */
#include "ctr/oci-cli.h"
#include "ctr/cgroup.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

VS_DEFINE_CLEANUP(struct vs_ctr_state, vs_state_free)

struct update_flags {
	const char *resources, *memory, *reservation, *swap, *shares, *quota, *period, *cpus, *mems,
		*pids, *blkio;
};

static int size_arg(const char *v, int64_t *out, struct vs_err **err)
{
	uint64_t n;

	if (!v)
		return 0;
	if (strcmp(v, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (vs_parse_size(v, 1, &n) < 0 || n > INT64_MAX)
		return vs_err_set(err, -EINVAL, "invalid value %s", v);
	*out = (int64_t)n;
	return 0;
}

static int fill(const struct update_flags *f, struct vs_spec_resources *r, struct vs_err **err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (f->resources) {
		rc = vs_read_file(strcmp(f->resources, "-") ? f->resources : "/dev/stdin",
				  1024 * 1024, &buf, &len);
		if (rc < 0)
			return vs_err_setsys(err, rc, "reading %s", f->resources);
		if ((rc = vs_spec_resources_parse_text((const char *)buf, len, r, err)) < 0)
			return rc;
	}
	if ((rc = size_arg(f->memory, &r->memory_limit, err)) < 0 ||
	    (rc = size_arg(f->reservation, &r->memory_reservation, err)) < 0 ||
	    (rc = size_arg(f->swap, &r->memory_swap, err)) < 0 ||
	    (rc = size_arg(f->shares, &r->cpu_shares, err)) < 0 ||
	    (rc = size_arg(f->quota, &r->cpu_quota, err)) < 0 ||
	    (rc = size_arg(f->period, &r->cpu_period, err)) < 0 ||
	    (rc = size_arg(f->pids, &r->pids_limit, err)) < 0 ||
	    (rc = size_arg(f->blkio, &r->blkio_weight, err)) < 0)
		return rc;
	if (f->cpus)
		r->cpuset_cpus = xstrdup(f->cpus);
	if (f->mems)
		r->cpuset_mems = xstrdup(f->mems);
	return 0;
}

/* runc's update takes from -r the fields it merges into the container's
 * config: of those newer than blockIO.weight only `unified`;
 * blockIO.weightDevice, rdma and network are dropped without a word, and so
 * are they here. Returns a shallow copy of r without them. */
static struct vs_spec_resources as_runc_updates(const struct vs_spec_resources *r)
{
	struct vs_spec_resources u = *r;

	u.n_weight_dev = 0;
	u.n_rdma = 0;
	u.net_classid = -1;
	u.n_net_prio = 0;
	return u;
}

static int open_cgroup(const struct vs_oci_global *g, const char *id, struct vs_cgroup **cg,
		       struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	int rc;

	if ((rc = vs_state_load(g->root, id, &st, err)) < 0)
		return rc;
	if (vs_state_status(g->root, st) == VS_CTR_STOPPED)
		return vs_err_set(err, -EINVAL, "container not running");
	if (!st->cgroup_path)
		return vs_err_set(err, -ENOENT, "container has no cgroup");
	return vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, cg, err);
}

int vs_oci_cmd_update(const struct vs_oci_global *g, int argc, char **argv)
{
	struct update_flags f = { 0 };
	const struct vs_oci_flag flags[] = {
		{ "resources|r", true, &f.resources },
		{ "memory", true, &f.memory },
		{ "memory-reservation", true, &f.reservation },
		{ "memory-swap", true, &f.swap },
		{ "cpu-share", true, &f.shares },
		{ "cpu-quota", true, &f.quota },
		{ "cpu-period", true, &f.period },
		{ "cpuset-cpus", true, &f.cpus },
		{ "cpuset-mems", true, &f.mems },
		{ "pids-limit", true, &f.pids },
		{ "blkio-weight", true, &f.blkio },
		{ NULL, false, NULL },
	};
	struct vs_spec_resources r;
	struct vs_cgroup *cg = NULL;
	struct vs_err *err = NULL;
	char *pos[1];
	int npos, rc;

	vs_spec_resources_init(&r);
	if (vs_oci_parse(argc, argv, flags, pos, 1, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	if (npos < 1) {
		vs_err_set(&err, -EINVAL, "update: container id cannot be empty");
		return vs_oci_fail(g, err);
	}
	rc = fill(&f, &r, &err);
	if (rc == 0 && (rc = open_cgroup(g, pos[0], &cg, &err)) == 0) {
		struct vs_spec_resources u = as_runc_updates(&r);

		rc = vs_cgroup_apply(cg, &u, &err);
	}
	vs_cgroup_free(cg);
	vs_spec_resources_clear(&r);
	return rc < 0 ? vs_oci_fail(g, err) : 0;
}

static unsigned long long val(struct vs_cgroup *cg, const char *file)
{
	unsigned long long v = 0;

	vs_cgroup_read_u64(cg, file, &v);
	return v;
}

static json_t *stats(struct vs_cgroup *cg)
{
	bool v2 = vs_cgroup_is_v2(cg);
	unsigned long long cpu = v2 ? 0 : val(cg, "cpuacct.usage");

	return json_pack("{s:{s:{s:I}}, s:{s:{s:I, s:I, s:I}}, s:{s:I, s:I}}", "cpu", "usage",
			 "total", (json_int_t)cpu, "memory", "usage", "usage",
			 (json_int_t)val(cg, v2 ? "memory.current" : "memory.usage_in_bytes"),
			 "limit", (json_int_t)val(cg, v2 ? "memory.max" : "memory.limit_in_bytes"),
			 "failcnt", (json_int_t)(v2 ? 0 : val(cg, "memory.failcnt")), "pids",
			 "current", (json_int_t)val(cg, "pids.current"), "limit",
			 (json_int_t)val(cg, "pids.max"));
}

static void emit(const char *type, const char *id, json_t *data)
{
	json_t *j = json_pack("{s:s, s:s}", "type", type, "id", id);
	char *s;

	if (data)
		json_object_set_new(j, "data", data);
	s = json_dumps(j, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(j);
}

/* Until the container's cgroup is gone or empty: woken by the cgroup's
 * events (vs_cgroup_events_open) or the stats interval, never by a sleep
 * loop. Where the host has no notification at all, once a second. */
static void watch(struct vs_cgroup *cg, const char *id, uint64_t period)
{
	struct vs_cgroup_events *ev = NULL;
	unsigned long long ooms = vs_cgroup_oom_kills(cg), now;
	uint64_t next = vs_now_ns() + period * 1000000000ULL;

	vs_cgroup_events_open(cg, &ev);
	while (access(VS_CGROUP_FSROOT, F_OK) == 0 && vs_cgroup_is_populated(cg)) {
		uint64_t t = vs_now_ns();
		int ms = t >= next ? 0 : (int)VS_MIN((next - t) / 1000000 + 1, ev ? 3600000 : 1000);
		struct pollfd p = { .fd = ev ? vs_cgroup_events_fd(ev) : -1, .events = POLLIN };

		if (poll(&p, 1, ms) > 0)
			vs_cgroup_events_drain(ev);
		if ((now = vs_cgroup_oom_kills(cg)) > ooms)
			emit("oom", id, NULL);
		ooms = now;
		if (vs_now_ns() >= next) {
			emit("stats", id, stats(cg));
			next += period * 1000000000ULL;
		}
	}
	if ((now = vs_cgroup_oom_kills(cg)) > ooms)
		emit("oom", id, NULL);
	vs_cgroup_events_close(ev);
}

int vs_oci_cmd_events(const struct vs_oci_global *g, int argc, char **argv)
{
	const char *st = NULL, *interval = NULL;
	const struct vs_oci_flag flags[] = { { "stats", false, &st },
					     { "interval", true, &interval },
					     { NULL, false, NULL } };
	struct vs_cgroup *cg = NULL;
	struct vs_err *err = NULL;
	uint64_t period = 5;
	char *pos[1];
	int npos;

	if (vs_oci_parse(argc, argv, flags, pos, 1, &npos, &err) < 0 ||
	    (npos < 1 && vs_err_set(&err, -EINVAL, "events: container id cannot be empty")) ||
	    open_cgroup(g, pos[0], &cg, &err) < 0)
		return vs_oci_fail(g, err);
	if (interval)
		vs_parse_uint(interval, 1, 3600, &period); /* "5" or "5s" */
	if (st) {
		emit("stats", pos[0], stats(cg));
		vs_cgroup_free(cg);
		return 0;
	}
	watch(cg, pos[0], period);
	vs_cgroup_free(cg);
	return 0;
}
