/* docker-archive tarballs (`docker save`, `podman save --format
 * docker-archive`): manifest.json lists each image's config file, its
 * RepoTags and its layer tars. The config and layers are kept as they are
 * (the config is an OCI-compatible image config; the layers become blobs
 * whose media type follows their magic) and an OCI manifest is generated. */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

/* A file named after its digest ("<hex>.json", "blobs/sha256/<hex>") must
 * hash to it. */
static int check_named(const char *name, const char *digest, struct vs_err **err)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	size_t hex = strspn(base, "0123456789abcdef");

	if (hex == 64 && strncmp(base, vs_digest_hex(digest), 64) != 0)
		return vs_err_set(err, -EINVAL, "%s is corrupt: its content hashes to %s", name,
				  digest);
	return 0;
}

static int stage_named(struct imp_src *src, json_t *jname, char *digest, uint64_t *size,
		       struct vs_err **err)
{
	const char *name = json_string_value(jname);
	int rc;

	if (!name)
		return vs_err_set(err, -EINVAL, "manifest.json: a file name is not a string");
	if ((rc = src_stage(src, name, digest, size, err)) < 0)
		return rc;
	return check_named(name, digest, err);
}

static json_t *oci_manifest(struct imp_src *src, struct imp_image *img, uint64_t cfg_size)
{
	json_t *layers = json_array();

	for (size_t i = 0; i < img->n_layers; i++)
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
							img->layers[i].media_type, "digest",
							img->layers[i].digest, "size",
							(json_int_t)img->layers[i].size));
	(void)src;
	return json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			 VS_MT_MANIFEST, "config", "mediaType", VS_MT_CONFIG, "digest", img->config,
			 "size", (json_int_t)cfg_size, "layers", layers);
}

static int add_layers(struct imp_src *src, json_t *layers, struct imp_image *img,
		      struct vs_err **err)
{
	_cleanup_(vs_image_config_clear) struct vs_image_config c = { 0 };
	_cleanup_free_ char *buf = NULL;
	size_t len, i;
	json_t *l;
	int rc;

	if ((rc = src_read(src, img->config, &buf, &len, err)) < 0 ||
	    (rc = vs_image_config_parse(buf, len, &c, err)) < 0)
		return rc;
	if (!json_is_array(layers) || json_array_size(layers) != c.n_diff_ids)
		return vs_err_set(err, -EINVAL,
				  "manifest.json: Layers does not match the config's %zu diff_ids",
				  c.n_diff_ids);
	img->layers = xzalloc((c.n_diff_ids + 1) * sizeof(*img->layers));
	json_array_foreach(layers, i, l)
	{
		struct imp_layer *ly = &img->layers[img->n_layers++];

		if ((rc = stage_named(src, l, ly->digest, &ly->size, err)) < 0)
			return rc;
		memcpy(ly->diff_id, c.diff_ids[i], VS_DIGEST_LEN);
		ly->media_type = xstrdup(src_layer_media_type(src, ly->digest));
		if (strcmp(ly->media_type, VS_MT_LAYER) == 0 &&
		    strcmp(ly->digest, ly->diff_id) != 0)
			return vs_err_set(
				err, -EINVAL,
				"layer %s is corrupt: its content hashes to %s, the config says %s",
				json_string_value(l), ly->digest, ly->diff_id);
	}
	return 0;
}

static int add_image(struct imp_src *src, json_t *m, size_t n_found, struct imp_set *set,
		     struct vs_err **err)
{
	const char *tag = json_string_value(json_array_get(json_object_get(m, "RepoTags"), 0));
	_cleanup_(json_decrefp) json_t *man = NULL;
	_cleanup_free_ char *text = NULL;
	struct imp_image *img;
	uint64_t cfg_size;
	char *name = NULL;
	int rc;

	if ((rc = import_name(src, tag, n_found, &name, err)) < 0)
		return rc;
	img = imp_set_add(set, name);
	if ((rc = stage_named(src, json_object_get(m, "Config"), img->config, &cfg_size, err)) <
		    0 ||
	    (rc = add_layers(src, json_object_get(m, "Layers"), img, err)) < 0)
		return rc;
	man = oci_manifest(src, img, cfg_size);
	text = json_dumps(man, JSON_COMPACT);
	img->manifest_size = strlen(text);
	return src_put(src, text, strlen(text), img->manifest, err);
}

int import_docker(struct imp_src *src, struct imp_set *set, struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *list = NULL;
	char dg[VS_DIGEST_LEN];
	uint64_t size;
	size_t i;
	json_t *m;
	int rc;

	if ((rc = src_stage(src, "manifest.json", dg, &size, err)) < 0 ||
	    (rc = src_read_json(src, dg, &list, err)) < 0)
		return vs_err_wrap(err, rc, "manifest.json");
	if (!json_is_array(list))
		return vs_err_set(err, -EINVAL, "manifest.json: not an array");
	json_array_foreach(list, i,
			   m) if ((rc = add_image(src, m, json_array_size(list), set, err)) <
				  0) return vs_err_wrap(err, rc, "manifest.json[%zu]", i);
	return 0;
}
