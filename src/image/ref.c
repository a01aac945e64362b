/* Image names: "NAME[:TAG]" normalised to "name:tag", and the lookup of a
 * reference in the index (by name, with ":latest" and "localhost/" implied,
 * or by a unique digest prefix). */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define REF_MAX 255
#define TAG_MAX 128
#define PREFIX_MIN 4

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("._-/:", c);
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > TAG_MAX || t[0] == '.' || t[0] == '-')
		return false;
	for (; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("_.-", *t))
			return false;
	return true;
}

int vs_image_ref_normalize(const char *in, char **out, struct vs_err **err)
{
	const char *slash = strrchr(in, '/'), *colon = strrchr(in, ':');
	size_t n = strlen(in), name_len;

	if (colon && slash && colon < slash)
		colon = NULL; /* "host:5000/name": a registry port, not a tag */
	name_len = colon ? (size_t)(colon - in) : n;
	if (n == 0 || n > REF_MAX || name_len == 0 || in[0] == '/' || in[name_len - 1] == '/' ||
	    strstr(in, "//") || (colon && !tag_ok(colon + 1)))
		goto bad;
	for (size_t i = 0; i < name_len; i++)
		if (!name_char(in[i]))
			goto bad;
	*out = colon ? xstrdup(in) : xasprintf("%s:latest", in);
	return 0;
bad:
	return vs_err_set(err, -EINVAL, "invalid image name '%.80s' (lowercase name[:tag])", in);
}

static const char *entry_name(json_t *d)
{
	return json_string_value(json_object_get(json_object_get(d, "annotations"), VS_REF_NAME));
}

static json_t *by_name(json_t *ms, const char *name)
{
	size_t i;
	json_t *d;

	json_array_foreach(ms, i,
			   d) if (entry_name(d) && strcmp(entry_name(d), name) == 0) return d;
	return NULL;
}

static json_t *by_digest(json_t *ms, const char *ref, bool *ambiguous)
{
	size_t n = strlen(ref), i;
	json_t *d, *hit = NULL;

	if (strncmp(ref, VS_DIGEST_PREFIX, 7) == 0)
		ref += 7, n -= 7;
	if (n < PREFIX_MIN || strspn(ref, "0123456789abcdef") != n)
		return NULL;
	json_array_foreach(ms, i, d)
	{
		const char *dg = json_string_value(json_object_get(d, "digest"));

		if (!vs_digest_valid(dg) || strncmp(vs_digest_hex(dg), ref, n) != 0)
			continue;
		if (hit && strcmp(json_string_value(json_object_get(hit, "digest")), dg) != 0)
			*ambiguous = true;
		hit = d;
	}
	return hit;
}

/* The index entry ref names; NULL (and *err) when there is none. */
json_t *store_index_find(json_t *index, const char *ref, struct vs_err **err)
{
	json_t *ms = json_object_get(index, "manifests"), *d = NULL;
	_cleanup_free_ char *norm = NULL, *local = NULL;
	bool ambiguous = false;

	if (vs_image_ref_normalize(ref, &norm, NULL) == 0) {
		local = xasprintf("localhost/%s", norm);
		d = by_name(ms, norm) ?: by_name(ms, local);
	}
	if (!d)
		d = by_digest(ms, ref, &ambiguous);
	if (ambiguous)
		return vs_err_set(err, -EINVAL, "image digest prefix '%.80s' is ambiguous", ref),
		       NULL;
	if (!d)
		vs_err_set(err, -ENOENT, "no such image: %.200s", ref);
	return d;
}
