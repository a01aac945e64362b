/* config.json "linux.resources" (also `update -r FILE`): memory, cpu,
 * pids, blockIO (weight, per-device weight and throttling), hugepage
 * limits, rdma, network, unified and the device cgroup rules.
 * Absent values stay -1 / NULL, so update only writes what it is given.
 *
 * Map: devices | memory, cpu | blockIO | hugetlb | rdma, network, unified |
 * entry points, init and clear. */
#include "ctr/spec.h"
#include "ctr/spec-internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_devrule(json_t *d, const char *path, struct vs_spec_devrule *out,
			 struct vs_err **err)
{
	char *type = NULL, *access = NULL;
	int rc;

	if (!json_is_object(d))
		return sj_fail(err, path, NULL, "expected an object");
	out->major = out->minor = -1;
	if ((rc = sj_bool(d, path, "allow", &out->allow, err)) == 0 &&
	    (rc = sj_string(d, path, "type", &type, err)) == 0 &&
	    (rc = sj_int64(d, path, "major", &out->major, err)) == 0 &&
	    (rc = sj_int64(d, path, "minor", &out->minor, err)) == 0)
		rc = sj_string(d, path, "access", &access, err);
	out->type = type ? type[0] : 'a';
	if (rc == 0 && (!strchr("acb", out->type) || (type && strlen(type) != 1)))
		rc = sj_fail(err, path, "type", "must be one of a, c, b");
	if (rc == 0 && access && (strlen(access) > 3 || strspn(access, "rwm") != strlen(access)))
		rc = sj_fail(err, path, "access", "must be a subset of rwm");
	if (rc == 0)
		snprintf(out->access, sizeof(out->access), "%s", access ? access : "rwm");
	free(type);
	free(access);
	return rc;
}

static int parse_devrules(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	char path[64];
	int rc;
	json_t *a = sj_get(res, "linux.resources", "devices", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	r->dev_rules = xzalloc((json_array_size(a) + 1) * sizeof(*r->dev_rules));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(path, sizeof(path), "linux.resources.devices[%zu]", i);
		r->n_dev_rules = i + 1;
		if ((rc = parse_devrule(json_array_get(a, i), path, &r->dev_rules[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int parse_memory(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char path[] = "linux.resources.memory";
	int rc;
	json_t *m = sj_get(res, "linux.resources", "memory", JSON_OBJECT, &rc, err);

	if (!m)
		return rc;
	if ((rc = sj_int64(m, path, "limit", &r->memory_limit, err)) < 0 ||
	    (rc = sj_int64(m, path, "reservation", &r->memory_reservation, err)) < 0 ||
	    (rc = sj_int64(m, path, "swap", &r->memory_swap, err)) < 0 ||
	    (rc = sj_int64(m, path, "swappiness", &r->memory_swappiness, err)) < 0 ||
	    (rc = sj_bool(m, path, "disableOOMKiller", &r->disable_oom_killer, err)) < 0)
		return rc;
	if (r->memory_limit < -1 || r->memory_swap < -1 || r->memory_reservation < -1)
		return sj_fail(err, "linux.resources", "memory", "negative value");
	if (r->memory_swappiness > 100)
		return sj_fail(err, path, "swappiness", "out of range [0, 100]");
	return 0;
}

static int parse_cpu(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char path[] = "linux.resources.cpu";
	int rc;
	json_t *c = sj_get(res, "linux.resources", "cpu", JSON_OBJECT, &rc, err);

	if (!c)
		return rc;
	if ((rc = sj_int64(c, path, "shares", &r->cpu_shares, err)) < 0 ||
	    (rc = sj_int64(c, path, "quota", &r->cpu_quota, err)) < 0 ||
	    (rc = sj_int64(c, path, "period", &r->cpu_period, err)) < 0 ||
	    (rc = sj_int64(c, path, "realtimeRuntime", &r->cpu_rt_runtime, err)) < 0 ||
	    (rc = sj_int64(c, path, "realtimePeriod", &r->cpu_rt_period, err)) < 0 ||
	    (rc = sj_string(c, path, "cpus", &r->cpuset_cpus, err)) < 0 ||
	    (rc = sj_string(c, path, "mems", &r->cpuset_mems, err)) < 0)
		return rc;
	if (r->cpu_shares < -1 || r->cpu_period < -1 || r->cpu_period == 0)
		return sj_fail(err, "linux.resources", "cpu", "invalid shares or period");
	return 0;
}

/* blockIO.throttle*Device: [{major, minor, rate}] */
static int parse_throttle(json_t *b, const char *key, struct vs_spec_throttle **out, size_t *n,
			  struct vs_err **err)
{
	char path[96];
	int rc;
	json_t *a = sj_get(b, "linux.resources.blockIO", key, JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	*out = xzalloc((json_array_size(a) + 1) * sizeof(**out));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *t = json_array_get(a, i);
		struct vs_spec_throttle *th = &(*out)[i];

		snprintf(path, sizeof(path), "linux.resources.blockIO.%s[%zu]", key, i);
		*n = i + 1;
		th->major = th->minor = -1;
		if (!json_is_object(t))
			return sj_fail(err, path, NULL, "expected an object");
		if ((rc = sj_int64(t, path, "major", &th->major, err)) < 0 ||
		    (rc = sj_int64(t, path, "minor", &th->minor, err)) < 0 ||
		    (rc = sj_uint64(t, path, "rate", &th->rate, err)) < 0)
			return rc;
		if (th->major < 0 || th->minor < 0)
			return sj_fail(err, path, "major", "major and minor are required");
	}
	return 0;
}

/* A uint16 of the runtime spec (blkio weights); -1 stays when absent. */
static int sj_u16(json_t *obj, const char *path, const char *key, int64_t *out, struct vs_err **err)
{
	int64_t v = -1;
	int rc = sj_int64(obj, path, key, &v, err);

	if (rc < 0 || !json_is_integer(json_object_get(obj, key)))
		return rc;
	if (v < 0 || v > UINT16_MAX)
		return sj_fail(err, path, key, "out of range [0, 65535]");
	*out = v;
	return 0;
}

/* blockIO.weightDevice: [{major, minor, weight, leafWeight}] */
static int parse_weight_device(json_t *b, struct vs_spec_resources *r, struct vs_err **err)
{
	char path[96];
	int rc;
	json_t *a = sj_get(b, "linux.resources.blockIO", "weightDevice", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	r->weight_dev = xzalloc((json_array_size(a) + 1) * sizeof(*r->weight_dev));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *t = json_array_get(a, i);
		struct vs_spec_weight_device *w = &r->weight_dev[i];

		snprintf(path, sizeof(path), "linux.resources.blockIO.weightDevice[%zu]", i);
		r->n_weight_dev = i + 1;
		w->major = w->minor = w->weight = w->leaf_weight = -1;
		if (!json_is_object(t))
			return sj_fail(err, path, NULL, "expected an object");
		if ((rc = sj_int64(t, path, "major", &w->major, err)) < 0 ||
		    (rc = sj_int64(t, path, "minor", &w->minor, err)) < 0 ||
		    (rc = sj_u16(t, path, "weight", &w->weight, err)) < 0 ||
		    (rc = sj_u16(t, path, "leafWeight", &w->leaf_weight, err)) < 0)
			return rc;
		if (w->major < 0 || w->minor < 0)
			return sj_fail(err, path, "major", "major and minor are required");
	}
	return 0;
}

static int parse_blockio(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char *const keys[VS_THROTTLE_NKINDS] = { "throttleReadBpsDevice",
							      "throttleWriteBpsDevice",
							      "throttleReadIOPSDevice",
							      "throttleWriteIOPSDevice" };
	int rc;
	json_t *b = sj_get(res, "linux.resources", "blockIO", JSON_OBJECT, &rc, err);

	if (!b)
		return rc;
	if ((rc = sj_u16(b, "linux.resources.blockIO", "weight", &r->blkio_weight, err)) < 0 ||
	    (rc = parse_weight_device(b, r, err)) < 0)
		return rc;
	for (int k = 0; k < VS_THROTTLE_NKINDS; k++)
		if ((rc = parse_throttle(b, keys[k], &r->throttle[k], &r->n_throttle[k], err)) < 0)
			return rc;
	return 0;
}

/* hugepageLimits: [{pageSize: "2MB", limit}]; the page size becomes part of
 * a file name, so only digits and a unit are accepted. */
static int parse_hugetlb(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	char path[64], *size = NULL;
	int rc;
	json_t *a = sj_get(res, "linux.resources", "hugepageLimits", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	r->hugetlb = xzalloc((json_array_size(a) + 1) * sizeof(*r->hugetlb));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *h = json_array_get(a, i);
		size_t digits;

		snprintf(path, sizeof(path), "linux.resources.hugepageLimits[%zu]", i);
		if (!json_is_object(h))
			return sj_fail(err, path, NULL, "expected an object");
		if ((rc = sj_string(h, path, "pageSize", &size, err)) < 0 ||
		    (rc = sj_uint64(h, path, "limit", &r->hugetlb[i].limit, err)) < 0)
			break;
		digits = size ? strspn(size, "0123456789") : 0;
		if (!digits || strlen(size) > 8 ||
		    strspn(size + digits, "KMGB") != strlen(size + digits))
			rc = sj_fail(err, path, "pageSize", "expected a size such as 2MB");
		if (rc < 0)
			break;
		snprintf(r->hugetlb[i].page_size, sizeof(r->hugetlb[i].page_size), "%s", size);
		r->n_hugetlb = i + 1;
		free(size);
		size = NULL;
	}
	free(size);
	return rc;
}

/* Names that end up in a cgroup file name or inside one line of a cgroup
 * file: never empty, ".", "..", with a '/', blanks or control characters. */
static bool is_bad_name(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return true;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s <= ' ' || *s == 0x7f)
			return true;
	return false;
}

static int name_fail(struct vs_err **err, const char *path, const char *name)
{
	return vs_err_set(err, -EINVAL,
			  VS_SPEC_ERR_PREFIX "%s: invalid name \"%s\" (empty, \".\", \"..\", "
					     "or with a '/' or a blank)",
			  path, name);
}

/* rdma: {"mlx5_1": {"hcaHandles": N, "hcaObjects": N}} */
static int parse_rdma(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	char path[160];
	const char *dev;
	int rc;
	json_t *o = sj_get(res, "linux.resources", "rdma", JSON_OBJECT, &rc, err), *v;

	if (!o)
		return rc;
	r->rdma = xzalloc((json_object_size(o) + 1) * sizeof(*r->rdma));
	json_object_foreach(o, dev, v)
	{
		struct vs_spec_rdma *e = &r->rdma[r->n_rdma++];
		uint32_t n;

		snprintf(path, sizeof(path), "linux.resources.rdma.%s", dev);
		e->device = xstrdup(dev);
		e->hca_handles = e->hca_objects = -1;
		if (is_bad_name(dev))
			return name_fail(err, "linux.resources.rdma", dev);
		if (!json_is_object(v))
			return sj_fail(err, path, NULL, "expected an object");
		n = UINT32_MAX;
		if ((rc = sj_uint32(v, path, "hcaHandles", &n, err)) < 0)
			return rc;
		e->hca_handles = json_is_integer(json_object_get(v, "hcaHandles")) ? (int64_t)n :
										     -1;
		if ((rc = sj_uint32(v, path, "hcaObjects", &n, err)) < 0)
			return rc;
		e->hca_objects = json_is_integer(json_object_get(v, "hcaObjects")) ? (int64_t)n :
										     -1;
	}
	return 0;
}

/* network: {classID, priorities: [{name, priority}]} (v1 net_cls/net_prio) */
static int parse_network(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char path[] = "linux.resources.network";
	char ipath[96];
	int rc;
	uint32_t id = 0;
	json_t *o = sj_get(res, "linux.resources", "network", JSON_OBJECT, &rc, err), *a;

	if (!o)
		return rc;
	if ((rc = sj_uint32(o, path, "classID", &id, err)) < 0)
		return rc;
	if (json_is_integer(json_object_get(o, "classID")))
		r->net_classid = id;
	if (!(a = sj_get(o, path, "priorities", JSON_ARRAY, &rc, err)))
		return rc;
	r->net_prio = xzalloc((json_array_size(a) + 1) * sizeof(*r->net_prio));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *p = json_array_get(a, i);
		struct vs_spec_netprio *np = &r->net_prio[i];

		snprintf(ipath, sizeof(ipath), "%s.priorities[%zu]", path, i);
		r->n_net_prio = i + 1;
		if (!json_is_object(p))
			return sj_fail(err, ipath, NULL, "expected an object");
		if ((rc = sj_string(p, ipath, "name", &np->name, err)) < 0 ||
		    (rc = sj_uint32(p, ipath, "priority", &np->priority, err)) < 0)
			return rc;
		if (!np->name || is_bad_name(np->name))
			return name_fail(err, ipath, np->name ? np->name : "");
	}
	return 0;
}

/* unified: {"<cgroup v2 file>": "<value>"} */
static int parse_unified(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char path[] = "linux.resources.unified";
	const char *key;
	int rc;
	json_t *o = sj_get(res, "linux.resources", "unified", JSON_OBJECT, &rc, err), *v;

	if (!o)
		return rc;
	r->unified = xzalloc((json_object_size(o) + 1) * sizeof(*r->unified));
	json_object_foreach(o, key, v)
	{
		struct vs_spec_unified *u = &r->unified[r->n_unified];

		if (is_bad_name(key))
			return vs_err_set(err, -EINVAL,
					  VS_SPEC_ERR_PREFIX "%s: key \"%s\" must be a cgroup file "
							     "name (no '/', not \".\" or \"..\")",
					  path, key);
		if (!json_is_string(v))
			return sj_fail(err, path, key, "expected a string");
		u->key = xstrdup(key);
		u->value = xstrdup(json_string_value(v));
		r->n_unified++;
	}
	return 0;
}

int spec_parse_resources(json_t *l, struct vs_spec_resources *r, struct vs_err **err)
{
	int rc;
	json_t *res = sj_get(l, "linux", "resources", JSON_OBJECT, &rc, err), *p;

	if (!res)
		return rc;
	if ((rc = parse_memory(res, r, err)) < 0 || (rc = parse_cpu(res, r, err)) < 0 ||
	    (rc = parse_blockio(res, r, err)) < 0 || (rc = parse_devrules(res, r, err)) < 0 ||
	    (rc = parse_hugetlb(res, r, err)) < 0 || (rc = parse_rdma(res, r, err)) < 0 ||
	    (rc = parse_network(res, r, err)) < 0 || (rc = parse_unified(res, r, err)) < 0)
		return rc;
	p = sj_get(res, "linux.resources", "pids", JSON_OBJECT, &rc, err);
	if (rc < 0 ||
	    (p && (rc = sj_int64(p, "linux.resources.pids", "limit", &r->pids_limit, err)) < 0))
		return rc;
	return 0;
}

int vs_spec_resources_parse_text(const char *buf, size_t len, struct vs_spec_resources *r,
				 struct vs_err **err)
{
	json_error_t jerr;
	json_t *res = json_loadb(buf, len, 0, &jerr), *wrap;
	int rc;

	vs_spec_resources_init(r);
	if (!res)
		return spec_one_line(err,
				     vs_err_set(err, -EINVAL, "resources: line %d column %d: %s",
						jerr.line, jerr.column, jerr.text));
	wrap = json_pack("{s:o}", "resources", res);
	rc = wrap ? spec_parse_resources(wrap, r, err) : -ENOMEM;
	json_decref(wrap);
	return spec_one_line(err, rc);
}

void vs_spec_resources_init(struct vs_spec_resources *r)
{
	*r = (struct vs_spec_resources){ .memory_limit = -1,
					 .memory_reservation = -1,
					 .memory_swap = -1,
					 .memory_swappiness = -1,
					 .cpu_shares = -1,
					 .cpu_quota = -1,
					 .cpu_period = -1,
					 .cpu_rt_runtime = -1,
					 .cpu_rt_period = -1,
					 .pids_limit = -1,
					 .blkio_weight = -1,
					 .net_classid = -1 };
}

void vs_spec_resources_clear(struct vs_spec_resources *r)
{
	free(r->cpuset_cpus);
	free(r->cpuset_mems);
	free(r->dev_rules);
	free(r->hugetlb);
	for (int k = 0; k < VS_THROTTLE_NKINDS; k++)
		free(r->throttle[k]);
	free(r->weight_dev);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	for (size_t i = 0; i < r->n_net_prio; i++)
		free(r->net_prio[i].name);
	free(r->net_prio);
	vs_spec_resources_init(r);
}
