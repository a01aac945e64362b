/* OCI image layouts (image-spec image-layout.md), from a directory or an
 * archive: the images are index.json's manifests named by
 * org.opencontainers.image.ref.name (or io.containerd.image.name); a nested
 * index (a multi-platform image) contributes its linux/amd64 manifest. */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define NESTED_MAX 4

struct cand {
	json_t *desc[64]; /* manifest descriptors (borrowed from the JSON kept alive) */
	const char *name[64];
	json_t *keep[NESTED_MAX + 1];
	size_t n, n_keep;
};

static const char *desc_name(json_t *d, const char *inherited)
{
	json_t *a = json_object_get(d, "annotations");
	const char *n = json_string_value(json_object_get(a, "io.containerd.image.name"));

	return n ?: json_string_value(json_object_get(a, VS_REF_NAME)) ?: inherited;
}

static bool platform_ok(json_t *d)
{
	json_t *p = json_object_get(d, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));

	return !p || ((!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, "amd64") == 0));
}

static int walk(struct imp_src *src, json_t *index, const char *name, int depth, struct cand *c,
		struct vs_err **err);

static int nested(struct imp_src *src, json_t *d, const char *name, int depth, struct cand *c,
		  struct vs_err **err)
{
	const char *dg = json_string_value(json_object_get(d, "digest"));
	json_t *j = NULL;
	int rc;

	if (depth >= NESTED_MAX)
		return vs_err_set(err, -ELOOP, "index: nested more than %d deep", NESTED_MAX);
	if ((rc = src_stage_blob(src, dg ?: "", json_integer_value(json_object_get(d, "size")),
				 err)) < 0 ||
	    (rc = src_read_json(src, dg, &j, err)) < 0)
		return rc;
	c->keep[c->n_keep++] = j;
	return walk(src, j, name, depth + 1, c, err);
}

static int walk(struct imp_src *src, json_t *index, const char *name, int depth, struct cand *c,
		struct vs_err **err)
{
	json_t *ms = json_object_get(index, "manifests"), *d;
	size_t i;
	int rc;

	if (!json_is_array(ms))
		return vs_err_set(err, -EINVAL, "index: no manifests array");
	json_array_foreach(ms, i, d)
	{
		const char *mt = json_string_value(json_object_get(d, "mediaType")) ?: "";
		const char *n = desc_name(d, name);

		if (strcmp(mt, VS_MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0) {
			if ((rc = nested(src, d, n, depth, c, err)) < 0)
				return rc;
			continue;
		}
		if (strcmp(mt, VS_MT_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
			continue;
		if (!platform_ok(d) || (depth > 0 && c->n && c->name[c->n - 1] == n))
			continue;
		if (c->n == VS_ARRAY_SIZE(c->desc))
			return vs_err_set(err, -EFBIG, "index: more than %zu images", c->n);
		c->desc[c->n] = d;
		c->name[c->n++] = n;
	}
	return 0;
}

static int add_image(struct imp_src *src, json_t *d, char *name, struct imp_set *set,
		     struct vs_err **err)
{
	const char *dg = json_string_value(json_object_get(d, "digest"));
	json_t *size = json_object_get(d, "size");
	struct imp_image *img = imp_set_add(set, name);
	int rc;

	if ((rc = src_stage_blob(src, dg ?: "",
				 json_is_integer(size) ? json_integer_value(size) : -1, err)) < 0)
		return rc;
	memcpy(img->manifest, dg, VS_DIGEST_LEN);
	img->manifest_size = (uint64_t)json_integer_value(size);
	img->manifest_mt =
		xstrdup(json_string_value(json_object_get(d, "mediaType")) ?: VS_MT_MANIFEST);
	return import_manifest(src, img, err);
}

int import_oci(struct imp_src *src, struct imp_set *set, struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	char dg[VS_DIGEST_LEN];
	struct cand c = { 0 };
	uint64_t size;
	int rc;

	if ((rc = src_stage(src, "index.json", dg, &size, err)) < 0 ||
	    (rc = src_read_json(src, dg, &index, err)) < 0)
		return vs_err_wrap(err, rc, "index.json");
	rc = walk(src, index, NULL, 0, &c, err);
	for (size_t i = 0; rc == 0 && i < c.n; i++) {
		char *name = NULL;

		rc = import_name(src, c.name[i], c.n, &name, err);
		if (rc == 0)
			rc = add_image(src, c.desc[i], name, set, err);
	}
	for (size_t i = 0; i < c.n_keep; i++)
		json_decref(c.keep[i]);
	return rc;
}

int import_name(struct imp_src *src, const char *found, size_t n_found, char **out,
		struct vs_err **err)
{
	const char *want = src->opts->name;

	if (want && n_found > 1)
		return vs_err_set(err, -EINVAL,
				  "the archive holds %zu images: import it without a NAME",
				  n_found);
	if (!want && !found)
		return vs_err_set(err, -EINVAL, "the archive does not name its image: give a NAME");
	return vs_image_ref_normalize(want ?: found, out, err);
}
