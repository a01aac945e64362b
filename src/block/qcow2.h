/* qcow2 (versions 2 and 3, QEMU's docs/interop/qcow2.txt): what the CLI and
 * other subsystems use beyond the generic block interface. */
#ifndef VS_BLOCK_QCOW2_H
#define VS_BLOCK_QCOW2_H

#include "block/block.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

#define QCOW2_COMPRESS_ZLIB 0
#define QCOW2_COMPRESS_ZSTD 1

enum qcow2_prealloc {
	QCOW2_PREALLOC_OFF,
	QCOW2_PREALLOC_METADATA,
	QCOW2_PREALLOC_FALLOC,
	QCOW2_PREALLOC_FULL
};

struct qcow2_create_opts {
	uint64_t size;
	uint64_t cluster_size; /* 512 B .. 2 MiB, power of two; 0: 64 KiB */
	unsigned version; /* 2 or 3; 0: 3 */
	unsigned refcount_bits; /* 1..64, power of two; 0: 16 */
	int compression_type; /* QCOW2_COMPRESS_* (v3 only for zstd) */
	enum qcow2_prealloc prealloc;
	const char *backing; /* backing file name as stored, or NULL */
	const char *backing_fmt; /* "raw"/"qcow2", required with backing */
};

struct qcow2_info {
	unsigned version;
	uint64_t cluster_size;
	unsigned refcount_bits;
	int compression_type;
	bool dirty, corrupt, lazy_refcounts, extended_l2;
	const char *backing; /* as stored in the image, or NULL */
	const char *backing_full; /* the path it resolves to (relative to the
				   * image's directory), as qemu-img shows it */
	const char *backing_fmt; /* from the header extension, or NULL */
	unsigned nb_snapshots;
};

struct qcow2_snapshot_info {
	char *id;
	char *name;
	uint64_t vm_state_size;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t disk_size;
	uint64_t icount; /* UINT64_MAX when absent */
};

/* True if buf (4 bytes) holds the qcow2 magic. */
bool qcow2_is_magic(const uint8_t *buf);

/* Opens path as qcow2 with its backing chain (unless VS_BLK_NO_BACKING;
 * backing images read-only, locked as such: block/file.h). Returns 0 and
 * *out, or -errno with a one-line *err (-ELOOP: a backing loop or a chain
 * deeper than 64). */
int qcow2_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err);

/* Creates path (truncating it). Returns 0 or -errno with *err. */
int qcow2_create(const char *path, const struct qcow2_create_opts *o, struct vs_err **err);

/* True if b is a qcow2 image (then the calls below apply). */
bool qcow2_is(const struct vs_blk *b);

/* Fills *info; strings stay owned by b. */
void qcow2_get_info(struct vs_blk *b, struct qcow2_info *info);

/* The backing image opened under b (NULL if none or not opened). */
struct vs_blk *qcow2_backing(struct vs_blk *b);

/* Writes one cluster (len ≤ cluster size, cluster-aligned off, the rest
 * zero-padded) compressed, if the cluster is unallocated and compression
 * saves space; otherwise writes it normally. Returns 0 or -errno. */
int qcow2_write_compressed(struct vs_blk *b, const void *buf, size_t len, uint64_t off);
uint64_t qcow2_cluster_size(const struct vs_blk *b);

/* Consistency check (QEMU's rules); with repair, b must be writable.
 * Returns 0 (see *res for findings) or -errno with *err. */
int qcow2_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		struct vs_err **err);

/* Internal snapshots. list: *out is an array of *n entries (free with
 * qcow2_snapshot_list_free). The others return 0 or -errno with *err. */
int qcow2_snapshot_list(struct vs_blk *b, struct qcow2_snapshot_info **out, size_t *n);
void qcow2_snapshot_list_free(struct qcow2_snapshot_info *s, size_t n);
int qcow2_snapshot_create(struct vs_blk *b, const char *name, struct vs_err **err);
int qcow2_snapshot_apply(struct vs_blk *b, const char *name, struct vs_err **err);
int qcow2_snapshot_delete(struct vs_blk *b, const char *name, struct vs_err **err);

#endif
