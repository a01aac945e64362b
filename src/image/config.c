/* The image config (image-spec config.md): the fields a container runtime
 * honours, parsed into struct vs_image_config. Unknown fields are ignored,
 * wrong types refused in one line. */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

void vs_image_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int vs_json_strv(json_t *arr, const char *what, char ***out, struct vs_err **err)
{
	char **v;
	size_t i;
	json_t *s;

	*out = NULL;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return vs_err_set(err, -EINVAL, "image config: %s is not an array", what);
	v = xzalloc((json_array_size(arr) + 1) * sizeof(*v));
	json_array_foreach(arr, i, s)
	{
		if (!json_is_string(s)) {
			vs_image_strv_free(v);
			return vs_err_set(err, -EINVAL, "image config: %s[%zu] is not a string",
					  what, i);
		}
		v[i] = xstrdup(json_string_value(s));
	}
	*out = v;
	return 0;
}

static int str_field(json_t *obj, const char *key, char **out, struct vs_err **err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return vs_err_set(err, -EINVAL, "image config: %s is not a string", key);
	if (json_string_length(v))
		*out = xstrdup(json_string_value(v));
	return 0;
}

/* ExposedPorts is an object whose keys are the ports ("80/tcp": {}). */
static int ports(json_t *obj, char ***out, struct vs_err **err)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return vs_err_set(err, -EINVAL, "image config: ExposedPorts is not an object");
	*out = xzalloc((json_object_size(obj) + 1) * sizeof(char *));
	json_object_foreach(obj, k, v)(*out)[i++] = xstrdup(k);
	return 0;
}

static int diff_ids(json_t *rootfs, struct vs_image_config *c, struct vs_err **err)
{
	int rc;

	if (!json_is_object(rootfs))
		return vs_err_set(err, -EINVAL, "image config: no rootfs");
	if ((rc = vs_json_strv(json_object_get(rootfs, "diff_ids"), "rootfs.diff_ids", &c->diff_ids,
			       err)) < 0)
		return rc;
	for (c->n_diff_ids = 0; c->diff_ids && c->diff_ids[c->n_diff_ids]; c->n_diff_ids++)
		if (!vs_digest_valid(c->diff_ids[c->n_diff_ids]))
			return vs_err_set(err, -EINVAL,
					  "image config: diff_id '%.80s' is not a sha256 digest",
					  c->diff_ids[c->n_diff_ids]);
	return 0;
}

static int runtime_fields(json_t *cfg, struct vs_image_config *c, struct vs_err **err)
{
	int rc;

	if (!cfg || json_is_null(cfg))
		return 0;
	if (!json_is_object(cfg))
		return vs_err_set(err, -EINVAL, "image config: config is not an object");
	if ((rc = vs_json_strv(json_object_get(cfg, "Entrypoint"), "Entrypoint", &c->entrypoint,
			       err)) < 0 ||
	    (rc = vs_json_strv(json_object_get(cfg, "Cmd"), "Cmd", &c->cmd, err)) < 0 ||
	    (rc = vs_json_strv(json_object_get(cfg, "Env"), "Env", &c->env, err)) < 0 ||
	    (rc = ports(json_object_get(cfg, "ExposedPorts"), &c->exposed_ports, err)) < 0 ||
	    (rc = str_field(cfg, "WorkingDir", &c->working_dir, err)) < 0 ||
	    (rc = str_field(cfg, "User", &c->user, err)) < 0 ||
	    (rc = str_field(cfg, "StopSignal", &c->stop_signal, err)) < 0)
		return rc;
	return 0;
}

int vs_image_config_parse(const char *json, size_t len, struct vs_image_config *out,
			  struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct vs_image_config c = { 0 };
	json_error_t je;
	int rc;

	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j))
		return vs_err_set(err, -EINVAL, "image config: %s", j ? "not an object" : je.text);
	if ((rc = runtime_fields(json_object_get(j, "config"), &c, err)) < 0 ||
	    (rc = diff_ids(json_object_get(j, "rootfs"), &c, err)) < 0 ||
	    (rc = str_field(j, "os", &c.os, err)) < 0 ||
	    (rc = str_field(j, "architecture", &c.architecture, err)) < 0 ||
	    (rc = str_field(j, "created", &c.created, err)) < 0) {
		vs_image_config_clear(&c);
		return rc;
	}
	*out = c;
	return 0;
}

void vs_image_config_clear(struct vs_image_config *c)
{
	vs_image_strv_free(c->entrypoint);
	vs_image_strv_free(c->cmd);
	vs_image_strv_free(c->env);
	vs_image_strv_free(c->exposed_ports);
	vs_image_strv_free(c->diff_ids);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	free(c->os);
	free(c->architecture);
	free(c->created);
	memset(c, 0, sizeof(*c));
}
