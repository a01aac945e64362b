/* Disks of the store: disk images kept under <root>/disks/ (one file each,
 * <name>.qcow2 or <name>.raw), made and read through src/block. What
 * `/v1/disks` serves; a VM takes one as `--disk <root>/disks/NAME.qcow2`.
 * Every refusal is one line in *err and leaves nothing half-made. */
#ifndef VS_SVC_DISK_H
#define VS_SVC_DISK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_svc;

#define VS_DISK_DIR "disks"
#define VS_DISK_NAME_MAX 64
#define VS_DISK_SIZE_MAX (64ULL << 40) /* 64 TiB */

struct vs_disk_spec {
	const char *name; /* [A-Za-z0-9][A-Za-z0-9_.-]*, at most VS_DISK_NAME_MAX */
	const char *format; /* "qcow2" (default) or "raw" */
	uint64_t size; /* bytes, > 0; with backing, 0: the backing disk's size */
	const char *backing; /* NULL, or another disk's name (qcow2 only): a linked clone */
};

struct vs_disk_snapshot {
	char *id, *name;
	int64_t date_sec;
	uint64_t vm_state_size;
};

struct vs_disk_info {
	char *name, *path, *format;
	uint64_t virtual_size, actual_size; /* bytes; actual: allocated on the host */
	char *backing; /* the backing file as stored, or NULL */
	struct vs_disk_snapshot *snaps;
	size_t nsnaps;
};

void vs_disk_info_clear(struct vs_disk_info *info);
void vs_disk_info_list_free(struct vs_disk_info *v, size_t n);
json_t *vs_disk_info_to_json(const struct vs_disk_info *info);

/* Creates the disk: -EINVAL (name, format, size), -EEXIST (name taken),
 * -ENOENT (no such backing disk), or -errno. On success *out is filled if
 * not NULL. */
int vs_svc_disk_create(struct vs_svc *svc, const struct vs_disk_spec *spec,
		       struct vs_disk_info *out, struct vs_err **err);
/* Every disk, by name. */
int vs_svc_disk_list(struct vs_svc *svc, struct vs_disk_info **out, size_t *n, struct vs_err **err);
/* One disk: 0, -ENOENT ("no disk named X") or -errno. */
int vs_svc_disk_info(struct vs_svc *svc, const char *name, struct vs_disk_info *out,
		     struct vs_err **err);
/* Takes an internal snapshot (qcow2 only: else -EOPNOTSUPP); refused while
 * a VM has the disk open (its lock: -EBUSY). */
int vs_svc_disk_snapshot(struct vs_svc *svc, const char *name, const char *snap,
			 struct vs_err **err);
/* Removes the disk; refused (-EBUSY) while open (locked) or the backing of
 * another disk. */
int vs_svc_disk_remove(struct vs_svc *svc, const char *name, struct vs_err **err);

#endif
