/* vs_image_import: stage and check everything in the import's work
 * directory, unpack the layers the store does not have yet (still there),
 * then under the store lock move blobs and layers into place and only then
 * name the images in index.json. A failure before the lock leaves the store
 * untouched; the work directory is removed in every case.
 *
 * Map: the import's image set | manifests (descriptor checks, config,
 * diff_ids) | unpacking (missing layers; compressed ones the store has are
 * hashed only) | commit (place blobs and layers, index.json) | the format
 * dispatch and vs_image_import. */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct imp_image *imp_set_add(struct imp_set *set, char *name)
{
	struct imp_image *img;

	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	img = &set->v[set->n++];
	memset(img, 0, sizeof(*img));
	img->name = name;
	return img;
}

void imp_set_clear(struct imp_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		for (size_t l = 0; l < set->v[i].n_layers; l++)
			free(set->v[i].layers[l].media_type);
		free(set->v[i].layers);
		free(set->v[i].name);
		free(set->v[i].manifest_mt);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int manifest_layer(struct imp_src *src, json_t *d, struct imp_layer *l, struct vs_err **err)
{
	const char *dg = json_string_value(json_object_get(d, "digest"));
	const char *mt = json_string_value(json_object_get(d, "mediaType"));
	json_t *size = json_object_get(d, "size");
	int rc;

	if (!dg || !json_is_integer(size))
		return vs_err_set(err, -EINVAL, "manifest: a layer without digest or size");
	if ((rc = src_stage_blob(src, dg, json_integer_value(size), err)) < 0)
		return rc;
	memcpy(l->digest, dg, VS_DIGEST_LEN);
	l->size = (uint64_t)json_integer_value(size);
	l->media_type = xstrdup(mt ?: VS_MT_LAYER);
	return 0;
}

int import_manifest(struct imp_src *src, struct imp_image *img, struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *m = NULL, *cfg = NULL;
	_cleanup_(vs_image_config_clear) struct vs_image_config c = { 0 };
	_cleanup_free_ char *buf = NULL;
	json_t *layers, *cd;
	size_t len;
	int rc;

	if ((rc = src_read_json(src, img->manifest, &m, err)) < 0)
		return rc;
	cd = json_object_get(m, "config");
	layers = json_object_get(m, "layers");
	if (!json_is_object(cd) || !json_is_array(layers))
		return vs_err_set(err, -EINVAL, "manifest %s: no config or layers", img->manifest);
	if ((rc = src_stage_blob(src, json_string_value(json_object_get(cd, "digest")) ?: "",
				 json_integer_value(json_object_get(cd, "size")), err)) < 0)
		return rc;
	memcpy(img->config, json_string_value(json_object_get(cd, "digest")), VS_DIGEST_LEN);
	if ((rc = src_read(src, img->config, &buf, &len, err)) < 0 ||
	    (rc = vs_image_config_parse(buf, len, &c, err)) < 0)
		return vs_err_wrap(err, rc, "config %s", img->config);
	if (c.n_diff_ids != json_array_size(layers))
		return vs_err_set(err, -EINVAL, "manifest %s: %zu layers but %zu diff_ids",
				  img->manifest, json_array_size(layers), c.n_diff_ids);
	img->layers = xzalloc((c.n_diff_ids + 1) * sizeof(*img->layers));
	for (size_t i = 0; i < c.n_diff_ids; i++, img->n_layers++) {
		if ((rc = manifest_layer(src, json_array_get(layers, i), &img->layers[i], err)) < 0)
			return rc;
		memcpy(img->layers[i].diff_id, c.diff_ids[i], VS_DIGEST_LEN);
	}
	return 0;
}

int import_unpack(struct imp_src *src, struct imp_layer *l, const char *label, bool write,
		  struct vs_err **err)
{
	_cleanup_free_ char *dir = xasprintf("L-%s", vs_digest_hex(l->digest));
	_cleanup_close_ int blob =
		openat(src->tmpfd, vs_digest_hex(l->digest), O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int dfd = -1;
	struct vs_unpack_stats st;
	int rc;

	if (blob < 0)
		return vs_err_setsys(err, -errno, "layer %s", l->digest);
	if (write && (mkdirat(src->tmpfd, dir, 0755) < 0 ||
		      (dfd = openat(src->tmpfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0))
		return vs_err_setsys(err, -errno, "layer %s", l->digest);
	if (src->opts->progress)
		src->opts->progress(src->opts->progress_ctx, label, 0, l->size);
	rc = vs_layer_unpack(blob, dfd, &src->opts->limits, src->opts->progress,
			     src->opts->progress_ctx, &st, err);
	if (rc < 0)
		return vs_err_wrap(err, rc, "layer %s", l->digest);
	if (l->diff_id[0] && strcmp(l->diff_id, st.diff_id) != 0)
		return vs_err_set(err, -EINVAL,
				  "layer %s is corrupt: it unpacks to %s, its config says %s",
				  l->digest, st.diff_id, l->diff_id);
	memcpy(l->diff_id, st.diff_id, VS_DIGEST_LEN);
	return 0;
}

/* Unpacks every layer not in the store yet (once per import). A layer the
 * store has is still decompressed and hashed, without writing, when its
 * blob is compressed: its diff_id claim is checked all the same. */
static int unpack_missing(struct vs_image_store *s, struct imp_src *src, struct imp_set *set,
			  struct vs_err **err)
{
	for (size_t i = 0; i < set->n; i++)
		for (size_t l = 0; l < set->v[i].n_layers; l++) {
			struct imp_layer *ly = &set->v[i].layers[l];
			_cleanup_free_ char *have = store_layer_path(s, ly->diff_id);
			_cleanup_free_ char *tmp = xasprintf("L-%s", vs_digest_hex(ly->digest));
			char label[64];
			int rc;

			bool in_store = access(have, F_OK) == 0;

			if (faccessat(src->tmpfd, tmp, F_OK, 0) == 0 ||
			    (in_store && strcmp(ly->digest, ly->diff_id) == 0))
				continue;
			snprintf(label, sizeof(label), "layer %zu/%zu", l + 1, set->v[i].n_layers);
			if ((rc = import_unpack(src, ly, label, !in_store, err)) < 0)
				return rc;
		}
	return 0;
}

/* Moves a staged file or directory into the store (the callers check
 * that it is not there yet). */
static int place(struct vs_image_store *s, struct imp_src *src, const char *from, const char *to,
		 struct vs_err **err)
{
	/* under the exclusive lock: nobody else places content meanwhile */
	if (renameat(src->tmpfd, from, s->dirfd, to) < 0)
		return vs_err_setsys(err, -errno, "moving %s into the store", from);
	return 0;
}

static int place_blob(struct vs_image_store *s, struct imp_src *src, const char *digest,
		      struct vs_err **err)
{
	_cleanup_free_ char *to = xasprintf("blobs/sha256/%s", vs_digest_hex(digest));
	struct stat st;

	if (fstatat(s->dirfd, to, &st, 0) == 0)
		return 0;
	return place(s, src, vs_digest_hex(digest), to, err);
}

static int place_image(struct vs_image_store *s, struct imp_src *src, struct imp_image *img,
		       struct vs_err **err)
{
	int rc;

	if ((rc = place_blob(s, src, img->manifest, err)) < 0 ||
	    (rc = place_blob(s, src, img->config, err)) < 0)
		return rc;
	for (size_t l = 0; l < img->n_layers; l++) {
		_cleanup_free_ char *from = xasprintf("L-%s", vs_digest_hex(img->layers[l].digest));
		_cleanup_free_ char *to =
			xasprintf("layers/%s", vs_digest_hex(img->layers[l].diff_id));

		if ((rc = place_blob(s, src, img->layers[l].digest, err)) < 0)
			return rc;
		if (faccessat(s->dirfd, to, F_OK, 0) != 0 &&
		    (rc = place(s, src, from, to, err)) < 0)
			return rc;
	}
	return 0;
}

static void index_put(json_t *index, struct imp_image *img, const char *now)
{
	json_t *ms = json_object_get(index, "manifests");
	size_t i;
	json_t *d;

	json_array_foreach(ms, i, d)
	{
		const char *n = json_string_value(
			json_object_get(json_object_get(d, "annotations"), VS_REF_NAME));

		if (n && strcmp(n, img->name) == 0) {
			json_array_remove(ms, i);
			break;
		}
	}
	json_array_append_new(ms,
			      json_pack("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType",
					img->manifest_mt ?: VS_MT_MANIFEST, "digest", img->manifest,
					"size", (json_int_t)img->manifest_size, "annotations",
					VS_REF_NAME, img->name, VS_IMPORTED, now));
}

static int commit(struct vs_image_store *s, struct imp_src *src, struct imp_set *set,
		  struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	char now[32];
	time_t t = time(NULL);
	int rc;

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if ((rc = store_lock(s, err)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < set->n; i++)
		rc = place_image(s, src, &set->v[i], err);
	if (rc == 0)
		rc = store_index_read(s, &index, err);
	for (size_t i = 0; rc == 0 && i < set->n; i++)
		index_put(index, &set->v[i], now);
	if (rc == 0)
		rc = store_index_write(s, index, err);
	store_unlock(s);
	return rc;
}

static int read_source(struct imp_src *src, const char *path, struct imp_set *set,
		       struct vs_err **err)
{
	struct stat st;
	bool image;
	int rc;

	if (stat(path, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		src->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (src->dirfd < 0)
			return vs_err_setsys(err, -errno, "%s", path);
		if (faccessat(src->dirfd, "index.json", F_OK, 0) < 0)
			return vs_err_set(err, -EINVAL,
					  "%s: not an OCI image layout (no index.json)", path);
		return import_oci(src, set, err);
	}
	if ((rc = src_tar_is_image(path, &image, err)) < 0)
		return rc;
	if (!image)
		return import_rootfs(src, path, set, err);
	if ((rc = src_scan_tar(src, path, err)) < 0)
		return rc;
	if (src_stage(src, "index.json", (char[VS_DIGEST_LEN]){ 0 }, &(uint64_t){ 0 }, NULL) == 0)
		return import_oci(src, set, err);
	if (src_stage(src, "manifest.json", (char[VS_DIGEST_LEN]){ 0 }, &(uint64_t){ 0 }, NULL) ==
	    0)
		return import_docker(src, set, err);
	return vs_err_set(
		err, -EINVAL,
		"%s: neither an OCI archive (index.json) nor a docker-archive (manifest.json)",
		path);
}

static char **names_of(const struct imp_set *set)
{
	char **v = xzalloc((set->n + 1) * sizeof(*v));

	for (size_t i = 0; i < set->n; i++)
		v[i] = xstrdup(set->v[i].name);
	return v;
}

int vs_image_import(struct vs_image_store *s, const char *path,
		    const struct vs_image_import_opts *o, char ***names, struct vs_err **err)
{
	struct imp_src src = { .dirfd = -1, .tmpfd = -1, .opts = o };
	_cleanup_(imp_set_clear) struct imp_set set = { 0 };
	_cleanup_close_ int lockfd = -1;
	int rc;

	if ((rc = store_tmp_new(s, &src.tmp, &lockfd, err)) < 0)
		return rc;
	src.tmpfd = open(src.tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rc = src.tmpfd < 0 ? vs_err_setsys(err, -errno, "%s", src.tmp) :
			     read_source(&src, path, &set, err);
	if (rc == 0 && set.n == 0)
		rc = vs_err_set(err, -EINVAL, "%s: no image in it", path);
	if (rc == 0)
		rc = unpack_missing(s, &src, &set, err);
	if (rc == 0)
		rc = commit(s, &src, &set, err);
	if (rc == 0)
		*names = names_of(&set);
	src_clear(&src);
	if (src.tmpfd >= 0)
		close(src.tmpfd);
	vs_rm_rf_at(AT_FDCWD, src.tmp);
	free(src.tmp);
	return rc;
}
