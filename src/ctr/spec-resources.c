/* config.json "linux.resources" (also `update -r FILE`): memory, cpu,
 * pids, blockIO (weight and throttling) and the device cgroup rules.
 * Absent values stay -1 / NULL, so update only writes what it is given. */
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
	    (rc = sj_int64(m, path, "swappiness", &r->memory_swappiness, err)) < 0)
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

static int parse_blockio(json_t *res, struct vs_spec_resources *r, struct vs_err **err)
{
	static const char *const keys[VS_THROTTLE_NKINDS] = {
	    "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
	    "throttleWriteIOPSDevice"};
	int rc;
	json_t *b = sj_get(res, "linux.resources", "blockIO", JSON_OBJECT, &rc, err);

	if (!b)
		return rc;
	if ((rc = sj_int64(b, "linux.resources.blockIO", "weight", &r->blkio_weight, err)) < 0)
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

int spec_parse_resources(json_t *l, struct vs_spec_resources *r, struct vs_err **err)
{
	int rc;
	json_t *res = sj_get(l, "linux", "resources", JSON_OBJECT, &rc, err), *p;

	if (!res)
		return rc;
	if ((rc = parse_memory(res, r, err)) < 0 || (rc = parse_cpu(res, r, err)) < 0 ||
	    (rc = parse_blockio(res, r, err)) < 0 || (rc = parse_devrules(res, r, err)) < 0 ||
	    (rc = parse_hugetlb(res, r, err)) < 0)
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
	*r = (struct vs_spec_resources){.memory_limit = -1,
					.memory_reservation = -1,
					.memory_swap = -1,
					.memory_swappiness = -1,
					.cpu_shares = -1,
					.cpu_quota = -1,
					.cpu_period = -1,
					.cpu_rt_runtime = -1,
					.cpu_rt_period = -1,
					.pids_limit = -1,
					.blkio_weight = -1};
}

void vs_spec_resources_clear(struct vs_spec_resources *r)
{
	free(r->cpuset_cpus);
	free(r->cpuset_mems);
	free(r->dev_rules);
	free(r->hugetlb);
	for (int k = 0; k < VS_THROTTLE_NKINDS; k++)
		free(r->throttle[k]);
	vs_spec_resources_init(r);
}
