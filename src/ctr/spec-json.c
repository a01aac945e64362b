/* Typed getters over jansson for the config.json parser. Every failure is a
 * one-line "config.json: <path>: expected ..." error. */
#include "ctr/spec-internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sj_fail(struct vs_err **err, const char *path, const char *key, const char *what)
{
	return vs_err_set(err, -EINVAL, VS_SPEC_ERR_PREFIX "%s%s%s: %s", path,
			  *path && key ? "." : "", key ? key : "", what);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "a value";
	}
}

json_t *sj_get(json_t *obj, const char *path, const char *key, json_type type, int *rc,
	       struct vs_err **err)
{
	json_t *v = json_object_get(obj, key);
	char what[64];

	*rc = 0;
	if (!v || json_is_null(v))
		return NULL;
	if (json_typeof(v) == type || (type == JSON_TRUE && json_is_boolean(v)))
		return v;
	snprintf(what, sizeof(what), "expected %s", type_name(type));
	*rc = sj_fail(err, path, key, what);
	return NULL;
}

int sj_string(json_t *obj, const char *path, const char *key, char **out, struct vs_err **err)
{
	int rc;
	json_t *v = sj_get(obj, path, key, JSON_STRING, &rc, err);

	if (v) {
		free(*out);
		*out = xstrdup(json_string_value(v));
	}
	return rc;
}

int sj_bool(json_t *obj, const char *path, const char *key, bool *out, struct vs_err **err)
{
	int rc;
	json_t *v = sj_get(obj, path, key, JSON_TRUE, &rc, err);

	if (v)
		*out = json_is_true(v);
	return rc;
}

int sj_int64(json_t *obj, const char *path, const char *key, int64_t *out, struct vs_err **err)
{
	int rc;
	json_t *v = sj_get(obj, path, key, JSON_INTEGER, &rc, err);

	if (v)
		*out = json_integer_value(v);
	return rc;
}

int sj_uint64(json_t *obj, const char *path, const char *key, uint64_t *out, struct vs_err **err)
{
	int rc;
	json_t *v = sj_get(obj, path, key, JSON_INTEGER, &rc, err);

	if (!v)
		return rc;
	/* jansson stores integers as json_int_t (long long); rlimits such as
	 * RLIM_INFINITY are written as 18446744073709551615, which jansson
	 * rejects as too big, so a negative value here is a real error. */
	if (json_integer_value(v) < 0)
		return sj_fail(err, path, key, "expected a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int sj_uint32(json_t *obj, const char *path, const char *key, uint32_t *out, struct vs_err **err)
{
	int64_t v = -1;
	int rc = sj_int64(obj, path, key, &v, err);

	if (rc < 0 || !json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
		return rc;
	if (v < 0 || v > UINT32_MAX)
		return sj_fail(err, path, key, "out of range for a 32-bit unsigned integer");
	*out = (uint32_t)v;
	return 0;
}

int sj_strv(json_t *obj, const char *path, const char *key, struct vs_strv *out,
	    struct vs_err **err)
{
	int rc;
	json_t *a = sj_get(obj, path, key, JSON_ARRAY, &rc, err);
	size_t i, n;

	if (!a)
		return rc;
	n = json_array_size(a);
	for (i = 0; i < n; i++)
		if (!json_is_string(json_array_get(a, i)))
			return sj_fail(err, path, key, "expected an array of strings");
	vs_strv_free(out);
	out->v = xzalloc((n + 1) * sizeof(char *));
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (strlen(s) != json_string_length(json_array_get(a, i))) {
			out->n = i;
			return sj_fail(err, path, key, "string contains a NUL byte");
		}
		out->v[i] = xstrdup(s);
	}
	out->n = n;
	return 0;
}

int spec_one_line(struct vs_err **err, int rc)
{
	if (rc < 0 && err && *err)
		for (char *c = (*err)->msg; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	return rc;
}
