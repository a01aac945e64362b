/* config.json "process" (also exec --process): args, env, cwd, user,
 * capabilities, rlimits, noNewPrivileges, oomScoreAdj; plus the capability
 * and rlimit name tables. */
#include "ctr/spec.h"
#include "ctr/spec-internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int res;
} rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

int vs_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(rlimits); i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].res;
	return -1;
}

/* Capability names are ours rather than libcap's so that the table does not
 * depend on the libcap version (and is uppercase, as in config.json). */
static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int vs_cap_from_name(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *vs_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < VS_ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

int vs_cap_last(void)
{
	return (int)VS_ARRAY_SIZE(cap_names) - 1;
}

static int parse_user(json_t *p, const char *path, struct vs_spec_process *out, struct vs_err **err)
{
	char upath[64];
	int rc;
	json_t *u = sj_get(p, path, "user", JSON_OBJECT, &rc, err), *g;

	if (!u)
		return rc;
	snprintf(upath, sizeof(upath), "%s.user", path);
	if ((rc = sj_uint32(u, upath, "uid", &out->uid, err)) < 0 ||
	    (rc = sj_uint32(u, upath, "gid", &out->gid, err)) < 0)
		return rc;
	if (json_object_get(u, "umask") && !json_is_null(json_object_get(u, "umask"))) {
		if ((rc = sj_uint32(u, upath, "umask", &out->umask, err)) < 0)
			return rc;
		if (out->umask > 0777)
			return sj_fail(err, upath, "umask", "out of range");
		out->has_umask = true;
	}
	g = sj_get(u, upath, "additionalGids", JSON_ARRAY, &rc, err);
	if (!g)
		return rc;
	out->additional_gids = xzalloc((json_array_size(g) + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < json_array_size(g); i++) {
		json_t *v = json_array_get(g, i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return sj_fail(err, upath, "additionalGids", "expected an array of gids");
		out->additional_gids[i] = (uint32_t)json_integer_value(v);
		out->n_additional_gids = i + 1;
	}
	return 0;
}

static int parse_capset(json_t *c, const char *path, const char *key, uint64_t *mask,
			struct vs_err **err)
{
	struct vs_strv names = { 0 };
	int rc = sj_strv(c, path, key, &names, err);

	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		int cap = vs_cap_from_name(names.v[i]);

		/* runc ignores (with a warning) capabilities it does not know, so
		 * that a newer spec still runs on an older kernel; we do the same,
		 * but a name not shaped like a capability is a broken config. */
		if (cap >= 0)
			*mask |= 1ULL << cap;
		else if (strncasecmp(names.v[i], "CAP_", 4) != 0)
			rc = sj_fail(err, path, key, "unknown capability");
	}
	vs_strv_free(&names);
	return rc;
}

static int parse_caps(json_t *p, const char *path, struct vs_spec_process *out, struct vs_err **err)
{
	static const char *const keys[VS_CAP_NSETS] = { "bounding", "effective", "inheritable",
							"permitted", "ambient" };
	char cpath[64];
	int rc;
	json_t *c = sj_get(p, path, "capabilities", JSON_OBJECT, &rc, err);

	if (!c)
		return rc;
	snprintf(cpath, sizeof(cpath), "%s.capabilities", path);
	out->has_caps = true;
	for (int i = 0; i < VS_CAP_NSETS; i++)
		if ((rc = parse_capset(c, cpath, keys[i], &out->caps[i], err)) < 0)
			return rc;
	return 0;
}

static int parse_rlimit(json_t *r, const char *path, struct vs_spec_rlimit *out,
			struct vs_err **err)
{
	char *type = NULL;
	int rc;

	if (!json_is_object(r))
		return sj_fail(err, path, NULL, "expected an object");
	rc = sj_string(r, path, "type", &type, err);
	if (rc == 0) {
		out->resource = type ? vs_rlimit_from_name(type) : -1;
		if (out->resource < 0)
			rc = sj_fail(err, path, "type", "unknown rlimit type");
	}
	free(type);
	if (rc == 0 && ((rc = sj_uint64(r, path, "soft", &out->soft, err)) < 0 ||
			(rc = sj_uint64(r, path, "hard", &out->hard, err)) < 0))
		return rc;
	if (rc == 0 && out->soft > out->hard)
		rc = sj_fail(err, path, "soft", "greater than hard");
	return rc;
}

static int parse_rlimits(json_t *p, const char *path, struct vs_spec_process *out,
			 struct vs_err **err)
{
	char rpath[64];
	int rc;
	json_t *a = sj_get(p, path, "rlimits", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	out->rlimits = xzalloc((json_array_size(a) + 1) * sizeof(*out->rlimits));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(rpath, sizeof(rpath), "%s.rlimits[%zu]", path, i);
		out->n_rlimits = i + 1;
		rc = parse_rlimit(json_array_get(a, i), rpath, &out->rlimits[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int spec_parse_process(json_t *p, const char *path, struct vs_spec_process *out,
		       struct vs_err **err)
{
	int64_t oom = 0;
	int rc;

	if ((rc = sj_bool(p, path, "terminal", &out->terminal, err)) < 0 ||
	    (rc = parse_user(p, path, out, err)) < 0 ||
	    (rc = sj_strv(p, path, "args", &out->args, err)) < 0 ||
	    (rc = sj_strv(p, path, "env", &out->env, err)) < 0 ||
	    (rc = sj_string(p, path, "cwd", &out->cwd, err)) < 0 ||
	    (rc = parse_caps(p, path, out, err)) < 0 ||
	    (rc = parse_rlimits(p, path, out, err)) < 0 ||
	    (rc = sj_bool(p, path, "noNewPrivileges", &out->no_new_privileges, err)) < 0 ||
	    (rc = sj_string(p, path, "apparmorProfile", &out->apparmor_profile, err)) < 0 ||
	    (rc = sj_string(p, path, "selinuxLabel", &out->selinux_label, err)) < 0)
		return rc;
	if (json_object_get(p, "oomScoreAdj")) {
		if ((rc = sj_int64(p, path, "oomScoreAdj", &oom, err)) < 0)
			return rc;
		if (oom < -1000 || oom > 1000)
			return sj_fail(err, path, "oomScoreAdj", "out of range [-1000, 1000]");
		out->has_oom_score_adj = true;
		out->oom_score_adj = (int)oom;
	}
	if (!out->args.n)
		return sj_fail(err, path, "args", "must not be empty");
	if (!out->cwd)
		out->cwd = xstrdup("/");
	if (out->cwd[0] != '/')
		return sj_fail(err, path, "cwd", "must be an absolute path");
	return 0;
}
