/* The device cgroup: linux.resources.devices in order, then the devices
 * every container gets (runc's AllowedDevices) and the nodes listed in
 * linux.devices. Without it a container root with CAP_MKNOD could open host
 * disks. v1 gets devices.allow/deny lines; cgroup2 directories get the same
 * list as a BPF_CGROUP_DEVICE program (cgroup-bpf.c). */
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct vs_spec_devrule default_allow[] = {
	{ true, 'c', -1, -1, "m" },    { true, 'b', -1, -1, "m" }, /* mknod of anything */
	{ true, 'c', 1, 3, "rwm" },    { true, 'c', 1, 8, "rwm" }, /* null, random */
	{ true, 'c', 1, 7, "rwm" },    { true, 'c', 5, 0, "rwm" }, /* full, tty */
	{ true, 'c', 1, 5, "rwm" },    { true, 'c', 1, 9, "rwm" }, /* zero, urandom */
	{ true, 'c', 136, -1, "rwm" }, { true, 'c', 5, 2, "rwm" }, /* pts, ptmx */
	{ true, 'c', 5, 1, "rwm" },    { true, 'c', 10, 200, "rwm" }, /* console, tun */
};

static void num(char *b, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(b, n, "*");
	else
		snprintf(b, n, "%" PRId64, v);
}

static int write_rule(const char *dir, const struct vs_spec_devrule *r, struct vs_err **err)
{
	char line[64], maj[24], min[24];
	int rc;

	num(maj, sizeof(maj), r->major);
	num(min, sizeof(min), r->minor);
	if (r->type == 'a')
		snprintf(line, sizeof(line), "a");
	else
		snprintf(line, sizeof(line), "%c %s:%s %s", r->type, maj, min, r->access);
	rc = cg_write(dir, r->allow ? "devices.allow" : "devices.deny", line);
	if (rc < 0)
		return vs_err_setsys(err, rc, "device cgroup rule \"%s\" in %s", line, dir);
	return 0;
}

/* The full list: the config's rules, then the defaults and linux.devices. */
static struct vs_spec_devrule *all_rules(const struct vs_spec *s, size_t *n)
{
	const struct vs_spec_resources *r = &s->resources;
	size_t k = 0, max = r->n_dev_rules + VS_ARRAY_SIZE(default_allow) + s->n_devices;
	struct vs_spec_devrule *v = xzalloc((max + 1) * sizeof(*v));

	for (size_t i = 0; i < r->n_dev_rules; i++)
		v[k++] = r->dev_rules[i];
	for (size_t i = 0; i < VS_ARRAY_SIZE(default_allow); i++)
		v[k++] = default_allow[i];
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct vs_spec_device *d = &s->devices[i];

		if (d->type != 'p')
			v[k++] = (struct vs_spec_devrule){ true, d->type, d->major, d->minor,
							   "rwm" };
	}
	*n = k;
	return v;
}

int vs_cgroup_devices(struct vs_cgroup *cg, const struct vs_spec *s, struct vs_err **err)
{
	_cleanup_free_ struct vs_spec_devrule *rules = NULL;
	size_t n = 0;
	int rc = 0;

	if (!s->resources.n_dev_rules)
		return 0;
	rules = all_rules(s, &n);
	for (size_t i = 0; i < cg->n && rc == 0; i++) {
		const char *dir = cg->h[i].dir;

		if (!cg->h[i].v2 && cg_exists(dir, "devices.allow")) {
			for (size_t j = 0; j < n && rc == 0; j++)
				rc = write_rule(dir, &rules[j], err);
		} else if (cg->h[i].v2 && (cg->v2 || getenv("VESSEL_HYBRID_DEVICE_BPF"))) {
			/* Required on a pure v2 host. On hybrid hosts the v1
			 * controller above already enforces the same list and
			 * the program would cost ~0.35 ms per container, so it is
			 * only added on request (the tests use that to run the
			 * BPF path on our hybrid machines); it only ever adds
			 * restrictions. */
			struct vs_err *e = NULL;

			if (cg->v2) {
				rc = cg_bpf_devices(dir, rules, n, err);
				continue;
			}
			if (cg_bpf_devices(dir, rules, n, &e) < 0)
				vs_debug("hybrid cgroup2 device filter: %s", e->msg);
			vs_err_free(e);
		}
	}
	return rc;
}
