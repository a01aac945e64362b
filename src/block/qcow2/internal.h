/* qcow2 driver internals shared by the files of src/block/qcow2.
 *
 * Locking: q->layout is a rwlock. Plain reads and overwrites of clusters that
 * are allocated with refcount 1 hold it shared; everything that changes the
 * cluster layout (allocation, discard, zeroing, resize, snapshots, check)
 * holds it exclusive. q->meta (a mutex) guards the caches and in-memory
 * tables while the layout lock is held shared. Order: layout, then meta. */
#ifndef VS_BLOCK_QCOW2_INTERNAL_H
#define VS_BLOCK_QCOW2_INTERNAL_H

#include "block/block.h"
#include "block/qcow2.h"
#include "common/io.h"

#include <assert.h>
#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

struct vs_err;

#define QCOW2_MAGIC 0x514649fbU /* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MAX_L1_BYTES (32ULL << 20) /* as QEMU: bounds allocation */
#define QCOW2_MAX_RT_BYTES (8ULL << 20)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_CHAIN 64
#define QCOW2_MAX_SNAP_EXTRA 1024
#define QCOW2_MAX_SIZE (1ULL << 56) /* offsets have 56 bits */
/* Writes may reach this far past the end of the file (or of what we have
 * allocated past it); a table entry pointing further is corruption. */
#define QCOW2_EOF_SLACK (64ULL << 20)

/* Metadata roles for the overlap checks (overlap.c), QEMU's QCOW2_OL_* bits
 * and order. QCOW2_OL_DATA: a guest data write, which may overlap none. */
#define QCOW2_OL_DATA 0u
#define QCOW2_OL_HEADER (1u << 0)
#define QCOW2_OL_ACTIVE_L1 (1u << 1)
#define QCOW2_OL_ACTIVE_L2 (1u << 2)
#define QCOW2_OL_REFCOUNT_TABLE (1u << 3)
#define QCOW2_OL_REFCOUNT_BLOCK (1u << 4)
#define QCOW2_OL_SNAPSHOT_TABLE (1u << 5)
#define QCOW2_OL_INACTIVE_L1 (1u << 6)
#define QCOW2_OL_NBITS 7
#define QCOW2_OL_ALL ((1u << QCOW2_OL_NBITS) - 1)

#define QCOW2_OFLAG_COPIED (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO 1ULL
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ULL
/* Bits an entry must not have set (qcow2.txt; QEMU's L1E_RESERVED_MASK and
 * L2E_STD_RESERVED_MASK: the compressed flag is reserved in L1 entries). */
#define QCOW2_L1E_RESERVED 0x7f000000000001ffULL
#define QCOW2_L2E_RESERVED 0x3f000000000001feULL

#define QCOW2_INCOMPAT_DIRTY (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ULL << 4)
#define QCOW2_INCOMPAT_KNOWN \
	(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION)
#define QCOW2_COMPAT_LAZY (1ULL << 0)

#define QCOW2_EXT_END 0x00000000U
#define QCOW2_EXT_BACKING_FMT 0xe2792acaU
#define QCOW2_EXT_FEATURES 0x6803f857U
#define QCOW2_EXT_BITMAPS 0x23852875U
#define QCOW2_EXT_CRYPTO 0x0537be77U
#define QCOW2_AUTOCLEAR_BITMAPS (1ULL << 0)

/* On-disk header, big-endian (qcow2.txt "Header"). */
struct qcow2_disk_header {
	uint32_t magic;
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	/* version 3 */
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
	uint8_t pad[7];
} __attribute__((packed));
static_assert(sizeof(struct qcow2_disk_header) == 112, "qcow2 header layout");

/* Byte offsets of header fields we update in place. */
#define QCOW2_HDR_OFF_SIZE 24
#define QCOW2_HDR_OFF_L1 36 /* l1_size (4) + l1_table_offset (8) */
#define QCOW2_HDR_OFF_RT 48 /* refcount_table_offset (8) + clusters (4) */
#define QCOW2_HDR_OFF_SNAP 60 /* nb_snapshots (4) + snapshots_offset (8) */
#define QCOW2_HDR_OFF_INCOMPAT 72
#define QCOW2_HDR_OFF_AUTOCLEAR 88

struct qcow2_snapshot {
	uint64_t l1_offset;
	uint32_t l1_size;
	char *id;
	char *name;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t vm_state_size;
	uint64_t disk_size;
	uint64_t icount;
	uint32_t extra_size; /* as read; we write 24 */
};

/* A table cache: cluster-sized buffers keyed by file offset (cache.c). */
struct qcow2_cache_slot {
	uint64_t off; /* 0: empty (offset 0 is the header, never cached) */
	uint64_t used;
	bool dirty; /* updated here, not yet in the file (L2 tables, barriers) */
	uint8_t *buf;
};

struct qcow2_cache {
	struct qcow2_cache_slot *slots;
	unsigned n;
	unsigned ndirty;
	uint64_t tick;
};

/* One cluster holding metadata, and its roles (QCOW2_OL_*). */
struct qcow2_ol_ent {
	uint64_t cluster;
	unsigned mask;
};

/* A reference to drop once the metadata that replaced it is durable. */
struct qcow2_release {
	uint64_t l2e; /* the old entry (an L2 table: a plain cluster entry) */
	bool punch; /* punch the cluster out of the file if it becomes free */
};

struct qcow2 {
	struct vs_blk blk;
	int fd;
	int dfd; /* O_DIRECT twin for guest data (VS_BLK_DIRECT), else -1 */
	unsigned depth; /* position in the backing chain */
	struct qcow2 *child; /* the image this one backs while opening, or NULL */
	dev_t dev; /* the file's identity, for backing loops */
	ino_t ino;
	unsigned version;
	unsigned cluster_bits;
	uint64_t cluster_size;
	unsigned l2_bits; /* log2 of entries per L2 table */
	uint64_t l2_entries;
	uint32_t header_length;
	uint64_t incompat, compat, autoclear;
	unsigned refcount_order;
	unsigned rb_bits; /* log2 of refcounts per refcount block */
	uint64_t refcount_max;
	int compression_type;

	uint64_t *l1; /* host-endian copy of the active L1 table */
	uint32_t l1_size;
	uint64_t l1_offset;

	uint64_t *rt; /* host-endian refcount table */
	uint64_t rt_entries;
	uint64_t rt_offset;
	uint32_t rt_clusters;

	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t snapshots_len; /* bytes of the on-disk table */
	struct qcow2_snapshot *snaps;

	/* bitmaps extension (kept, not used: see check.c and check_writable) */
	uint32_t nb_bitmaps;
	uint64_t bitmap_dir_off, bitmap_dir_size;

	char *backing_name;
	char *backing_path; /* backing_name resolved against the image's directory */
	char *backing_fmt;
	struct vs_blk *backing;

	/* cache=writeback-safe (not VS_BLK_UNSAFE), see io.c: L1/L2 updates
	 * wait in memory (dirty cache slots, l1_dirty) for the next metadata
	 * flush, and the references they replace wait in rel[]. */
	bool barriers;
	bool l1_dirty;
	struct qcow2_release *rel;
	size_t nrel, rel_cap;
	struct qcow2_cache l2c, rbc;
	uint64_t alloc_end; /* clusters at or past this index are free */
	uint64_t free_hint; /* no free cluster below this index */
	uint64_t zbuf_cursor; /* byte offset for the next compressed cluster, 0: none */

	/* overlap.c: the clusters that hold metadata, sorted */
	struct qcow2_ol_ent *ol;
	size_t nol, ol_cap;
	uint64_t file_end; /* the file's size at open */
	bool corrupt_seen; /* a write was refused as corrupting: read-only now */
	uint64_t open_fixes; /* corruptions a repair open dropped (check counts them) */
	uint32_t rebuild_only; /* of which dropped tables (snapshot entries, an L1
				* past EOF): only -r all may go on */

	pthread_rwlock_t layout;
	pthread_mutex_t meta;
	struct vs_write_gate gate; /* data writes of the fast path (block.h) */
};

static inline struct qcow2 *to_qcow2(struct vs_blk *b)
{
	return (struct qcow2 *)b;
}

static inline void qcow2_put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void qcow2_put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t qcow2_offset_into_cluster(const struct qcow2 *q, uint64_t off)
{
	return off & (q->cluster_size - 1);
}

static inline uint64_t qcow2_size_to_clusters(const struct qcow2 *q, uint64_t size)
{
	return (size + q->cluster_size - 1) >> q->cluster_bits;
}

/* header.c */
int qcow2_header_load(struct qcow2 *q, struct vs_err **err);
int qcow2_header_write_field(struct qcow2 *q, unsigned off, const void *be, size_t len);
/* repair (check -r): an L1 table past the end of the file is accepted (it
 * reads as zeros past EOF; the rebuild writes a new one). */
int qcow2_header_validate_tables(struct qcow2 *q, uint64_t file_size, bool repair,
				 struct vs_err **err);

/* bitmaps.c: the bitmap directory checked as QEMU checks it on open.
 * Returns 0 or -errno with *err in qemu-img's words. */
int qcow2_bitmaps_validate(struct qcow2 *q, struct vs_err **err);

/* overlap.c */
void qcow2_ol_build(struct qcow2 *q);
/* 1 and a description in msg if some cluster plays two metadata roles. */
int qcow2_ol_conflict(const struct qcow2 *q, char *msg, size_t len);
void qcow2_ol_add(struct qcow2 *q, uint64_t off, uint64_t len, unsigned type);
void qcow2_ol_del(struct qcow2 *q, uint64_t off, uint64_t len, unsigned type);
/* The cluster's refcount reached 0: it holds no metadata any more. */
void qcow2_ol_forget(struct qcow2 *q, uint64_t cluster);
/* The first metadata role (other than ign) that [off, off+len) touches, or 0. */
unsigned qcow2_ol_overlap(const struct qcow2 *q, unsigned ign, uint64_t off, uint64_t len);
const char *qcow2_ol_name(unsigned mask);
/* Marks the image corrupt (v3: the header bit) and read-only for this
 * handle, printing QEMU's "Marking image as corrupt" line (once). */
void qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* May a write of [off, off+len) playing role ign (QCOW2_OL_DATA for guest
 * data) go ahead? 0, or -EIO after qcow2_signal_corruption. Data and L2
 * table writes must also stay within QCOW2_EOF_SLACK of the file's end. */
int qcow2_pre_write(struct qcow2 *q, unsigned ign, uint64_t off, uint64_t len);
/* qcow2_pre_write, then vs_pwrite_full. 0 or -errno. */
int qcow2_file_write(struct qcow2 *q, unsigned ign, const void *buf, size_t len, uint64_t off);

/* cache.c */
void qcow2_cache_init(struct qcow2_cache *c, unsigned n, uint64_t cluster_size);
void qcow2_cache_destroy(struct qcow2_cache *c);
int qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, uint8_t **out);
int qcow2_cache_new(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, uint8_t **out);
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off);
void qcow2_cache_clear(struct qcow2_cache *c);
void qcow2_cache_set_dirty(struct qcow2_cache *c, uint64_t off);
int qcow2_cache_write_dirty(struct qcow2 *q, struct qcow2_cache *c);

/* refcount.c */
int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *rc);
int qcow2_refcount_update(struct qcow2 *q, uint64_t off, uint64_t nbytes, int delta);
int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t rc);
int qcow2_alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off);
int qcow2_alloc_data(struct qcow2 *q, uint64_t max, uint64_t *off, uint64_t *got);
int qcow2_free_clusters(struct qcow2 *q, uint64_t off, uint64_t n);
int qcow2_refcount_init(struct qcow2 *q);
/* Stores refcount v as entry i of a refcount block (refcount_order 0..6). */
void qcow2_rb_entry_put(uint8_t *b, uint64_t i, unsigned order, uint64_t v);
int qcow2_free_compressed(struct qcow2 *q, uint64_t l2e);
void qcow2_compressed_range(const struct qcow2 *q, uint64_t l2e, uint64_t *off, uint64_t *len);

/* cluster.c: guest → host mapping */
enum qcow2_ctype { QCOW2_C_UNALLOC, QCOW2_C_ZERO, QCOW2_C_NORMAL, QCOW2_C_COMPRESSED };

struct qcow2_map {
	enum qcow2_ctype type;
	uint64_t host; /* NORMAL: host offset of the queried byte */
	uint64_t len; /* bytes from the query offset with this mapping */
	uint64_t l2e; /* the raw entry of the first cluster */
	bool copied; /* NORMAL: refcount is exactly 1 */
};

int qcow2_map_get(struct qcow2 *q, uint64_t off, uint64_t len, struct qcow2_map *m);
enum qcow2_ctype qcow2_l2e_type(const struct qcow2 *q, uint64_t l2e);
int qcow2_l2e_valid(const struct qcow2 *q, uint64_t l2e);
int qcow2_l2_for_write(struct qcow2 *q, uint64_t l1_index, uint64_t *l2_off);
int qcow2_l2_set(struct qcow2 *q, uint64_t l2_off, uint64_t first, const uint64_t *entries,
		 uint64_t n);
int qcow2_l1_write(struct qcow2 *q, uint64_t first, uint64_t n);
int qcow2_check_table_offset(const struct qcow2 *q, uint64_t off);

/* io.c */
/* A write barrier: everything written before is durable before anything
 * written after (fdatasync), when the image has barriers. 0 or -errno. */
int qcow2_barrier(struct qcow2 *q);
/* fdatasync, always. 0 or -errno. */
int qcow2_sync(struct qcow2 *q);
/* Drops the reference e held: now without barriers, else after the next
 * metadata flush. punch: also punch the cluster out if it becomes free. */
int qcow2_release(struct qcow2 *q, uint64_t e, bool punch);
/* Writes the held-back L1/L2 updates in barrier order, then drops the
 * released references. Layout lock exclusive (or sole owner). 0 or -errno. */
int qcow2_meta_flush(struct qcow2 *q);
int qcow2_zero_locked(struct qcow2 *q, uint64_t off, uint64_t len);
extern const struct vs_blk_ops qcow2_ops;
void qcow2_close(struct vs_blk *b);

/* compress.c */
int qcow2_decompress(const struct qcow2 *q, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t out_len);
int qcow2_compress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len);
int qcow2_read_compressed(struct qcow2 *q, uint64_t l2e, uint8_t *cluster);

/* resize.c */
int qcow2_grow_l1(struct qcow2 *q, uint64_t min_entries);
int qcow2_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err);

/* snapshot.c */
/* With repair (check -r), entries with an invalid L1 table or extra data are
 * dropped (counted in open_fixes and rebuild_only) instead of refused. */
int qcow2_snapshots_load(struct qcow2 *q, uint64_t file_size, bool repair, struct vs_err **err);
void qcow2_snapshots_free(struct qcow2 *q);
/* The on-disk snapshot table for s[0..n) (our entries carry 24 bytes of extra
 * data); returns a buffer of *len bytes to free. */
uint8_t *qcow2_snapshot_table_build(const struct qcow2_snapshot *s, uint32_t n, uint64_t *len);

/* commit.c: a new metadata state, switched to by one header write. */
struct qcow2_commit {
	const uint64_t *l1; /* new active L1 entries (flags are recomputed) */
	uint32_t l1_size;
	struct qcow2_snapshot *snaps; /* new snapshot table; on success q owns the array */
	uint64_t **snap_l1; /* NULL, or per snapshot a new L1 to write (its
				       * l1_offset is then set) or NULL (kept as is) */
	uint32_t nb_snapshots;
	uint64_t disk_size;
	/* check -r all: entries of active L2 tables that reference clusters
	 * outside the file become zero clusters (unallocated on v2) in the
	 * copied tables, counted in dropped; such references from snapshots'
	 * tables are left as they are and not counted, instead of failing. */
	bool repair;
	uint64_t dropped;
};

/* Writes the state c describes beside the current one (refcounts computed
 * from its tables, active L2 tables copied where COPIED flags change), then
 * switches the header to it and frees everything only the old state used
 * (q->snaps' array is freed, not its strings). Layout lock held exclusive.
 * Returns 0 or -errno (-EIO: the tables reference clusters outside the file,
 * unless c->repair; -ERANGE: a refcount would overflow); on failure the image
 * is unchanged. */
int qcow2_commit(struct qcow2 *q, struct qcow2_commit *c);

#endif
