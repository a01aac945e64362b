/* Container images: a content-addressed store under <root>/images, import
 * of OCI layouts, docker-archives and rootfs tarballs, listing, removal,
 * export, the parsed image config, and the overlay mount of an image.
 *
 * The store is an OCI image layout (image-spec 1.1 "image-layout"):
 *   <root>/images/oci-layout, index.json   images named by the annotation
 *                                           org.opencontainers.image.ref.name
 *   <root>/images/blobs/sha256/<hex>       manifests, configs, layer blobs
 *   <root>/images/layers/<hex>/            each layer unpacked once, by diff_id,
 *                                           with OverlayFS whiteouts
 *   <root>/images/tmp/<import>/            work of imports in progress
 *   <root>/images/lock                      flock: index updates and prune
 * index.json is replaced by write + rename under the lock, after every blob
 * and layer it names is in place: nothing half-imported is ever listed.
 *
 * Every function that can fail returns 0 or -errno and fills *err. */
#ifndef VS_IMAGE_IMAGE_H
#define VS_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;
struct vs_err;
struct vs_image_store;

/* The state root: $VESSEL_ROOT, else /var/lib/vessel. (The CLI's --root is
 * wired to this at the merge with the control plane.) Never NULL. */
const char *vs_image_default_root(void);

/* Opens (creating what is missing) <root>/images. */
int vs_image_store_open(const char *root, struct vs_image_store **out, struct vs_err **err);
void vs_image_store_free(struct vs_image_store *s);

/* Limits on hostile layers (and outer archives), per layer. 0 = default. */
struct vs_image_limits {
	uint64_t max_entries; /* tar entries; default VS_IMAGE_MAX_ENTRIES */
	uint64_t max_bytes; /* decompressed bytes; default VS_IMAGE_MAX_BYTES */
	uint64_t max_ratio; /* decompressed/compressed past 256 MiB; VS_IMAGE_MAX_RATIO */
};
#define VS_IMAGE_MAX_ENTRIES (1u << 20)
#define VS_IMAGE_MAX_BYTES (64ULL << 30)
#define VS_IMAGE_MAX_RATIO 4096

/* Progress of a long step: phase is "reading", "unpacking" (with the layer
 * counted in the text), done/total in bytes (total 0 when unknown). */
typedef void vs_image_progress_fn(void *ctx, const char *phase, uint64_t done, uint64_t total);

struct vs_image_import_opts {
	const char *name; /* NAME[:TAG] for the image, or NULL: names from the archive */
	struct vs_image_limits limits;
	vs_image_progress_fn *progress;
	void *progress_ctx;
};

/* Imports path: an OCI image layout directory, an OCI archive (tar, maybe
 * compressed), a docker-archive, or a plain rootfs tarball (one layer, a
 * generated config; needs o->name). Every blob's digest is checked before
 * anything enters the store. On success *names (NULL-terminated, caller
 * frees with vs_image_strv_free) are the names imported. */
int vs_image_import(struct vs_image_store *s, const char *path,
		    const struct vs_image_import_opts *o, char ***names, struct vs_err **err);

/* The image config fields vessel run honours (image-spec config.md). Arrays
 * are NULL-terminated, NULL when the config leaves them unset. */
struct vs_image_config {
	char **entrypoint;
	char **cmd;
	char **env; /* "K=V" */
	char **exposed_ports; /* "80/tcp" */
	char *working_dir, *user, *stop_signal;
	char *os, *architecture, *created;
	char **diff_ids; /* rootfs.diff_ids, bottom layer first */
	size_t n_diff_ids;
};

/* Parses an image config; 0 or -EINVAL with a one-line reason. */
int vs_image_config_parse(const char *json, size_t len, struct vs_image_config *out,
			  struct vs_err **err);
void vs_image_config_clear(struct vs_image_config *c);

struct vs_image_layer {
	char *digest; /* blob digest "sha256:..." */
	char *diff_id; /* digest of the uncompressed tar */
	char *media_type;
	uint64_t size; /* blob size */
	char *dir; /* <root>/images/layers/<hex> */
};

struct vs_image_info {
	char *name; /* "name:tag" */
	char *digest; /* manifest digest: the image's id */
	char *media_type; /* the manifest's (OCI, or docker v2 from an OCI layout) */
	char *config_digest;
	char *imported; /* RFC 3339 time of the import */
	uint64_t size; /* config + layer blobs */
	struct vs_image_layer *layers; /* bottom first */
	size_t n_layers;
	struct vs_image_config config;
};

/* Every image of the index. *out is an array of *n infos (caller frees each
 * with vs_image_info_clear, then the array). */
int vs_image_list(struct vs_image_store *s, struct vs_image_info **out, size_t *n,
		  struct vs_err **err);

/* The info as the JSON of `vessel image ls --format json` (keys Name,
 * Digest, ConfigDigest, Created, Imported, Architecture, Os, Size, Config,
 * Layers). A new reference. */
struct json_t *vs_image_info_to_json(const struct vs_image_info *i);

/* Looks an image up by name ("name:tag"; "name" means ":latest"; a
 * "localhost/" prefix may be left out) or by a unique prefix of its digest
 * (4 hex digits at least). -ENOENT "no such image" when absent. */
int vs_image_inspect(struct vs_image_store *s, const char *ref, struct vs_image_info *out,
		     struct vs_err **err);
void vs_image_info_clear(struct vs_image_info *i);

/* Who uses images: the hook the container layer provides so that rm refuses
 * an image in use. in_use returns true (and may set *who, malloc'ed, to
 * the user's name for the message) when the image with manifest digest is
 * in use. NULL users: nothing is in use. */
struct vs_image_users {
	bool (*in_use)(void *ctx, const char *name, const char *digest, char **who);
	void *ctx;
};

/* Removes the name ref from the index (-EBUSY when users says it is in use)
 * and then the blobs and layers no other image needs. */
int vs_image_rm(struct vs_image_store *s, const char *ref, const struct vs_image_users *users,
		struct vs_err **err);

struct vs_image_prune_stats {
	uint64_t blobs, layers, tmp; /* what was removed */
	uint64_t bytes; /* blob bytes freed */
};

/* Removes blobs and unpacked layers that no image of the index names, and
 * the work directories of imports that died. Takes the store lock. */
int vs_image_prune(struct vs_image_store *s, struct vs_image_prune_stats *st, struct vs_err **err);

/* Writes the image as an OCI archive (tar of an OCI layout, with the name as
 * org.opencontainers.image.ref.name), as `podman load` reads it. The file
 * appears only when complete (temp + rename). */
int vs_image_export(struct vs_image_store *s, const char *ref, const char *path,
		    struct vs_err **err);

/* Mounts the image's rootfs on target: an overlay whose lowerdirs are its
 * layers (top layer first, as overlayfs wants), with upper and work (which
 * must be directories on one filesystem). Uses fsopen/fsconfig
 * ("lowerdir+", one layer at a time) and falls back to mount(2) with a
 * lowerdir list. Needs CAP_SYS_ADMIN. The caller unmounts. */
int vs_image_overlay_mount(const struct vs_image_info *img, const char *upper, const char *work,
			   const char *target, struct vs_err **err);

void vs_image_strv_free(char **v);

#endif
