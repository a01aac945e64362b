/* A plain rootfs tarball (tar, maybe compressed) as a one-layer image: the
 * file itself is the layer blob, its diff_id is found while unpacking, and
 * the config and manifest are generated (PATH set, Cmd /bin/sh, as
 * `podman import` does). */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int put_json(struct imp_src *src, json_t *j, char *digest, uint64_t *size,
		    struct vs_err **err)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	if (!text)
		xoom();
	*size = strlen(text);
	return src_put(src, text, strlen(text), digest, err);
}

static int make_config(struct imp_src *src, struct imp_image *img, uint64_t *size,
		       struct vs_err **err)
{
	char now[32];
	time_t t = time(NULL);

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return put_json(
		src,
		json_pack("{s:s, s:s, s:s, s:{s:[s], s:[s]}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}",
			  "created", now, "architecture", "amd64", "os", "linux", "config", "Env",
			  DEFAULT_PATH, "Cmd", "/bin/sh", "rootfs", "type", "layers", "diff_ids",
			  img->layers[0].diff_id, "history", "created", now, "created_by",
			  "vessel image import"),
		img->config, size, err);
}

int import_rootfs(struct imp_src *src, const char *path, struct imp_set *set, struct vs_err **err)
{
	struct imp_image *img;
	struct imp_layer *l;
	uint64_t cfg_size;
	char *name = NULL;
	int rc;

	if (!src->opts->name)
		return vs_err_set(err, -EINVAL, "%s is a rootfs tarball: give the image a NAME",
				  path);
	if ((rc = vs_image_ref_normalize(src->opts->name, &name, err)) < 0)
		return rc;
	img = imp_set_add(set, name);
	img->layers = l = xzalloc(sizeof(*l));
	img->n_layers = 1;
	if ((rc = src_stage_path(src, path, l->digest, &l->size, err)) < 0)
		return rc;
	l->media_type = xstrdup(src_layer_media_type(src, l->digest));
	if ((rc = import_unpack(src, l, "unpacking", true, err)) < 0 ||
	    (rc = make_config(src, img, &cfg_size, err)) < 0)
		return rc;
	return put_json(src,
			json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}",
				  "schemaVersion", 2, "mediaType", VS_MT_MANIFEST, "config",
				  "mediaType", VS_MT_CONFIG, "digest", img->config, "size",
				  (json_int_t)cfg_size, "layers", "mediaType", l->media_type,
				  "digest", l->digest, "size", (json_int_t)l->size),
			img->manifest, &img->manifest_size, err);
}
