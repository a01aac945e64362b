/* config.json "linux": namespaces, id mappings, sysctl, resources,
 * cgroupsPath, devices, masked/readonly paths, rootfsPropagation (seccomp is
 * in spec-seccomp.c, resources in spec-resources.c). Also the namespace name table.
 *
 * Map: namespace names | namespaces | id maps | sysctl | devices | checks |
 * spec_parse_linux. Resources are in spec-resources.c. */
#include "ctr/spec.h"
#include "ctr/spec-internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int type;
} ns_names[] = {
	{ "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
	{ "ipc", CLONE_NEWIPC },       { "uts", CLONE_NEWUTS },	    { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
};

int vs_ns_type_from_name(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns_names); i++)
		if (strcmp(ns_names[i].name, name) == 0)
			return ns_names[i].type;
	return -1;
}

const char *vs_ns_type_name(int type)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns_names); i++)
		if (ns_names[i].type == type)
			return ns_names[i].name;
	return NULL;
}

static int parse_ns(json_t *n, const char *path, struct vs_spec *s, struct vs_err **err)
{
	struct vs_spec_ns *ns = &s->namespaces[s->n_namespaces];
	char *type = NULL, msg[96];
	int rc;

	if (!json_is_object(n))
		return sj_fail(err, path, NULL, "expected an object");
	s->n_namespaces++;
	if ((rc = sj_string(n, path, "type", &type, err)) < 0 ||
	    (rc = sj_string(n, path, "path", &ns->path, err)) < 0) {
		free(type);
		return rc;
	}
	ns->type = type ? vs_ns_type_from_name(type) : -1;
	if (ns->type < 0) {
		snprintf(msg, sizeof(msg), "unknown namespace type \"%.40s\"", type ? type : "");
		rc = sj_fail(err, path, "type", msg);
	}
	free(type);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i + 1 < s->n_namespaces; i++)
		if (s->namespaces[i].type == ns->type)
			return sj_fail(err, path, "type", "namespace listed twice");
	if (ns->path && ns->path[0] != '/')
		return sj_fail(err, path, "path", "must be an absolute path");
	return 0;
}

static int parse_namespaces(json_t *l, struct vs_spec *s, struct vs_err **err)
{
	char path[48];
	int rc;
	json_t *a = sj_get(l, "linux", "namespaces", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	s->namespaces = xzalloc((json_array_size(a) + 1) * sizeof(*s->namespaces));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(path, sizeof(path), "linux.namespaces[%zu]", i);
		if ((rc = parse_ns(json_array_get(a, i), path, s, err)) < 0)
			return rc;
	}
	return 0;
}

int spec_parse_idmaps(json_t *l, const char *where, const char *key, struct vs_spec_idmap **out,
		      size_t *n, struct vs_err **err)
{
	char path[96];
	int rc;
	json_t *a = sj_get(l, where, key, JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	*out = xzalloc((json_array_size(a) + 1) * sizeof(**out));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *m = json_array_get(a, i);
		struct vs_spec_idmap *im = &(*out)[i];

		snprintf(path, sizeof(path), "%s.%s[%zu]", where, key, i);
		if (!json_is_object(m))
			return sj_fail(err, path, NULL, "expected an object");
		if ((rc = sj_uint32(m, path, "containerID", &im->container_id, err)) < 0 ||
		    (rc = sj_uint32(m, path, "hostID", &im->host_id, err)) < 0 ||
		    (rc = sj_uint32(m, path, "size", &im->size, err)) < 0)
			return rc;
		if (im->size == 0)
			return sj_fail(err, path, "size", "must be positive");
		*n = i + 1;
	}
	return 0;
}

static int parse_sysctl(json_t *l, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *o = sj_get(l, "linux", "sysctl", JSON_OBJECT, &rc, err), *v;
	const char *key;
	size_t i = 0;

	if (!o)
		return rc;
	s->sysctl.v = xzalloc((json_object_size(o) + 1) * sizeof(char *));
	json_object_foreach(o, key, v)
	{
		if (!json_is_string(v))
			return sj_fail(err, "linux.sysctl", key, "expected a string");
		if (!*key || strstr(key, "..") || key[0] == '.' || strchr(key, '/'))
			return sj_fail(err, "linux.sysctl", key, "invalid sysctl name");
		s->sysctl.v[i++] = xasprintf("%s=%s", key, json_string_value(v));
		s->sysctl.n = i;
	}
	return 0;
}

/* runc's validator (libcontainer/configs/validate): a sysctl is written
 * only where a namespace of the container's own isolates it; anything else
 * would change the host's value. Only the ipc and uts keys the kernel
 * namespaces, and net.* with a network namespace, pass. A namespace joined
 * by path is checked against the runtime's own at create (ns.c). */
static const char *const ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

int vs_spec_sysctl_ns(const char *key)
{
	size_t klen = strcspn(key, "=");

	for (size_t i = 0; i < VS_ARRAY_SIZE(ipc_sysctls); i++)
		if (strlen(ipc_sysctls[i]) == klen && strncmp(key, ipc_sysctls[i], klen) == 0)
			return CLONE_NEWIPC;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return CLONE_NEWIPC;
	if (strncmp(key, "net.", 4) == 0)
		return CLONE_NEWNET;
	if ((klen == 15 && strncmp(key, "kernel.hostname", klen) == 0) ||
	    (klen == 17 && strncmp(key, "kernel.domainname", klen) == 0))
		return CLONE_NEWUTS;
	return 0;
}

static int check_sysctls(const struct vs_spec *s, struct vs_err **err)
{
	static const char *const where[] = { [0] = "ipc", [1] = "network", [2] = "uts" };

	for (size_t i = 0; i < s->sysctl.n; i++) {
		const char *kv = s->sysctl.v[i];
		int ns = vs_spec_sysctl_ns(kv), len = (int)strcspn(kv, "=");
		int w = ns == CLONE_NEWIPC ? 0 : ns == CLONE_NEWNET ? 1 : 2;

		if (!ns)
			return vs_err_set(err, -EINVAL,
					  VS_SPEC_ERR_PREFIX "linux.sysctl: sysctl \"%.*s\" is not "
							     "in a separate kernel namespace",
					  len, kv);
		if (!vs_spec_find_ns(s, ns))
			return vs_err_set(err, -EINVAL,
					  VS_SPEC_ERR_PREFIX "linux.sysctl: sysctl \"%.*s\" is not "
							     "allowed in the host's %s namespace",
					  len, kv, where[w]);
	}
	return 0;
}

static int parse_device(json_t *d, const char *path, struct vs_spec_device *dev,
			struct vs_err **err)
{
	char *type = NULL;
	int rc;

	if (!json_is_object(d))
		return sj_fail(err, path, NULL, "expected an object");
	dev->major = dev->minor = -1;
	if ((rc = sj_string(d, path, "type", &type, err)) == 0 &&
	    (rc = sj_string(d, path, "path", &dev->path, err)) == 0 &&
	    (rc = sj_int64(d, path, "major", &dev->major, err)) == 0 &&
	    (rc = sj_int64(d, path, "minor", &dev->minor, err)) == 0 &&
	    (rc = sj_uint32(d, path, "fileMode", &dev->file_mode, err)) == 0 &&
	    (rc = sj_uint32(d, path, "uid", &dev->uid, err)) == 0)
		rc = sj_uint32(d, path, "gid", &dev->gid, err);
	if (rc == 0 && (!type || strlen(type) != 1 || !strchr("cbpu", type[0])))
		rc = sj_fail(err, path, "type", "must be one of c, b, u, p");
	if (rc == 0)
		dev->type = type[0] == 'u' ? 'c' : type[0];
	free(type);
	if (rc == 0 && (!dev->path || dev->path[0] != '/'))
		rc = sj_fail(err, path, "path", "must be an absolute path");
	if (rc == 0 && dev->type != 'p' && (dev->major < 0 || dev->minor < 0))
		rc = sj_fail(err, path, "major", "major and minor are required");
	return rc;
}

static int parse_devices(json_t *l, struct vs_spec *s, struct vs_err **err)
{
	char path[48];
	int rc;
	json_t *a = sj_get(l, "linux", "devices", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	s->devices = xzalloc((json_array_size(a) + 1) * sizeof(*s->devices));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(path, sizeof(path), "linux.devices[%zu]", i);
		s->n_devices = i + 1;
		if ((rc = parse_device(json_array_get(a, i), path, &s->devices[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int check_propagation(const char *p, struct vs_err **err)
{
	static const char *const ok[] = { "",	      "shared",	    "slave",
					  "private",  "rshared",    "rslave",
					  "rprivate", "unbindable", "runbindable" };

	for (size_t i = 0; i < VS_ARRAY_SIZE(ok); i++)
		if (strcmp(p, ok[i]) == 0)
			return 0;
	return sj_fail(err, "linux", "rootfsPropagation", "invalid propagation mode");
}

static int check_userns(const struct vs_spec *s, struct vs_err **err)
{
	const struct vs_spec_ns *u = vs_spec_find_ns(s, CLONE_NEWUSER);

	if ((s->n_uid_mappings || s->n_gid_mappings) && !u)
		return vs_err_set(err, -EINVAL,
				  VS_SPEC_ERR_PREFIX
				  "linux.uidMappings: user namespace is not enabled");
	if (u && !u->path && (!s->n_uid_mappings || !s->n_gid_mappings))
		return vs_err_set(
			err, -EINVAL,
			VS_SPEC_ERR_PREFIX
			"linux.uidMappings: a new user namespace needs uid and gid mappings");
	return 0;
}

int spec_parse_linux(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *l = sj_get(j, "", "linux", JSON_OBJECT, &rc, err), *sc;

	if (!l)
		return rc;
	if ((rc = parse_namespaces(l, s, err)) < 0 ||
	    (rc = spec_parse_idmaps(l, "linux", "uidMappings", &s->uid_mappings, &s->n_uid_mappings,
				    err)) < 0 ||
	    (rc = spec_parse_idmaps(l, "linux", "gidMappings", &s->gid_mappings, &s->n_gid_mappings,
				    err)) < 0 ||
	    (rc = parse_sysctl(l, s, err)) < 0 ||
	    (rc = spec_parse_resources(l, &s->resources, err)) < 0 ||
	    (rc = sj_string(l, "linux", "cgroupsPath", &s->cgroups_path, err)) < 0 ||
	    (rc = parse_devices(l, s, err)) < 0 ||
	    (rc = sj_strv(l, "linux", "maskedPaths", &s->masked_paths, err)) < 0 ||
	    (rc = sj_strv(l, "linux", "readonlyPaths", &s->readonly_paths, err)) < 0 ||
	    (rc = sj_string(l, "linux", "rootfsPropagation", &s->rootfs_propagation, err)) < 0 ||
	    (rc = sj_string(l, "linux", "mountLabel", &s->mount_label, err)) < 0)
		return rc;
	if (s->rootfs_propagation && (rc = check_propagation(s->rootfs_propagation, err)) < 0)
		return rc;
	if ((rc = check_userns(s, err)) < 0 || (rc = check_sysctls(s, err)) < 0)
		return rc;
	sc = sj_get(l, "linux", "seccomp", JSON_OBJECT, &rc, err);
	if (rc < 0 || !sc)
		return rc;
	return spec_parse_seccomp(sc, &s->seccomp, err);
}
