/* The device cgroup (v1): linux.resources.devices in order, then the
 * devices every container gets (runc's AllowedDevices) and the nodes listed
 * in linux.devices. Without it a container root with CAP_MKNOD could open
 * host disks. On cgroup v2 this needs a BPF_CGROUP_DEVICE program, which is
 * not written yet: there the rules are not enforced (see docs/oci.md). */
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct vs_spec_devrule default_allow[] = {
    {true, 'c', -1, -1, "m"},	 {true, 'b', -1, -1, "m"},    /* mknod of anything */
    {true, 'c', 1, 3, "rwm"},	 {true, 'c', 1, 8, "rwm"},    /* null, random */
    {true, 'c', 1, 7, "rwm"},	 {true, 'c', 5, 0, "rwm"},    /* full, tty */
    {true, 'c', 1, 5, "rwm"},	 {true, 'c', 1, 9, "rwm"},    /* zero, urandom */
    {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"},    /* pts, ptmx */
    {true, 'c', 5, 1, "rwm"},	 {true, 'c', 10, 200, "rwm"}, /* console, tun */
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

int vs_cgroup_devices(struct vs_cgroup *cg, const struct vs_spec *s, struct vs_err **err)
{
	const struct vs_spec_resources *r = &s->resources;
	const char *dir = NULL;
	int rc;

	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && cg_exists(cg->h[i].dir, "devices.allow"))
			dir = cg->h[i].dir;
	if (!dir || !r->n_dev_rules)
		return 0;
	for (size_t i = 0; i < r->n_dev_rules; i++)
		if ((rc = write_rule(dir, &r->dev_rules[i], err)) < 0)
			return rc;
	for (size_t i = 0; i < VS_ARRAY_SIZE(default_allow); i++)
		if ((rc = write_rule(dir, &default_allow[i], err)) < 0)
			return rc;
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct vs_spec_device *d = &s->devices[i];
		struct vs_spec_devrule dr = {true, d->type, d->major, d->minor, "rwm"};

		if (d->type != 'p' && (rc = write_rule(dir, &dr, err)) < 0)
			return rc;
	}
	return 0;
}
