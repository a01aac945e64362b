/* The VDI driver: VirtualBox's native disk format, dynamic and static, as
 * VirtualBox and QEMU's block/vdi.c lay it out.
 *
 * Layout (little-endian): a 512-byte header (a text line, the signature
 * 0xbeda107f, version 1.1, image type, block map and data offsets, the disk
 * size, the block size (1 MiB, the only one VirtualBox and QEMU create),
 * UUIDs), then the block map: one u32 per virtual block holding the index of
 * its data block in the data area, or 0xffffffff (free) / 0xfffffffe
 * (discarded): both read as zeros, there are no backing files here. New data
 * blocks are appended at index blocks_allocated.
 *
 * Write ordering, as qcow2's held-back tables (qcow2/io.c): a new block's
 * data is written past the last block at once, but its map entry and the
 * header's blocks_allocated only change in memory; a flush (and close)
 * makes the data durable (fdatasync), then writes the dirty map sectors and
 * the header, then fdatasync again. A crash before a flush therefore leaves
 * the image as at the last flush plus unreferenced bytes past its end (qemu-img
 * check: clean); only a crash inside a flush, between the map sectors and the
 * header's count, leaves a count qemu-img check calls wrong; vessel recounts
 * on the next writable open and `check -r all` repairs it (docs/img.md
 * "VDI"). Without barriers (VS_BLK_UNSAFE) the first fdatasync is skipped.
 *
 * Every header field is checked at open against the file (the map must fit
 * in it, so no hostile header makes us allocate more than the file's size)
 * and every map entry at use (an index past blocks_in_image is -EIO). */
#include "block/block.h"
#include "block/file.h"
#include "block/vdi.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_TYPE_DYNAMIC 1u
#define VDI_TYPE_STATIC 2u
#define VDI_FREE 0xffffffffu
#define VDI_ZERO 0xfffffffeu
#define VDI_BLOCK_SIZE (1u << 20)
#define VDI_SECTOR 512u
#define VDI_HEADER_SIZE 0x180u /* from offset 0x48 on, as QEMU writes it */
/* Data beyond the file's end a map entry may point to (qcow2 has the same
 * rule): a hostile map cannot make a write create a sparse petabyte. */
#define VDI_MAX_PAST_EOF (64ull << 20)
/* QEMU's VDI_BLOCKS_IN_IMAGE_MAX (the map must stay under 4 GiB). */
#define VDI_MAX_BLOCKS (UINT32_MAX / 4u)
#define VDI_TEXT "<<< Oracle VM VirtualBox Disk Image >>>\n"

struct vdi_header {
	char text[0x40];
	uint32_t signature, version, header_size, image_type, image_flags;
	char description[256];
	uint32_t offset_bmap, offset_data;
	uint32_t cylinders, heads, sectors, sector_size; /* legacy geometry */
	uint32_t unused1;
	uint64_t disk_size;
	uint32_t block_size, block_extra, blocks_in_image, blocks_allocated;
	uint8_t uuid_image[16], uuid_last_snap[16], uuid_link[16], uuid_parent[16];
	uint8_t tail[56]; /* LCHS geometry (header_size ≥ 0x190) and padding */
};
_Static_assert(sizeof(struct vdi_header) == 512, "VDI header is one sector");
_Static_assert(offsetof(struct vdi_header, disk_size) == 0x170, "VDI header layout");
_Static_assert(offsetof(struct vdi_header, uuid_image) == 0x188, "VDI header layout");

struct vdi {
	struct vs_blk blk;
	int fd;
	bool barriers;
	struct vdi_header h; /* host byte order */
	uint32_t *map; /* host byte order; entries read with atomics */
	uint32_t next; /* data index the next new block gets */
	uint64_t size; /* the file's size: at open, then as we grow it (alloc held) */
	uint8_t *dirty; /* one byte per map sector changed since the last flush */
	bool header_dirty;
	pthread_mutex_t alloc; /* map changes, dirty state and next */
};

static struct vdi *to_vdi(struct vs_blk *b)
{
	return (struct vdi *)b;
}

static void header_le(struct vdi_header *h, bool to_host)
{
	uint32_t *u32[] = { &h->signature,   &h->version,	  &h->header_size,
			    &h->image_type,  &h->image_flags,	  &h->offset_bmap,
			    &h->offset_data, &h->cylinders,	  &h->heads,
			    &h->sectors,     &h->sector_size,	  &h->block_size,
			    &h->block_extra, &h->blocks_in_image, &h->blocks_allocated };

	for (size_t i = 0; i < VS_ARRAY_SIZE(u32); i++) {
		uint32_t v;

		memcpy(&v, u32[i], 4);
		v = to_host ? le32toh(v) : htole32(v);
		memcpy(u32[i], &v, 4);
	}
	h->disk_size = to_host ? le64toh(h->disk_size) : htole64(h->disk_size);
}

static uint64_t map_bytes(uint32_t blocks)
{
	return VS_ALIGN_UP((uint64_t)blocks * 4, (uint64_t)VDI_SECTOR);
}

/* The header's promises against each other and the file: one line for the
 * first that fails, in QEMU's words where it has some. */
static int header_check(const struct vdi_header *h, uint64_t file_size, const char *path,
			struct vs_err **err)
{
	const char *why = NULL;

	if (h->signature != VDI_SIGNATURE)
		why = "not a VDI image (bad signature)";
	else if (h->version != VDI_VERSION_1_1)
		return vs_err_set(err, -ENOTSUP, "%s: unsupported VDI image (version %u.%u)", path,
				  h->version >> 16, h->version & 0xffff);
	else if (h->image_type != VDI_TYPE_DYNAMIC && h->image_type != VDI_TYPE_STATIC)
		return vs_err_set(err, -ENOTSUP,
				  "%s: unsupported VDI image (type %u: differencing and undo "
				  "images are not supported)",
				  path, h->image_type);
	else if (h->header_size < VDI_HEADER_SIZE || h->header_size > 512 - 0x48)
		why = "unsupported VDI image (bad header size)";
	else if (h->offset_bmap % VDI_SECTOR || h->offset_bmap < 512)
		why = "unsupported VDI image (unaligned block map offset)";
	else if (h->offset_data % VDI_SECTOR)
		why = "unsupported VDI image (unaligned data offset)";
	else if (h->sector_size != VDI_SECTOR)
		why = "unsupported VDI image (sector size is not 512)";
	else if (h->block_size != VDI_BLOCK_SIZE)
		why = "unsupported VDI image (block size is not 1 MiB)";
	else if (h->block_extra != 0)
		why = "unsupported VDI image (block extra data)";
	else if (h->blocks_in_image > VDI_MAX_BLOCKS)
		why = "unsupported VDI image (too many blocks)";
	else if (h->disk_size > (uint64_t)h->blocks_in_image * VDI_BLOCK_SIZE)
		why = "unsupported VDI image (disk size larger than its blocks)";
	else if ((uint64_t)h->offset_bmap + map_bytes(h->blocks_in_image) > h->offset_data)
		why = "unsupported VDI image (block map overlaps the data)";
	else if ((uint64_t)h->offset_bmap + (uint64_t)h->blocks_in_image * 4 > file_size)
		why = "block map extends past the end of the file";
	if (!why)
		return 0;
	return vs_err_set(err, h->signature != VDI_SIGNATURE ? -EINVAL : -ENOTSUP, "%s: %s", path,
			  why);
}

static uint32_t map_get(struct vdi *v, uint64_t blk)
{
	return __atomic_load_n(&v->map[blk], __ATOMIC_ACQUIRE);
}

static bool entry_allocated(uint32_t e)
{
	return e != VDI_FREE && e != VDI_ZERO;
}

/* Host offset of data block index e, or -EIO if the map entry is corrupt. */
static int64_t data_offset(struct vdi *v, uint32_t e)
{
	uint64_t off;

	if (e >= v->h.blocks_in_image)
		return -EIO;
	off = v->h.offset_data + (uint64_t)e * VDI_BLOCK_SIZE;
	if (off > __atomic_load_n(&v->size, __ATOMIC_RELAXED) + VDI_MAX_PAST_EOF)
		return -EIO;
	return (int64_t)off;
}

static int vdi_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct vdi *v = to_vdi(b);
	uint8_t *p = buf;

	VS_BLK_FOR_EACH_PIECE(off, len, VDI_BLOCK_SIZE, blk, in, n)
	{
		uint32_t e = map_get(v, blk);
		int64_t host;
		int r;

		if (!entry_allocated(e)) {
			memset(p, 0, n);
		} else {
			host = data_offset(v, e);
			if (host < 0)
				return (int)host;
			r = vs_pread_full(v->fd, p, n, (uint64_t)host + in);
			if (r < 0)
				return r;
		}
		p += n;
	}
	return 0;
}

static int vdi_sync(struct vdi *v)
{
	if (!v->barriers)
		return 0;
	vs_io_hook_sync();
	return fdatasync(v->fd) < 0 ? -errno : 0;
}

/* Writes map sector i (entries i*128 ..) from memory. */
static int write_map_sector(struct vdi *v, uint64_t i)
{
	uint64_t first = i * (VDI_SECTOR / 4),
		 n = VS_MIN(VDI_SECTOR / 4, v->h.blocks_in_image - first);
	uint32_t sec[VDI_SECTOR / 4] = { 0 };

	for (uint64_t k = 0; k < n; k++)
		sec[k] = htole32(v->map[first + k]);
	return vs_pwrite_full(v->fd, sec, n * 4, v->h.offset_bmap + first * 4);
}

static int write_count(struct vdi *v)
{
	uint32_t alloc = htole32(v->h.blocks_allocated);

	return vs_pwrite_full(v->fd, &alloc, 4, offsetof(struct vdi_header, blocks_allocated));
}

/* Changes map entry blk in memory (alloc held); the next flush writes it. */
static void map_set(struct vdi *v, uint64_t blk, uint32_t e)
{
	__atomic_store_n(&v->map[blk], e, __ATOMIC_RELEASE);
	v->dirty[blk / (VDI_SECTOR / 4)] = 1;
}

/* The held-back metadata (alloc held): barrier, map sectors, count. */
static int meta_flush(struct vdi *v)
{
	uint64_t sectors = map_bytes(v->h.blocks_in_image) / VDI_SECTOR;
	int r = 0;

	if (!v->header_dirty)
		return 0;
	r = vdi_sync(v);
	for (uint64_t i = 0; i < sectors && r == 0; i++)
		if (v->dirty[i] && (r = write_map_sector(v, i)) == 0)
			v->dirty[i] = 0;
	if (r == 0)
		r = write_count(v);
	if (r == 0)
		v->header_dirty = false;
	return r;
}

/* Allocates virtual block blk (alloc held) with buf's n bytes at in, the rest
 * zeros, in the order the head of this file gives. A block past the file's
 * end gets only the request's bytes and the file is extended around them
 * (the rest stays a hole that reads as zeros: thin, as convert wants); a
 * block inside the file (left by a crash) is written whole. */
static int alloc_block(struct vdi *v, uint64_t blk, const void *buf, uint64_t in, uint64_t n)
{
	uint32_t e = v->next;
	int64_t host;
	int r;

	if (e >= v->h.blocks_in_image)
		return -EIO; /* a corrupt image: every block already has data */
	host = data_offset(v, e);
	if (host < 0)
		return (int)host;
	if ((uint64_t)host < v->size) {
		r = vs_pwrite_zeros(v->fd, (uint64_t)host, in);
		if (r == 0)
			r = vs_pwrite_zeros(v->fd, (uint64_t)host + in + n,
					    VDI_BLOCK_SIZE - in - n);
		if (r < 0)
			return r;
	}
	r = vs_pwrite_full(v->fd, buf, n, (uint64_t)host + in);
	if (r == 0 && v->size < (uint64_t)host + VDI_BLOCK_SIZE &&
	    ftruncate(v->fd, host + VDI_BLOCK_SIZE) < 0)
		r = -errno;
	if (r < 0)
		return r;
	__atomic_store_n(&v->size, VS_MAX(v->size, (uint64_t)host + VDI_BLOCK_SIZE),
			 __ATOMIC_RELAXED);
	map_set(v, blk, e);
	v->next = e + 1;
	v->h.blocks_allocated = VS_MAX(v->h.blocks_allocated, v->next);
	v->header_dirty = true;
	return 0;
}

static int vdi_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct vdi *v = to_vdi(b);
	const uint8_t *p = buf;

	VS_BLK_FOR_EACH_PIECE(off, len, VDI_BLOCK_SIZE, blk, in, n)
	{
		uint32_t e = map_get(v, blk);
		int r = 0;

		if (!entry_allocated(e)) {
			pthread_mutex_lock(&v->alloc);
			e = map_get(v, blk);
			if (!entry_allocated(e))
				r = alloc_block(v, blk, p, in, n);
			pthread_mutex_unlock(&v->alloc);
			if (r < 0)
				return r;
		}
		if (entry_allocated(e)) { /* allocated before us: write in place */
			int64_t host = data_offset(v, e);

			if (host < 0)
				return (int)host;
			r = vs_pwrite_full(v->fd, p, n, (uint64_t)host + in);
			if (r < 0)
				return r;
		}
		p += n;
	}
	return 0;
}

static int vdi_flush(struct vs_blk *b)
{
	struct vdi *v = to_vdi(b);
	int r;

	pthread_mutex_lock(&v->alloc);
	r = meta_flush(v);
	pthread_mutex_unlock(&v->alloc);
	if (r < 0)
		return r;
	vs_io_hook_sync();
	return fdatasync(v->fd) < 0 ? -errno : 0;
}

/* Discard and write-zeroes: the map keeps its entries (freeing a data block
 * would leave a hole in the data area that VDI cannot describe), the bytes
 * become a hole in the file. Discard skips partial blocks, as allowed. */
static int zero_range(struct vs_blk *b, uint64_t off, uint64_t len, bool whole_only)
{
	struct vdi *v = to_vdi(b);

	VS_BLK_FOR_EACH_PIECE(off, len, VDI_BLOCK_SIZE, blk, in, n)
	{
		uint32_t e = map_get(v, blk);
		int64_t host;
		int r;

		if (!entry_allocated(e) || (whole_only && n != VDI_BLOCK_SIZE))
			continue;
		host = data_offset(v, e);
		if (host < 0)
			return (int)host;
		r = vs_zero_range(v->fd, (uint64_t)host + in, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vdi_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, true);
}

static int vdi_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, false);
}

static int vdi_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	struct vdi *v = to_vdi(b);
	uint64_t blk = off / VDI_BLOCK_SIZE, end = off + len;
	uint32_t e = map_get(v, blk);
	bool alloc = entry_allocated(e);
	uint64_t stop = (blk + 1) * VDI_BLOCK_SIZE;
	int64_t host = 0;

	if (alloc && (host = data_offset(v, e)) < 0)
		return (int)host;
	/* extend over following blocks of the same kind (data only if contiguous) */
	while (stop < end) {
		uint64_t k = stop / VDI_BLOCK_SIZE;
		uint32_t f = map_get(v, k);

		if (entry_allocated(f) != alloc || (alloc && f != e + (k - blk)))
			break;
		stop += VDI_BLOCK_SIZE;
	}
	st->len = VS_MIN(stop, end) - off;
	st->depth = 0;
	if (!alloc) { /* no backing file: the map decides, as QEMU reports it */
		st->flags = VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED;
		return 0;
	}
	st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	st->host_offset = (uint64_t)host + off % VDI_BLOCK_SIZE;
	if (v->h.image_type == VDI_TYPE_STATIC) /* QEMU looks into the file (RECURSE) */
		vs_blk_file_status(v->fd, st);
	return 0;
}

static int vdi_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	(void)size; /* as qemu-img: growing would move the data area */
	return vs_err_set(err, -ENOTSUP, "%s: Image format driver does not support resize",
			  b->filename);
}

/* QEMU's checks (every map entry inside the image, none twice, the header's
 * count right) and, with repair, their fixes: a bad or duplicate entry
 * becomes free (its data was unreachable or shared), the count is rewritten. */
static int vdi_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		     struct vs_err **err)
{
	struct vdi *v = to_vdi(b);
	uint32_t nb = v->h.blocks_in_image, count = 0, top = 0;
	_cleanup_free_ uint8_t *seen = xzalloc(nb / 8 + 1);
	int r = 0;

	pthread_mutex_lock(&v->alloc);
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t e = v->map[i];

		if (!entry_allocated(e))
			continue;
		if (e < nb && !(seen[e / 8] & (1u << (e % 8)))) {
			seen[e / 8] |= (uint8_t)(1u << (e % 8));
			count++;
			top = VS_MAX(top, e + 1);
			continue;
		}
		if (res->corruptions < 20) /* qemu-img's words */
			vs_warn("ERROR: block index %u %s, is %u", i,
				e < nb ? "points to data used before" : "too large", e);
		res->corruptions++;
		if (repair == VS_BLK_REPAIR_ALL) {
			map_set(v, i, VDI_FREE);
			v->header_dirty = true;
			res->corruptions_fixed++;
		}
	}
	if (r == 0 && count != v->h.blocks_allocated) {
		vs_warn("ERROR: allocated blocks mismatch, is %u, should be %u",
			v->h.blocks_allocated, count);
		res->corruptions++;
		if (repair == VS_BLK_REPAIR_ALL) {
			v->h.blocks_allocated = count;
			v->next = VS_MAX(top, count);
			v->header_dirty = true;
			res->corruptions_fixed++;
		}
	}
	if (res->corruptions_fixed && (r = meta_flush(v)) == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	pthread_mutex_unlock(&v->alloc);
	return r < 0 ? vs_err_setsys(err, r, "%s: repair", b->filename) : 0;
}

static void vdi_close(struct vs_blk *b)
{
	struct vdi *v = to_vdi(b);

	if (!b->ro && v->map)
		(void)meta_flush(v); /* held-back map entries (head of file) */
	pthread_mutex_destroy(&v->alloc);
	close(v->fd);
	free(v->map);
	free(v->dirty);
	free(b->filename);
	free(v);
}

static const struct vs_blk_ops vdi_ops = {
	.name = "vdi",
	.pread = vdi_pread,
	.pwrite = vdi_pwrite,
	.flush = vdi_flush,
	.discard = vdi_discard,
	.write_zeroes = vdi_write_zeroes,
	.block_status = vdi_block_status,
	.truncate = vdi_truncate,
	.check = vdi_check,
	.close = vdi_close,
};

bool vdi_is_magic(const uint8_t *sector, size_t len)
{
	uint32_t sig;

	if (len < offsetof(struct vdi_header, signature) + 4)
		return false;
	memcpy(&sig, sector + offsetof(struct vdi_header, signature), 4);
	return le32toh(sig) == VDI_SIGNATURE;
}

static int read_map(struct vdi *v, struct vs_err **err)
{
	uint32_t n = v->h.blocks_in_image, count = 0, top = 0;
	int r;

	v->map = xmalloc((size_t)n * 4 + 4);
	v->dirty = xzalloc(map_bytes(n) / VDI_SECTOR + 1);
	r = vs_pread_full(v->fd, v->map, (size_t)n * 4, v->h.offset_bmap);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read block map", v->blk.filename);
	for (uint32_t i = 0; i < n; i++) {
		v->map[i] = le32toh(v->map[i]);
		if (entry_allocated(v->map[i]) && v->map[i] < n) {
			count++;
			top = VS_MAX(top, v->map[i] + 1);
		}
	}
	/* new blocks go past every block in use, whatever the header says */
	v->next = VS_MAX(top, v->h.blocks_allocated);
	if (!v->blk.ro && count != v->h.blocks_allocated && count == top) {
		/* a crash between map and header (head of file): heal the count */
		v->h.blocks_allocated = count;
		r = write_count(v);
		return r < 0 ? vs_err_setsys(err, r, "%s: write header", v->blk.filename) : 0;
	}
	return 0;
}

int vdi_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	struct vdi *v;
	int r;

	r = vs_blk_file_open(path, flags, false, &fd, err);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return vs_err_setsys(err, -errno, "%s", path);
	v = xzalloc(sizeof(*v));
	r = vs_pread_full(fd, &v->h, sizeof(v->h), 0);
	if (r < 0) {
		free(v);
		return vs_err_setsys(err, r, "%s: read header", path);
	}
	header_le(&v->h, true);
	r = header_check(&v->h, (uint64_t)st.st_size, path, err);
	if (r < 0) {
		free(v);
		return r;
	}
	v->blk.ops = &vdi_ops;
	v->blk.size = v->h.disk_size;
	v->blk.ro = flags & VS_BLK_RDONLY;
	v->blk.filename = xstrdup(path);
	v->blk.cluster_size = VDI_BLOCK_SIZE;
	v->barriers = !(flags & VS_BLK_UNSAFE);
	v->fd = steal_fd(fd);
	v->size = (uint64_t)st.st_size;
	pthread_mutex_init(&v->alloc, NULL);
	r = read_map(v, err);
	if (r < 0) {
		vdi_close(&v->blk);
		return r;
	}
	*out = &v->blk;
	return 0;
}

static void uuid_v4(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		memset(u, 0x42, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

static int write_new(int fd, const struct vdi_create_opts *o, struct vs_err **err, const char *path)
{
	uint64_t bytes = VS_ALIGN_UP(o->size, (uint64_t)VDI_SECTOR);
	uint32_t blocks = (uint32_t)(bytes + VDI_BLOCK_SIZE - 1) / VDI_BLOCK_SIZE;
	struct vdi_header h = { .signature = VDI_SIGNATURE,
				.version = VDI_VERSION_1_1,
				.header_size = VDI_HEADER_SIZE,
				.image_type = o->fixed ? VDI_TYPE_STATIC : VDI_TYPE_DYNAMIC,
				.offset_bmap = 512,
				.offset_data = (uint32_t)(512 + map_bytes(blocks)),
				.sector_size = VDI_SECTOR,
				.disk_size = bytes,
				.block_size = VDI_BLOCK_SIZE,
				.blocks_in_image = blocks,
				.blocks_allocated = o->fixed ? blocks : 0 };
	_cleanup_free_ uint32_t *map = xmalloc(map_bytes(blocks) + 4);
	uint64_t end = h.offset_data + (o->fixed ? (uint64_t)blocks * VDI_BLOCK_SIZE : 0);
	int r;

	memcpy(h.text, VDI_TEXT, sizeof(VDI_TEXT) - 1);
	uuid_v4(h.uuid_image);
	uuid_v4(h.uuid_last_snap);
	memset(map, 0, map_bytes(blocks));
	for (uint32_t i = 0; i < blocks; i++)
		map[i] = htole32(o->fixed ? i : VDI_FREE);
	header_le(&h, false);
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)end) < 0)
		return vs_err_setsys(err, -errno, "%s: set size", path);
	r = vs_pwrite_full(fd, &h, sizeof(h), 0);
	if (r == 0)
		r = vs_pwrite_full(fd, map, map_bytes(blocks), 512);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: write", path);
	if (o->fixed && (o->prealloc_full || o->prealloc_falloc))
		r = vs_preallocate(fd, le32toh(h.offset_data), end - le32toh(h.offset_data),
				   o->prealloc_full);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: preallocation failed", path);
	return fdatasync(fd) < 0 ? vs_err_setsys(err, -errno, "%s: sync", path) : 0;
}

int vdi_create(const char *path, const struct vdi_create_opts *o, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (o->size / VDI_BLOCK_SIZE >= VDI_MAX_BLOCKS)
		return vs_err_set(err, -EINVAL, "%s: unsupported VDI image size (too large)", path);
	r = vs_blk_file_open(path, 0, true, &fd, err);
	if (r < 0)
		return r;
	r = write_new(fd, o, err, path);
	if (r < 0)
		(void)unlink(path); /* nothing half-created */
	return r;
}
