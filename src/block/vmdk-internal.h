/* Shared by src/block/vmdk*.c: the on-disk sparse header, the parsed
 * descriptor and the open image. */
#ifndef VS_BLOCK_VMDK_INTERNAL_H
#define VS_BLOCK_VMDK_INTERNAL_H

#include "block/block.h"
#include "block/vmdk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VMDK_MAGIC 0x564d444bu /* "KDMV" little-endian */
#define VMDK_FLAG_NL_DETECT (1u << 0)
#define VMDK_FLAG_RGD (1u << 1)
#define VMDK_FLAG_ZERO_GRAIN (1u << 2)
#define VMDK_FLAG_COMPRESSED (1u << 16)
#define VMDK_FLAG_MARKERS (1u << 17)
#define VMDK_GD_AT_END 0xffffffffffffffffull
#define VMDK_COMPRESS_DEFLATE 1
#define VMDK_SECTOR 512u
#define VMDK_GRAIN_DEFAULT 128u /* sectors: 64 KiB */
#define VMDK_GTES 512u
#define VMDK_MAX_GRAIN 4096u /* sectors (2 MiB): larger is refused */
#define VMDK_MAX_DESC (1u << 20) /* bytes of descriptor text */
#define VMDK_MAX_LINE 4096u
#define VMDK_MAX_EXTENTS 4096u
#define VMDK_DESC_SECTORS 20u /* embedded descriptor space qemu-img leaves */
/* Grain data a table may point to past the file's end (as qcow2 and VDI). */
#define VMDK_MAX_PAST_EOF (64ull << 20)

struct vmdk_sparse_header {
	uint32_t magic, version, flags;
	uint64_t capacity, grain_size, desc_offset, desc_size;
	uint32_t gtes_per_gt;
	uint64_t rgd_offset, gd_offset, overhead;
	uint8_t unclean, nl1, nonl, nl2a, nl2b;
	uint16_t compress;
	uint8_t pad[433];
} __attribute__((packed));
_Static_assert(sizeof(struct vmdk_sparse_header) == 512, "VMDK header is one sector");

enum vmdk_ext_type { VMDK_EXT_SPARSE, VMDK_EXT_FLAT, VMDK_EXT_ZERO };

struct vmdk_extent {
	enum vmdk_ext_type type;
	uint64_t start, sectors; /* virtual sectors [start, start + sectors) */
	uint64_t flat_offset; /* FLAT: first sector in the file */
	char *name; /* as in the descriptor */
	char *path; /* resolved */
	int fd;
	bool ro;
	struct vmdk_extent_info info;
	/* SPARSE */
	uint64_t grain; /* sectors */
	uint32_t gtes;
	uint64_t n_gd;
	uint32_t *gd, *rgd; /* GT sector offsets, host order (rgd may be NULL) */
	uint64_t gd_off, rgd_off; /* sectors; 0: none */
	uint32_t **gt; /* loaded grain tables (n_gd; NULL until used) */
	uint8_t *gt_dirty; /* n_gd bytes: table changed since the last flush */
	bool gd_dirty;
	bool compressed, markers, zeroed_grain;
	uint64_t next; /* sector where the next grain or table goes */
	uint64_t size; /* the file's size: at open, then as we grow it (lock held) */
	bool eos; /* stream: the file ends with an end-of-stream marker */
};

struct vmdk {
	struct vs_blk blk;
	char *desc_text; /* the descriptor as read (or written) */
	char *create_type;
	uint32_t cid, parent_cid;
	char *parent_hint; /* parentFileNameHint: a snapshot's parent disk, as named */
	char *parent_path; /* the same resolved against the descriptor's directory */
	struct vs_blk *parent; /* open read-only (NULL: none, or VS_BLK_NO_BACKING) */
	size_t n_ext;
	struct vmdk_extent *ext;
	bool barriers;
	int desc_fd; /* the descriptor file, locked (may be an extent's fd) */
	pthread_mutex_t lock; /* tables, allocation */
	struct vmdk_extent_info *infos;
};

/* vmdk-desc.c: parses descriptor text into v (create type, CIDs, extents
 * with names and types; relative names get dir, the descriptor path up to
 * its last '/', in front, as qemu-img names them). keys_only: the text
 * inside a sparse extent, whose extent lines qemu-img ignores (the file
 * itself is the disk).  Returns 0 or -errno with a
 * one-line *err naming path. */
int vmdk_desc_parse(struct vmdk *v, const char *text, const char *dir, const char *path,
		    bool keys_only, struct vs_err **err);

/* vmdk-desc.c: the descriptor qemu-img writes for these extents. Returns a
 * malloc'ed string. */
struct vmdk_desc_head {
	uint32_t cid, parent_cid; /* parent_cid: UINT32_MAX without a parent */
	const char *parent; /* parentFileNameHint, or NULL */
	const char *create_type, *adapter;
	bool compat6;
};
char *vmdk_desc_write(const struct vmdk_desc_head *h, const struct vmdk_extent *ext, size_t n,
		      uint64_t total_sectors);

/* vmdk-sparse.c: a sparse extent's header and directories (fd open). */
int vmdk_sparse_load(struct vmdk_extent *e, uint64_t file_size, struct vs_err **err);
int vmdk_sparse_read(struct vmdk *v, struct vmdk_extent *e, uint8_t *buf, uint64_t sector,
		     uint64_t in, uint64_t n);
int vmdk_sparse_write(struct vmdk *v, struct vmdk_extent *e, const uint8_t *buf, uint64_t sector,
		      uint64_t in, uint64_t n);
/* Status of the grain holding byte off of the extent: *len bytes from off. */
int vmdk_sparse_status(struct vmdk *v, struct vmdk_extent *e, uint64_t off, uint64_t len,
		       struct vs_blk_status *st);
int vmdk_sparse_zero(struct vmdk *v, struct vmdk_extent *e, uint64_t off, uint64_t len,
		     bool discard);
/* Held-back tables: barrier, dirty tables (and redundant copies), directory. */
int vmdk_sparse_flush(struct vmdk *v, struct vmdk_extent *e);
void vmdk_sparse_free(struct vmdk_extent *e);
/* Counts grain entries pointing past EOF (qemu-img's check). */
int vmdk_sparse_check(struct vmdk *v, struct vmdk_extent *e, struct vs_blk_check_result *res);

/* vmdk-create.c: a fresh sparse extent file of sectors (header, descriptor
 * space when desc is given, both directories and all tables). */
int vmdk_sparse_create(int fd, uint64_t sectors, bool stream, bool zeroed_grain, const char *desc);

#endif
