/* config.json: the top level (ociVersion, root, hostname, mounts, hooks,
 * annotations), loading from a bundle, and freeing. process is parsed in
 * spec-process.c, linux in spec-linux.c.
 *
 * Map: root | mounts | hooks | annotations | parse/load entry points |
 * lookups | free. */
#include "ctr/spec.h"
#include "ctr/spec-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX_SIZE (16 * VS_MIB)

static int parse_root(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *root = sj_get(j, "", "root", JSON_OBJECT, &rc, err);

	if (rc < 0)
		return rc;
	if (!root)
		return vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "root: missing");
	if ((rc = sj_string(root, "root", "path", &s->root_path, err)) < 0 ||
	    (rc = sj_bool(root, "root", "readonly", &s->root_readonly, err)) < 0)
		return rc;
	if (!s->root_path || !*s->root_path)
		return vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "root.path: missing");
	return 0;
}

static int parse_mount(json_t *m, const char *path, struct vs_spec_mount *out, struct vs_err **err)
{
	int rc;

	if (!json_is_object(m))
		return sj_fail(err, path, NULL, "expected an object");
	if ((rc = sj_string(m, path, "destination", &out->destination, err)) < 0 ||
	    (rc = sj_string(m, path, "type", &out->type, err)) < 0 ||
	    (rc = sj_string(m, path, "source", &out->source, err)) < 0 ||
	    (rc = sj_strv(m, path, "options", &out->options, err)) < 0 ||
	    (rc = spec_parse_idmaps(m, path, "uidMappings", &out->uid_mappings,
				    &out->n_uid_mappings, err)) < 0 ||
	    (rc = spec_parse_idmaps(m, path, "gidMappings", &out->gid_mappings,
				    &out->n_gid_mappings, err)) < 0)
		return rc;
	if (!out->destination || !*out->destination)
		return sj_fail(err, path, "destination", "missing");
	if (out->destination[0] != '/')
		return sj_fail(err, path, "destination", "must be an absolute path");
	return 0;
}

static int parse_mounts(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *a = sj_get(j, "", "mounts", JSON_ARRAY, &rc, err);
	char path[32];

	if (!a)
		return rc;
	s->mounts = xzalloc((json_array_size(a) + 1) * sizeof(*s->mounts));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(path, sizeof(path), "mounts[%zu]", i);
		s->n_mounts = i + 1;
		rc = parse_mount(json_array_get(a, i), path, &s->mounts[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const char *const hook_keys[VS_HOOK_NKINDS] = {
	[VS_HOOK_PRESTART] = "prestart",
	[VS_HOOK_CREATE_RUNTIME] = "createRuntime",
	[VS_HOOK_CREATE_CONTAINER] = "createContainer",
	[VS_HOOK_START_CONTAINER] = "startContainer",
	[VS_HOOK_POSTSTART] = "poststart",
	[VS_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(json_t *h, const char *path, struct vs_spec_hook *out, struct vs_err **err)
{
	int64_t timeout = 0;
	int rc;

	if (!json_is_object(h))
		return sj_fail(err, path, NULL, "expected an object");
	if ((rc = sj_string(h, path, "path", &out->path, err)) < 0 ||
	    (rc = sj_strv(h, path, "args", &out->args, err)) < 0 ||
	    (rc = sj_strv(h, path, "env", &out->env, err)) < 0 ||
	    (rc = sj_int64(h, path, "timeout", &timeout, err)) < 0)
		return rc;
	if (!out->path || out->path[0] != '/')
		return sj_fail(err, path, "path", "must be an absolute path");
	if (timeout < 0 || timeout > 86400)
		return sj_fail(err, path, "timeout", "out of range");
	out->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *hooks = sj_get(j, "", "hooks", JSON_OBJECT, &rc, err);
	char path[64];

	if (!hooks)
		return rc;
	for (int k = 0; k < VS_HOOK_NKINDS; k++) {
		json_t *a = sj_get(hooks, "hooks", hook_keys[k], JSON_ARRAY, &rc, err);

		if (rc < 0)
			return rc;
		if (!a)
			continue;
		s->hooks[k].v = xzalloc((json_array_size(a) + 1) * sizeof(struct vs_spec_hook));
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(path, sizeof(path), "hooks.%s[%zu]", hook_keys[k], i);
			s->hooks[k].n = i + 1;
			rc = parse_hook(json_array_get(a, i), path, &s->hooks[k].v[i], err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int parse_annotations(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *a = sj_get(j, "", "annotations", JSON_OBJECT, &rc, err);
	const char *key;
	json_t *v;

	if (!a)
		return rc;
	json_object_foreach(a, key, v)
	{
		if (!json_is_string(v))
			return sj_fail(err, "annotations", key, "expected a string");
	}
	s->annotations = json_incref(a);
	return 0;
}

static int parse_top(json_t *j, struct vs_spec *s, struct vs_err **err)
{
	int rc;
	json_t *proc;

	if ((rc = sj_string(j, "", "ociVersion", &s->oci_version, err)) < 0 ||
	    (rc = parse_root(j, s, err)) < 0 ||
	    (rc = sj_string(j, "", "hostname", &s->hostname, err)) < 0 ||
	    (rc = sj_string(j, "", "domainname", &s->domainname, err)) < 0 ||
	    (rc = parse_mounts(j, s, err)) < 0 || (rc = parse_hooks(j, s, err)) < 0 ||
	    (rc = parse_annotations(j, s, err)) < 0)
		return rc;
	if (!s->oci_version)
		return vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "ociVersion: missing");
	proc = sj_get(j, "", "process", JSON_OBJECT, &rc, err);
	if (rc < 0)
		return rc;
	if (proc) {
		s->has_process = true;
		if ((rc = spec_parse_process(proc, "process", &s->process, err)) < 0)
			return rc;
	}
	return spec_parse_linux(j, s, err);
}

static json_t *load_json(const char *buf, size_t len, struct vs_err **err)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, 0, &jerr);

	if (!j) {
		vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "line %d column %d: %s", jerr.line,
			   jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "expected a JSON object");
		return NULL;
	}
	return j;
}

int vs_spec_parse(const char *buf, size_t len, struct vs_spec **out, struct vs_err **err)
{
	struct vs_spec *s;
	json_t *j = load_json(buf, len, err);
	int rc;

	if (!j)
		return spec_one_line(err, -EINVAL);
	s = xzalloc(sizeof(*s));
	vs_spec_resources_init(&s->resources);
	rc = parse_top(j, s, err);
	json_decref(j);
	if (rc < 0) {
		vs_spec_free(s);
		return spec_one_line(err, rc);
	}
	*out = s;
	return 0;
}

int vs_spec_load(const char *bundle, struct vs_spec **out, struct vs_err **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int rc = vs_read_file(path, SPEC_MAX_SIZE, &buf, &len);

	if (rc == -ENOENT)
		return vs_err_set(err, rc, "JSON specification file config.json not found");
	if (rc < 0)
		return vs_err_setsys(err, rc, "reading %s", path);
	return vs_spec_parse((const char *)buf, len, out, err);
}

int vs_spec_process_parse_text(const char *buf, size_t len, struct vs_spec_process *p,
			       struct vs_err **err)
{
	json_t *j = load_json(buf, len, err);
	int rc;

	if (!j)
		return spec_one_line(err, vs_err_wrap(err, -EINVAL, "process.json"));
	rc = spec_parse_process(j, "process", p, err);
	json_decref(j);
	return spec_one_line(err, rc);
}

const struct vs_spec_ns *vs_spec_find_ns(const struct vs_spec *s, int type)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (s->namespaces[i].type == type)
			return &s->namespaces[i];
	return NULL;
}

void vs_spec_process_clear(struct vs_spec_process *p)
{
	free(p->additional_gids);
	vs_strv_free(&p->args);
	vs_strv_free(&p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

static void free_hooks(struct vs_spec *s)
{
	for (int k = 0; k < VS_HOOK_NKINDS; k++) {
		for (size_t i = 0; i < s->hooks[k].n; i++) {
			free(s->hooks[k].v[i].path);
			vs_strv_free(&s->hooks[k].v[i].args);
			vs_strv_free(&s->hooks[k].v[i].env);
		}
		free(s->hooks[k].v);
	}
}

static void free_linux(struct vs_spec *s)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	free(s->namespaces);
	free(s->uid_mappings);
	free(s->gid_mappings);
	vs_strv_free(&s->sysctl);
	vs_spec_resources_clear(&s->resources);
	free(s->cgroups_path);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	vs_strv_free(&s->masked_paths);
	vs_strv_free(&s->readonly_paths);
	free(s->rootfs_propagation);
	free(s->mount_label);
	spec_seccomp_free(s->seccomp);
}

void vs_spec_free(struct vs_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	vs_spec_process_clear(&s->process);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		vs_strv_free(&s->mounts[i].options);
		free(s->mounts[i].uid_mappings);
		free(s->mounts[i].gid_mappings);
	}
	free(s->mounts);
	free_hooks(s);
	json_decref(s->annotations);
	free_linux(s);
	free(s);
}
