/* Reading the store (list, inspect) and shrinking it (rm, prune). rm and
 * prune hold the store lock, so they never see an import half-placed: an
 * import moves its blobs and layers in and names them in the index within
 * one hold of the same lock.
 *
 * Map: loading an image's info (manifest, config, layers) | list, inspect |
 * prune (what the index keeps, the sweep of blobs/, layers/, tmp/) | rm. */
#include "image/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* an import's work directory without its lock yet is left alone this long */
#define TMP_GRACE_S 60

static int load_layers(struct vs_image_store *s, json_t *man, struct vs_image_info *out,
		       struct vs_err **err)
{
	json_t *layers = json_object_get(man, "layers"), *l;
	size_t i;

	if (!json_is_array(layers) || json_array_size(layers) != out->config.n_diff_ids)
		return vs_err_set(err, -EINVAL, "image %s: manifest and config disagree on layers",
				  out->name);
	out->layers = xzalloc((json_array_size(layers) + 1) * sizeof(*out->layers));
	json_array_foreach(layers, i, l)
	{
		struct vs_image_layer *ly = &out->layers[out->n_layers++];

		ly->digest = xstrdup(json_string_value(json_object_get(l, "digest")) ?: "");
		ly->media_type = xstrdup(json_string_value(json_object_get(l, "mediaType")) ?: "");
		ly->size = (uint64_t)json_integer_value(json_object_get(l, "size"));
		ly->diff_id = xstrdup(out->config.diff_ids[i]);
		ly->dir = store_layer_path(s, ly->diff_id);
		out->size += ly->size;
	}
	return 0;
}

static int load_manifest(struct vs_image_store *s, struct vs_image_info *out, struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *man = NULL;
	_cleanup_free_ char *mb = NULL, *cb = NULL;
	json_error_t je;
	size_t len;
	int rc;

	if ((rc = store_blob_read(s, out->digest, &mb, &len, err)) < 0)
		return rc;
	if (!(man = json_loadb(mb, len, 0, &je)))
		return vs_err_set(err, -EINVAL, "manifest %s: %s", out->digest, je.text);
	out->config_digest = xstrdup(
		json_string_value(json_object_get(json_object_get(man, "config"), "digest")) ?: "");
	if (!vs_digest_valid(out->config_digest))
		return vs_err_set(err, -EINVAL, "manifest %s: no config digest", out->digest);
	if ((rc = store_blob_read(s, out->config_digest, &cb, &len, err)) < 0 ||
	    (rc = vs_image_config_parse(cb, len, &out->config, err)) < 0)
		return rc;
	out->size = len;
	return load_layers(s, man, out, err);
}

int store_info_load(struct vs_image_store *s, json_t *desc, struct vs_image_info *out,
		    struct vs_err **err)
{
	json_t *a = json_object_get(desc, "annotations");
	const char *dg = json_string_value(json_object_get(desc, "digest"));
	int rc;

	memset(out, 0, sizeof(*out));
	if (!vs_digest_valid(dg))
		return vs_err_set(err, -EINVAL, "index.json: an entry without a sha256 digest");
	out->digest = xstrdup(dg);
	out->media_type =
		xstrdup(json_string_value(json_object_get(desc, "mediaType")) ?: VS_MT_MANIFEST);
	out->name = xstrdup(json_string_value(json_object_get(a, VS_REF_NAME)) ?: "<none>");
	out->imported = xstrdup(json_string_value(json_object_get(a, VS_IMPORTED)) ?: "");
	if ((rc = load_manifest(s, out, err)) < 0)
		vs_image_info_clear(out);
	return rc;
}

void vs_image_info_clear(struct vs_image_info *i)
{
	for (size_t l = 0; l < i->n_layers; l++) {
		free(i->layers[l].digest);
		free(i->layers[l].diff_id);
		free(i->layers[l].media_type);
		free(i->layers[l].dir);
	}
	free(i->layers);
	free(i->name);
	free(i->digest);
	free(i->media_type);
	free(i->config_digest);
	free(i->imported);
	vs_image_config_clear(&i->config);
	memset(i, 0, sizeof(*i));
}

static int list_locked(struct vs_image_store *s, struct vs_image_info **out, size_t *n,
		       struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	struct vs_image_info *v;
	json_t *ms, *d;
	size_t i;
	int rc;

	if ((rc = store_index_read(s, &index, err)) < 0)
		return rc;
	ms = json_object_get(index, "manifests");
	v = xzalloc((json_array_size(ms) + 1) * sizeof(*v));
	json_array_foreach(ms, i, d)
	{
		if ((rc = store_info_load(s, d, &v[i], err)) < 0) {
			while (i--)
				vs_image_info_clear(&v[i]);
			free(v);
			return rc;
		}
	}
	*out = v;
	*n = json_array_size(ms);
	return 0;
}

int vs_image_list(struct vs_image_store *s, struct vs_image_info **out, size_t *n,
		  struct vs_err **err)
{
	int rc = store_lock_shared(s, err);

	if (rc < 0)
		return rc;
	rc = list_locked(s, out, n, err);
	store_unlock(s);
	return rc;
}

int store_inspect_locked(struct vs_image_store *s, const char *ref, struct vs_image_info *out,
			 struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	json_t *d;
	int rc;

	if ((rc = store_index_read(s, &index, err)) < 0)
		return rc;
	if (!(d = store_index_find(index, ref, err)))
		return (*err)->code;
	return store_info_load(s, d, out, err);
}

int vs_image_inspect(struct vs_image_store *s, const char *ref, struct vs_image_info *out,
		     struct vs_err **err)
{
	int rc = store_lock_shared(s, err);

	if (rc < 0)
		return rc;
	rc = store_inspect_locked(s, ref, out, err);
	store_unlock(s);
	return rc;
}

static const char *entry_ref_name(json_t *d)
{
	return json_string_value(json_object_get(json_object_get(d, "annotations"), VS_REF_NAME)) ?:
		       "";
}

/* ---- prune ---- */

struct keep {
	char **v; /* hex digests of blobs and layers the index needs */
	size_t n;
};

static void keep_add(struct keep *k, const char *digest)
{
	if (!vs_digest_valid(digest))
		return;
	k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = xstrdup(vs_digest_hex(digest));
}

static bool keep_has(const struct keep *k, const char *hex)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], hex) == 0)
			return true;
	return false;
}

static int keep_collect(struct vs_image_store *s, json_t *index, struct keep *k,
			struct vs_err **err)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		struct vs_image_info info;
		int rc = store_info_load(s, d, &info, err);

		if (rc < 0)
			return rc; /* never prune from an index we cannot read */
		keep_add(k, info.digest);
		keep_add(k, info.config_digest);
		for (size_t l = 0; l < info.n_layers; l++) {
			keep_add(k, info.layers[l].digest);
			keep_add(k, info.layers[l].diff_id);
		}
		vs_image_info_clear(&info);
	}
	return 0;
}

/* A work directory is stale when its importer's flock can be taken (or,
 * without a lock file, when it is older than the grace period). Returns
 * true for a stale one; *held then keeps its lock until the caller has
 * removed it, so an importer racing for the same lock finds its lock file
 * unlinked (store_tmp_new checks) instead of writing into a removed tree. */
static bool tmp_stale(int dirfd, const char *name, int *held)
{
	_cleanup_free_ char *lk = xasprintf("%s/.lock", name);
	_cleanup_close_ int fd = openat(dirfd, lk, O_RDWR | O_CLOEXEC);
	struct stat st;

	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			return false;
		*held = steal_fd(fd);
		return true;
	}
	return fstatat(dirfd, name, &st, 0) == 0 && st.st_mtime + TMP_GRACE_S < time(NULL);
}

enum sweep_kind { SWEEP_BLOBS, SWEEP_LAYERS, SWEEP_TMP };

static int sweep(struct vs_image_store *s, const char *sub, enum sweep_kind kind,
		 const struct keep *k, uint64_t *count, uint64_t *bytes)
{
	int fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;

	if (!d)
		return fd >= 0 ? (close(fd), -ENOMEM) : -errno;
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_close_ int held = -1;

		if (kind == SWEEP_TMP ? !tmp_stale(dirfd(d), de->d_name, &held) :
					keep_has(k, de->d_name))
			continue;
		if (bytes && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			*bytes += (uint64_t)st.st_size;
		rc = vs_rm_rf_at(dirfd(d), de->d_name);
		*count += rc == 0;
	}
	closedir(d);
	return rc;
}

static int prune_locked(struct vs_image_store *s, struct vs_image_prune_stats *st,
			struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	struct keep k = { 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = store_index_read(s, &index, err)) == 0 &&
	    (rc = keep_collect(s, index, &k, err)) == 0) {
		if ((rc = sweep(s, "blobs/sha256", SWEEP_BLOBS, &k, &st->blobs, &st->bytes)) < 0 ||
		    (rc = sweep(s, "layers", SWEEP_LAYERS, &k, &st->layers, NULL)) < 0 ||
		    (rc = sweep(s, "tmp", SWEEP_TMP, &k, &st->tmp, NULL)) < 0)
			vs_err_setsys(err, rc, "pruning %s", s->dir);
	}
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	return rc;
}

int vs_image_prune(struct vs_image_store *s, struct vs_image_prune_stats *st, struct vs_err **err)
{
	int rc = store_lock(s, err);

	if (rc < 0)
		return rc;
	rc = prune_locked(s, st, err);
	store_unlock(s);
	return rc;
}

static int rm_locked(struct vs_image_store *s, const char *ref, const struct vs_image_users *users,
		     struct vs_err **err)
{
	_cleanup_(json_decrefp) json_t *index = NULL;
	_cleanup_free_ char *who = NULL;
	struct vs_image_prune_stats st;
	json_t *ms, *d, *x;
	size_t i;
	int rc;

	if ((rc = store_index_read(s, &index, err)) < 0)
		return rc;
	if (!(d = store_index_find(index, ref, err)))
		return (*err)->code;
	if (users && users->in_use &&
	    users->in_use(users->ctx, entry_ref_name(d),
			  json_string_value(json_object_get(d, "digest")), &who))
		return vs_err_set(err, -EBUSY, "image %s is in use%s%s", ref, who ? " by " : "",
				  who ? who : "");
	ms = json_object_get(index, "manifests");
	json_array_foreach(ms, i, x) if (x == d) break;
	json_array_remove(ms, i);
	if ((rc = store_index_write(s, index, err)) < 0)
		return rc;
	return prune_locked(s, &st, err);
}

int vs_image_rm(struct vs_image_store *s, const char *ref, const struct vs_image_users *users,
		struct vs_err **err)
{
	int rc = store_lock(s, err);

	if (rc < 0)
		return rc;
	rc = rm_locked(s, ref, users, err);
	store_unlock(s);
	return rc;
}
