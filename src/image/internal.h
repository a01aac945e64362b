/* src/image's private declarations: the store's handle and paths, sha256,
 * the layer unpacker, the import sources (a tar's files staged by content,
 * or a layout directory) and the images an import is about to commit. */
#ifndef VS_IMAGE_INTERNAL_H
#define VS_IMAGE_INTERNAL_H

#include "image/image.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha256:" + 64 hex digits + NUL */
#define VS_DIGEST_LEN 72
#define VS_DIGEST_PREFIX "sha256:"
#define VS_REF_NAME "org.opencontainers.image.ref.name"
#define VS_IMPORTED "io.vessel.image.imported"
#define VS_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define VS_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define VS_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define VS_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define VS_MT_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define VS_MT_LAYER_ZST "application/vnd.oci.image.layer.v1.tar+zstd"
/* metadata files (index.json, manifests, configs) are read whole, at most */
#define VS_IMAGE_MAX_META (16u << 20)

struct vs_image_store {
	char *dir; /* <root>/images */
	int dirfd; /* O_PATH of dir */
	int lockfd; /* <root>/images/lock, flock'ed while the index changes */
};

/* ---- sha256 (digest.c) ---- */
struct vs_sha256;
struct vs_sha256 *vs_sha256_new(void);
void vs_sha256_update(struct vs_sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out (VS_DIGEST_LEN bytes) and frees h. */
void vs_sha256_final(struct vs_sha256 *h, char *out);
void vs_sha256_free(struct vs_sha256 *h);
/* True for "sha256:" + 64 lowercase hex digits. */
bool vs_digest_valid(const char *d);
/* The hex part of a valid digest. */
static inline const char *vs_digest_hex(const char *d)
{
	return d + sizeof(VS_DIGEST_PREFIX) - 1;
}

/* ---- store (store.c, index.c) ---- */
/* Exclusive (import's commit, rm, prune) or shared (list, inspect, export:
 * what they read stays while they read it). */
int store_lock(struct vs_image_store *s, struct vs_err **err);
int store_lock_shared(struct vs_image_store *s, struct vs_err **err);
void store_unlock(struct vs_image_store *s);
/* Reads index.json (an empty index when absent). Caller owns *out. */
int store_index_read(struct vs_image_store *s, json_t **out, struct vs_err **err);
/* Replaces index.json atomically (temp, fsync, rename). Under the lock. */
int store_index_write(struct vs_image_store *s, json_t *index, struct vs_err **err);
/* Reads blob digest whole (at most VS_IMAGE_MAX_META bytes). */
int store_blob_read(struct vs_image_store *s, const char *digest, char **buf, size_t *len,
		    struct vs_err **err);
/* "<dir>/blobs/sha256/<hex>" and "<dir>/layers/<hex>", malloc'ed. */
char *store_blob_path(struct vs_image_store *s, const char *digest);
char *store_layer_path(struct vs_image_store *s, const char *diff_id);
/* Makes <dir>/tmp/<pid>-<rand>, flock'ed for as long as *lockfd is open
 * (prune removes work directories whose lock it can take). */
int store_tmp_new(struct vs_image_store *s, char **path, int *lockfd, struct vs_err **err);
/* Normalises NAME[:TAG] into "name:tag" (":latest" by default); -EINVAL. */
int vs_image_ref_normalize(const char *in, char **out, struct vs_err **err);
/* The index entry (manifest descriptor) ref names, or NULL with -ENOENT
 * "no such image" (or -EINVAL for an ambiguous digest prefix) in *err. */
json_t *store_index_find(json_t *index, const char *ref, struct vs_err **err);
/* vs_image_inspect without taking the lock (the caller holds it). */
int store_inspect_locked(struct vs_image_store *s, const char *ref, struct vs_image_info *out,
			 struct vs_err **err);
/* Builds the info of index entry desc (a manifest descriptor). */
int store_info_load(struct vs_image_store *s, json_t *desc, struct vs_image_info *out,
		    struct vs_err **err);

/* ---- layer unpacking (unpack.c, unpack-entry.c) ---- */
struct vs_unpack_stats {
	uint64_t entries, bytes;
	char diff_id[VS_DIGEST_LEN]; /* sha256 of the decompressed stream */
};

/* Unpacks the layer blob open as blobfd (tar, gzip, zstd, ... as
 * libarchive reads them) into the empty directory dirfd, turning OCI
 * whiteouts into OverlayFS ones. Refuses absolute paths, "..", paths through
 * symlinks, hard links to outside the layer, more than lim's entries or
 * bytes, and overlay xattrs in the tarball. On failure dirfd's contents are
 * the caller's to remove. 0 or -errno with a one-line reason. */
int vs_layer_unpack(int blobfd, int dirfd /* -1: only hash */, const struct vs_image_limits *lim,
		    vs_image_progress_fn *progress, void *pctx, struct vs_unpack_stats *st,
		    struct vs_err **err);

/* Cleans an archive path: strips "./" and "/" prefixes and "." components.
 * Returns a malloc'ed relative path ("" for the root) or NULL for a path
 * with a ".." component or longer than PATH_MAX. *abs tells whether it
 * started with "/". */
char *vs_layer_path_clean(const char *p, bool *abs);

/* ---- import sources (source.c) ---- */
struct imp_file {
	char *name; /* path in the archive, cleaned */
	char *link; /* symlink/hard link: the name it stands for */
	char digest[VS_DIGEST_LEN];
	uint64_t size;
};

struct imp_src {
	int tmpfd; /* the import's work directory */
	char *tmp; /* its path */
	int dirfd; /* a layout directory, or -1 for a tar */
	struct imp_file *files; /* a tar's regular files and links, staged */
	size_t n_files;
	const struct vs_image_import_opts *opts;
};

/* Stages every file of the tar at path into the work directory under its
 * sha256. 0 or -errno. */
int src_scan_tar(struct imp_src *src, const char *path, struct vs_err **err);
/* Makes sure the file name of the source is staged; its digest into digest. */
int src_stage(struct imp_src *src, const char *name, char *digest, uint64_t *size,
	      struct vs_err **err);
/* Stages name and checks that it hashes to want (a blob named by digest). */
int src_stage_blob(struct imp_src *src, const char *want, int64_t want_size, struct vs_err **err);
/* Reads a staged file (metadata size cap) by digest. */
int src_read(struct imp_src *src, const char *digest, char **buf, size_t *len, struct vs_err **err);
/* Reads and parses a staged JSON file. */
int src_read_json(struct imp_src *src, const char *digest, json_t **out, struct vs_err **err);
/* Writes buf as a staged blob; its digest into digest. */
int src_put(struct imp_src *src, const void *buf, size_t len, char *digest, struct vs_err **err);
void src_clear(struct imp_src *src);
/* Classifies a tar: true when its first entries look like an OCI layout or
 * a docker-archive, false for a rootfs tarball. */
int src_tar_is_image(const char *path, bool *image, struct vs_err **err);

/* ---- an import's images, before commit (import.c) ---- */
struct imp_layer {
	char digest[VS_DIGEST_LEN];
	char diff_id[VS_DIGEST_LEN]; /* "" until known (a rootfs tarball) */
	char *media_type;
	uint64_t size;
};

struct imp_image {
	char *name; /* normalised */
	char manifest[VS_DIGEST_LEN];
	uint64_t manifest_size;
	char *manifest_mt; /* its media type (an OCI or docker v2 manifest) */
	char config[VS_DIGEST_LEN];
	struct imp_layer *layers;
	size_t n_layers;
};

struct imp_set {
	struct imp_image *v;
	size_t n;
};

/* Appends an image (takes name). */
struct imp_image *imp_set_add(struct imp_set *set, char *name);
void imp_set_clear(struct imp_set *set);

int import_oci(struct imp_src *src, struct imp_set *set, struct vs_err **err);
int import_docker(struct imp_src *src, struct imp_set *set, struct vs_err **err);
int import_rootfs(struct imp_src *src, const char *path, struct imp_set *set, struct vs_err **err);
/* Fills an imp_image's config digest and layers from its staged manifest. */
int import_manifest(struct imp_src *src, struct imp_image *img, struct vs_err **err);
/* Unpacks staged layer blob l->digest into <tmp>/L-<hex> (only hashes it
 * when !write), sets l->diff_id or checks it against the one it has. */
int import_unpack(struct imp_src *src, struct imp_layer *l, const char *label, bool write,
		  struct vs_err **err);
/* Stages the file at path (a rootfs tarball) as it is. */
int src_stage_path(struct imp_src *src, const char *path, char *digest, uint64_t *size,
		   struct vs_err **err);
/* The layer media type of a staged blob, from its magic (tar, gzip, zstd). */
const char *src_layer_media_type(struct imp_src *src, const char *digest);
/* Applies opts->name: with a name, exactly one image must be found. */
int import_name(struct imp_src *src, const char *found, size_t n_found, char **out,
		struct vs_err **err);

/* ---- json helpers (config.c) ---- */
/* A NULL-terminated copy of a JSON array of strings (NULL if not an array). */
int vs_json_strv(json_t *arr, const char *what, char ***out, struct vs_err **err);

#endif
