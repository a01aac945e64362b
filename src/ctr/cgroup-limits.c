/* Writing linux.resources into cgroup files, for v1 and v2. Each limit goes
 * to the hierarchy whose directory has the file, so one code path serves
 * v1, hybrid and v2; v2 gets the spec's v1-style values converted the way
 * runc and crun convert them. */
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
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
	/* as runc: only "1" is written; cgroup v2 has no such switch */
	if (r->disable_oom_killer && (rc = put(cg, false, "memory.oom_control", "1", err)) < 0)
		return rc;
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
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"
	};
	static const char *const v2_keys[VS_THROTTLE_NKINDS] = { "rbps", "wbps", "riops", "wiops" };
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

/* blkio's [10, 1000] to the io controller's [1, 10000], as runc converts */
static int64_t io_weight(int64_t w)
{
	return 1 + (VS_MAX(w, 10) - 10) * 9999 / 990;
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
	snprintf(buf, sizeof(buf), "default %" PRId64, io_weight(w));
	return put(cg, true, "io.weight", buf, err);
}

/* blockIO.weightDevice, as runc 1.1: v1 "maj:min w" into blkio.weight_device,
 * or blkio.bfq.weight_device where only BFQ's files exist (kernels without
 * CFQ), and "maj:min leaf" into blkio.leaf_weight_device; 0 or absent
 * writes nothing. v2: "maj:min w" into io.bfq.weight; without BFQ, runc
 * drops the rule, we write io.weight "maj:min w'" converted (as crun). v2
 * has no leaf weights. */
static int weight_device(struct vs_cgroup *cg, bool v2, const struct vs_spec_resources *r,
			 struct vs_err **err)
{
	const char *file = v2 ? (have(cg, true, "io.bfq.weight") ? "io.bfq.weight" : "io.weight") :
				(have(cg, false, "blkio.weight_device") ?
					 "blkio.weight_device" :
					 "blkio.bfq.weight_device");
	char line[96];
	int rc;

	for (size_t i = 0; i < r->n_weight_dev; i++) {
		const struct vs_spec_weight_device *w = &r->weight_dev[i];

		if (w->weight > 0) {
			snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRId64, w->major,
				 w->minor,
				 strcmp(file, "io.weight") ? w->weight : io_weight(w->weight));
			if ((rc = put(cg, v2, file, line, err)) < 0)
				return rc;
		}
		if (w->leaf_weight > 0 && !v2) {
			snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRId64, w->major,
				 w->minor, w->leaf_weight);
			if ((rc = put(cg, false, "blkio.leaf_weight_device", line, err)) < 0)
				return rc;
		}
	}
	return 0;
}

/* The v1 hierarchy that holds controller ctl (also as "net_cls,net_prio"). */
static const struct vs_cgroup_hier *v1_hier(const struct vs_cgroup *cg, const char *ctl)
{
	size_t n = strlen(ctl);

	for (size_t i = 0; i < cg->n; i++) {
		const char *p = cg->h[i].name;

		while (!cg->h[i].v2) {
			if (!strncmp(p, ctl, n) && (p[n] == 0 || p[n] == ','))
				return &cg->h[i];
			if (!(p = strchr(p, ',')))
				break;
			p++;
		}
	}
	return NULL;
}

/* The cgroup2 hierarchy: the only one on pure v2, hybrid's "unified". */
static const struct vs_cgroup_hier *unified_hier(const struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2)
			return &cg->h[i];
	return NULL;
}

/* True when file in dir (cgroup.controllers, ...) lists word. */
static bool lists(const char *dir, const char *file, const char *word)
{
	char buf[1024], *save = NULL;

	if (cg_read(dir, file, buf, sizeof(buf)) < 0)
		return false;
	for (char *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (!strcmp(t, word))
			return true;
	return false;
}

/* Hybrid host, hugetlb only in the unified hierarchy: usable when our
 * parent's subtree_control enables it, which vessel never changes there
 * (it is the host's, or a level shared with other containers). */
static int hugetlb_unified(struct vs_cgroup *cg, const char *file, const char *val,
			   struct vs_err **err)
{
	const struct vs_cgroup_hier *u = unified_hier(cg);
	_cleanup_free_ char *parent = xstrdup(u->dir);
	int rc;

	*strrchr(parent, '/') = 0;
	if (!lists(u->mnt, "cgroup.controllers", "hugetlb"))
		return vs_err_set(
			err, -ENOTSUP,
			"cannot set hugetlb limit: the hugetlb controller is not available");
	if (!lists(parent, "cgroup.subtree_control", "hugetlb"))
		return vs_err_set(
			err, -ENOTSUP,
			"cannot set hugetlb limit: hugetlb is only available in the unified "
			"hierarchy and is not enabled for the container's cgroup (no "
			"hugetlb in %s/cgroup.subtree_control)",
			parent);
	if ((rc = cg_write(u->dir, file, val)) < 0)
		return vs_err_setsys(err, rc, "setting %s to %s in %s", file, val, u->dir);
	return 0;
}

/* hugepageLimits: v1 hugetlb.<size>.limit_in_bytes, v2 hugetlb.<size>.max.
 * On a hybrid host without a v1 hugetlb hierarchy the controller can only
 * be the unified hierarchy's (hugetlb_unified). */
static int hugetlb(struct vs_cgroup *cg, bool v2, const struct vs_spec_resources *r,
		   struct vs_err **err)
{
	bool unified = !v2 && !v1_hier(cg, "hugetlb") && unified_hier(cg);
	char file[96], buf[32];
	int rc;

	for (size_t i = 0; i < r->n_hugetlb; i++) {
		snprintf(file, sizeof(file), "hugetlb.%s.%s", r->hugetlb[i].page_size,
			 v2 || unified ? "max" : "limit_in_bytes");
		snprintf(buf, sizeof(buf), "%" PRIu64, r->hugetlb[i].limit);
		if (unified)
			rc = hugetlb_unified(cg, file, buf, err);
		else
			rc = put(cg, v2, file, buf, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* rdma: one rdma.max line per device, "mlx5_1 hca_handle=N hca_object=N"
 * (runc's format: absent counts are left out). */
static int rdma(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char line[160];
	int rc, n;

	if (r->n_rdma && !have(cg, cg->v2, "rdma.max"))
		return vs_err_set(err, -ENOTSUP,
				  "cannot set rdma limit: the rdma controller is not %s",
				  cg->v2 ? "enabled for the container's cgroup" : "mounted");
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct vs_spec_rdma *d = &r->rdma[i];

		n = snprintf(line, sizeof(line), "%s", d->device);
		if (d->hca_handles >= 0)
			n += snprintf(line + n, sizeof(line) - n, " hca_handle=%" PRId64,
				      d->hca_handles);
		if (d->hca_objects >= 0)
			snprintf(line + n, sizeof(line) - n, " hca_object=%" PRId64,
				 d->hca_objects);
		if ((rc = put(cg, cg->v2, "rdma.max", line, err)) < 0)
			return rc;
	}
	return 0;
}

/* network: v1 net_cls.classid and net_prio.ifpriomap. cgroup2 has no such
 * controllers and runc ignores the field there, as we do. A v1 host
 * without them mounted fails as runc fails ("cannot set net_cls limit"). */
static int network_v1(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	char line[96];
	int rc;

	if (cg->v2)
		return 0;
	if (r->net_classid > 0) {
		if (!v1_hier(cg, "net_cls"))
			return vs_err_set(err, -ENOTSUP,
					  "cannot set net_cls limit: the net_cls "
					  "controller is not mounted");
		snprintf(line, sizeof(line), "%" PRId64, r->net_classid);
		if ((rc = put(cg, false, "net_cls.classid", line, err)) < 0)
			return rc;
	}
	if (r->n_net_prio && !v1_hier(cg, "net_prio"))
		return vs_err_set(
			err, -ENOTSUP,
			"cannot set net_prio limit: the net_prio controller is not mounted");
	for (size_t i = 0; i < r->n_net_prio; i++) {
		snprintf(line, sizeof(line), "%s %" PRIu32, r->net_prio[i].name,
			 r->net_prio[i].priority);
		if ((rc = put(cg, false, "net_prio.ifpriomap", line, err)) < 0)
			return rc;
	}
	return 0;
}

static bool is_file_name(const char *key)
{
	return *key && !strchr(key, '/') && strcmp(key, ".") && strcmp(key, "..");
}

/* One unified entry into dir, with runc's messages. */
static int unified_write(const char *dir, const struct vs_spec_unified *u, struct vs_err **err)
{
	const char *dot = strchr(u->key, '.');
	char ctl[64];
	int rc;

	if (!is_file_name(u->key))
		return vs_err_set(err, -EINVAL,
				  "unified resource \"%s\" must be a file name (no slashes)",
				  u->key);
	if ((rc = cg_write(dir, u->key, u->value)) == 0)
		return 0;
	if (rc == -ENOENT || rc == -EPERM || rc == -EACCES) {
		if (!dot)
			return vs_err_set(err, -EINVAL,
					  "unified resource \"%s\" must be in the form "
					  "CONTROLLER.PARAMETER",
					  u->key);
		snprintf(ctl, sizeof(ctl), "%.*s", (int)(dot - u->key), u->key);
		if (strcmp(ctl, "cgroup") && !lists(dir, "cgroup.controllers", ctl))
			return vs_err_set(err, -ENOTSUP,
					  "unified resource \"%s\" can't be set: controller \"%s\" "
					  "not available",
					  u->key, ctl);
	}
	return vs_err_setsys(err, rc, "unable to set unified resource \"%s\": %s/%s", u->key, dir,
			     u->key);
}

/* unified: each file written into the container's cgroup2 directory. runc
 * refuses the field on v1 and hybrid hosts ("cannot use unified on cgroup
 * v1"); on a hybrid host we accept keys whose file the container's cgroup
 * in the unified hierarchy has (its controller is enabled there), checked
 * for every key before anything is written. */
static int unified(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err)
{
	const struct vs_cgroup_hier *u = unified_hier(cg);
	int rc;

	for (size_t i = 0; i < r->n_unified && !cg->v2; i++) {
		const char *key = r->unified[i].key;

		if (!u)
			return vs_err_set(err, -EINVAL,
					  "invalid configuration: cannot use unified on cgroup v1");
		if (!is_file_name(key) || !cg_exists(u->dir, key))
			return vs_err_set(err, -EINVAL,
					  "invalid configuration: cannot use unified on cgroup v1: "
					  "\"%s\" is not a file of the container's cgroup in the "
					  "unified hierarchy %s",
					  key, u->mnt);
	}
	for (size_t i = 0; i < r->n_unified; i++)
		if ((rc = unified_write(u->dir, &r->unified[i], err)) < 0)
			return rc;
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
	if ((rc = common_limits(cg, cg->v2, r, err)) < 0 ||
	    (rc = hugetlb(cg, cg->v2, r, err)) < 0 ||
	    (rc = weight_device(cg, cg->v2, r, err)) < 0 ||
	    (rc = throttle(cg, cg->v2, r, err)) < 0 || (rc = rdma(cg, r, err)) < 0 ||
	    (rc = network_v1(cg, r, err)) < 0)
		return rc;
	/* last, as runc: a unified entry overrides what the fields wrote */
	return unified(cg, r, err);
}
