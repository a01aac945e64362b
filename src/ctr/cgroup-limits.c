/* Writing linux.resources into cgroup files, for v1 and v2. Each limit goes
 * to the hierarchy whose directory has the file, so one code path serves
 * v1, hybrid and v2; v2 gets the spec's v1-style values converted the way
 * runc and crun convert them. */
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int put(struct vs_cgroup *cg, bool v2, const char *file, const char *val,
	       struct vs_err **err)
{
	for (size_t i = 0; i < cg->n; i++) {
		struct vs_cgroup_hier *h = &cg->h[i];
		int rc;

		if (h->v2 != v2 || !cg_exists(h->dir, file))
			continue;
		if ((rc = cg_write(h->dir, file, val)) < 0)
			return vs_err_setsys(err, rc, "setting %s to %s in %s", file, val, h->dir);
		return 0;
	}
	return vs_err_set(err, -ENOTSUP, "cgroup file %s is not available", file);
}

static bool have(struct vs_cgroup *cg, bool v2, const char *file)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2 == v2 && cg_exists(cg->h[i].dir, file))
			return true;
	return false;
}

static void num(char *buf, size_t n, int64_t v, const char *unlimited)
{
	if (v < 0)
		snprintf(buf, n, "%s", unlimited);
	else
		snprintf(buf, n, "%" PRId64, v);
}

static int memory_limits_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r,
			    const char *lim, const char *swap, struct vs_err **err);

static int memory_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char lim[32], swap[32];
	int rc = 0;

	num(lim, sizeof(lim), r->memory_limit, "-1");
	num(swap, sizeof(swap), r->memory_swap, "-1");
	if (r->memory_reservation >= 0) {
		char res[32];

		num(res, sizeof(res), r->memory_reservation, "-1");
		if ((rc = put(cg, false, "memory.soft_limit_in_bytes", res, err)) < 0)
			return rc;
	}
	if (r->memory_swappiness >= 0) {
		char sw[32];

		num(sw, sizeof(sw), r->memory_swappiness, "");
		if ((rc = put(cg, false, "memory.swappiness", sw, err)) < 0)
			return rc;
	}
	if (r->memory_limit == -1 && r->memory_swap == -1)
		return 0;
	return memory_limits_v1(cg, r, lim, swap, err);
}

/* The kernel keeps memsw >= limit at every step: lower the limit before
 * memsw, raise memsw before the limit. Trying the limit first and, when it
 * is refused, memsw first covers both directions. Without swap accounting
 * (no memsw file) the swap value is ignored, as runc does. */
static int memory_limits_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r,
			    const char *lim, const char *swap, struct vs_err **err)
{
	static const char memsw[] = "memory.memsw.limit_in_bytes";
	bool has_swap = r->memory_swap != -1 && have(cg, false, memsw);
	int rc;

	if (r->memory_limit != -1 && put(cg, false, "memory.limit_in_bytes", lim, NULL) < 0) {
		if (!has_swap)
			return put(cg, false, "memory.limit_in_bytes", lim, err);
		if ((rc = put(cg, false, memsw, swap, err)) < 0)
			return rc;
		return put(cg, false, "memory.limit_in_bytes", lim, err);
	}
	return has_swap ? put(cg, false, memsw, swap, err) : 0;
}

static int memory_v2(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char buf[32];
	int rc;

	if (r->memory_reservation >= 0) {
		num(buf, sizeof(buf), r->memory_reservation, "max");
		if ((rc = put(cg, true, "memory.low", buf, err)) < 0)
			return rc;
	}
	if (r->memory_limit >= 0) {
		num(buf, sizeof(buf), r->memory_limit, "max");
		if ((rc = put(cg, true, "memory.max", buf, err)) < 0)
			return rc;
	}
	/* v1's swap is memory+swap; v2's swap.max is swap alone. */
	if (r->memory_swap >= 0 && r->memory_limit >= 0 &&
	    cg_exists(cg->h[0].dir, "memory.swap.max")) {
		num(buf, sizeof(buf), r->memory_swap - r->memory_limit, "max");
		return put(cg, true, "memory.swap.max", buf, err);
	}
	return 0;
}

/* realtime: the period first, as the runtime must fit in it */
static int cpu_rt_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char buf[32];
	int rc;

	if (r->cpu_rt_period > 0) {
		num(buf, sizeof(buf), r->cpu_rt_period, "");
		if ((rc = put(cg, false, "cpu.rt_period_us", buf, err)) < 0)
			return rc;
	}
	if (r->cpu_rt_runtime != -1) {
		num(buf, sizeof(buf), r->cpu_rt_runtime, "-1");
		return put(cg, false, "cpu.rt_runtime_us", buf, err);
	}
	return 0;
}

static int cpu_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char buf[32];
	int rc;

	if (r->cpu_shares >= 0) {
		num(buf, sizeof(buf), r->cpu_shares, "1024");
		if ((rc = put(cg, false, "cpu.shares", buf, err)) < 0)
			return rc;
	}
	if (r->cpu_period > 0) {
		num(buf, sizeof(buf), r->cpu_period, "100000");
		if ((rc = put(cg, false, "cpu.cfs_period_us", buf, err)) < 0)
			return rc;
	}
	if (r->cpu_quota != -1 || r->cpu_period > 0) {
		snprintf(buf, sizeof(buf), "%" PRId64, r->cpu_quota > 0 ? r->cpu_quota : -1);
		if ((rc = put(cg, false, "cpu.cfs_quota_us", buf, err)) < 0)
			return rc;
	}
	return cpu_rt_v1(cg, r, err);
}

static int cpu_v2(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char buf[64];
	int rc;

	if (r->cpu_shares > 0) {
		/* runc's conversion of [2, 262144] shares to [1, 10000] weight */
		uint64_t w = 1 + ((uint64_t)(VS_MAX(r->cpu_shares, 2) - 2) * 9999) / 262142;

		snprintf(buf, sizeof(buf), "%" PRIu64, w);
		if ((rc = put(cg, true, "cpu.weight", buf, err)) < 0)
			return rc;
	}
	if (r->cpu_quota != -1 || r->cpu_period > 0) {
		if (r->cpu_quota > 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64, r->cpu_quota,
				 r->cpu_period > 0 ? r->cpu_period : 100000);
		else
			snprintf(buf, sizeof(buf), "max %" PRId64,
				 r->cpu_period > 0 ? r->cpu_period : 100000);
		return put(cg, true, "cpu.max", buf, err);
	}
	return 0;
}

/* blockIO throttling: v1 one file per kind ("maj:min rate"), v2 one
 * io.max key per kind ("maj:min rbps=rate"). */
static int throttle(struct vs_cgroup *cg, bool v2, const struct vs_spec_resources *r,
		    struct vs_err **err)
{
	static const char *const v1_files[VS_THROTTLE_NKINDS] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	static const char *const v2_keys[VS_THROTTLE_NKINDS] = {"rbps", "wbps", "riops", "wiops"};
	char line[96];
	int rc;

	for (int k = 0; k < VS_THROTTLE_NKINDS; k++) {
		for (size_t i = 0; i < r->n_throttle[k]; i++) {
			const struct vs_spec_throttle *t = &r->throttle[k][i];

			if (v2)
				snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
					 t->major, t->minor, v2_keys[k], t->rate);
			else
				snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRIu64,
					 t->major, t->minor, t->rate);
			if ((rc = put(cg, v2, v2 ? "io.max" : v1_files[k], line, err)) < 0)
				return rc;
		}
	}
	return 0;
}

/* v2: io.bfq.weight takes the v1 value [10, 1000] as is; io.weight (the
 * io controller's own) wants [1, 10000], converted as runc does. */
static int io_weight_v2(struct vs_cgroup *cg, int64_t w, struct vs_err **err)
{
	char buf[48];

	if (have(cg, true, "io.bfq.weight")) {
		snprintf(buf, sizeof(buf), "%" PRId64, w);
		return put(cg, true, "io.bfq.weight", buf, err);
	}
	snprintf(buf, sizeof(buf), "default %" PRId64, 1 + (VS_MAX(w, 10) - 10) * 9999 / 990);
	return put(cg, true, "io.weight", buf, err);
}

/* hugepageLimits: v1 hugetlb.<size>.limit_in_bytes, v2 hugetlb.<size>.max */
static int hugetlb(struct vs_cgroup *cg, bool v2, const struct vs_spec_resources *r,
		   struct vs_err **err)
{
	char file[96], buf[32];
	int rc;

	for (size_t i = 0; i < r->n_hugetlb; i++) {
		snprintf(file, sizeof(file), "hugetlb.%s.%s", r->hugetlb[i].page_size,
			 v2 ? "max" : "limit_in_bytes");
		snprintf(buf, sizeof(buf), "%" PRIu64, r->hugetlb[i].limit);
		if ((rc = put(cg, v2, file, buf, err)) < 0)
			return rc;
	}
	return 0;
}

static int common_limits(struct vs_cgroup *cg, bool v2, const struct vs_spec_resources *r,
			 struct vs_err **err)
{
	char buf[32];
	int rc;

	if (r->cpuset_cpus && *r->cpuset_cpus &&
	    (rc = put(cg, v2, "cpuset.cpus", r->cpuset_cpus, err)) < 0)
		return rc;
	if (r->cpuset_mems && *r->cpuset_mems &&
	    (rc = put(cg, v2, "cpuset.mems", r->cpuset_mems, err)) < 0)
		return rc;
	if (r->pids_limit != -1) {
		/* runc: 0 and negative mean unlimited */
		num(buf, sizeof(buf), r->pids_limit > 0 ? r->pids_limit : -1, "max");
		if ((rc = put(cg, v2, "pids.max", buf, err)) < 0)
			return rc;
	}
	if (r->blkio_weight > 0) {
		num(buf, sizeof(buf), r->blkio_weight, "");
		if (v2)
			return io_weight_v2(cg, r->blkio_weight, err);
		if (put(cg, false, "blkio.weight", buf, NULL) < 0)
			return put(cg, false, "blkio.bfq.weight", buf, err);
	}
	return 0;
}

int vs_cgroup_apply(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	int rc;

	if (cg->v2) {
		if ((rc = memory_v2(cg, r, err)) < 0 || (rc = cpu_v2(cg, r, err)) < 0)
			return rc;
	} else if ((rc = memory_v1(cg, r, err)) < 0 || (rc = cpu_v1(cg, r, err)) < 0) {
		return rc;
	}
	if ((rc = common_limits(cg, cg->v2, r, err)) < 0 || (rc = hugetlb(cg, cg->v2, r, err)) < 0)
		return rc;
	return throttle(cg, cg->v2, r, err);
}
