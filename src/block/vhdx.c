/* The VHDX driver ([MS-VHDX]): a 1 MiB header area (file identifier, two
 * headers, two region tables), a log, the block allocation table (BAT) and
 * the metadata region, then payload blocks of 1-256 MiB at 1 MiB-aligned
 * file offsets. Dynamic and fixed disks; differencing disks (a parent) are
 * refused in one line.
 *
 * Writes as VDI's and VMDK's: a new block's data goes past the end of the
 * file at once, its BAT entry reaches the file at a flush or close
 * (fdatasync, the dirty BAT pages, fdatasync), so a writer killed before a
 * flush leaves the image as at the last flush. vessel does not write through
 * the log: one BAT entry is 8 bytes inside one sector, which the disk
 * writes whole (docs/img.md "VHDX" says where that stops holding). A log
 * left by another writer (Hyper-V, QEMU) is replayed at a read-write open
 * (vhdx-log.c). A read-write open first commits a header with new file and
 * data write GUIDs, as the format asks before the first change.
 *
 * Everything read is checked: header and region checksums (CRC-32C), region
 * and metadata offsets inside the file and apart from each other, the block
 * and sector sizes, the BAT's size against its region, payload offsets past
 * the header area and at most 64 MiB past the end of the file. */
#include "block/file.h"
#include "block/vhdx-internal.h"
#include "common/cleanup.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PAST_EOF (64ull << 20)

const uint8_t vhdx_guid_bat[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
				    0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
const uint8_t vhdx_guid_meta[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
				     0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
const uint8_t vhdx_guid_file_params[16] = { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
					    0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b };
const uint8_t vhdx_guid_disk_size[16] = { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
					  0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 };
const uint8_t vhdx_guid_page83[16] = { 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45,
				       0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 };
const uint8_t vhdx_guid_lsec[16] = { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
				     0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f };
const uint8_t vhdx_guid_psec[16] = { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,
				     0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 };
const uint8_t vhdx_guid_parent[16] = { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
				       0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };

static struct vhdx *to_vhdx(struct vs_blk *b)
{
	return (struct vhdx *)b;
}

bool vhdx_is_magic(const uint8_t *buf, size_t len)
{
	return len >= 8 && !memcmp(buf, "vhdxfile", 8);
}

uint32_t vhdx_checksum(const void *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t c = vs_crc32c(0, buf, 4);

	c = vs_crc32c(c, zero, 4);
	return vs_crc32c(c, (const uint8_t *)buf + 8, len - 8);
}

static void header_swap(struct vhdx_header *h)
{
	h->signature = le32toh(h->signature);
	h->checksum = le32toh(h->checksum);
	h->sequence = le64toh(h->sequence);
	h->log_version = le16toh(h->log_version);
	h->version = le16toh(h->version);
	h->log_length = le32toh(h->log_length);
	h->log_offset = le64toh(h->log_offset);
}

/* swapping is its own inverse on little-endian and big-endian hosts */
#define header_to_le header_swap

int vhdx_header_commit(struct vhdx *v, struct vhdx_header *h)
{
	struct vhdx_header d = *h;
	uint64_t seq = v->hdr.sequence + 1, at = v->hdr_slot ? VHDX_HEADER1 : VHDX_HEADER2;
	int r;

	d.sequence = seq;
	header_to_le(&d);
	d.checksum = 0;
	d.checksum = htole32(vhdx_checksum(&d, sizeof(d)));
	if (v->barriers && fdatasync(v->fd) < 0)
		return -errno;
	r = vs_pwrite_full(v->fd, &d, sizeof(d), at);
	if (r == 0 && v->barriers && fdatasync(v->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	v->hdr = *h;
	v->hdr.sequence = seq;
	v->hdr_slot ^= 1;
	return 0;
}

static bool header_valid(struct vhdx_header *h)
{
	uint32_t sum = le32toh(h->checksum);

	if (memcmp(h, "head", 4) || vhdx_checksum(h, sizeof(*h)) != sum)
		return false;
	header_swap(h);
	return h->version == 1;
}

static int read_headers(struct vhdx *v, uint64_t size, struct vs_err **err)
{
	struct vhdx_header h[2];
	bool ok[2];
	int r;

	for (int i = 0; i < 2; i++) {
		r = vs_pread_full(v->fd, &h[i], sizeof(h[i]), i ? VHDX_HEADER2 : VHDX_HEADER1);
		if (r < 0)
			return vs_err_setsys(err, r, "%s: read header", v->blk.filename);
		ok[i] = header_valid(&h[i]);
	}
	if (!ok[0] && !ok[1])
		return vs_err_set(err, -EINVAL, "%s: no valid VHDX header", v->blk.filename);
	v->hdr_slot = !ok[0] || (ok[1] && h[1].sequence > h[0].sequence);
	v->hdr = h[v->hdr_slot];
	if (v->hdr.log_version != 0 || v->hdr.log_length % VHDX_MIB || !v->hdr.log_length ||
	    v->hdr.log_offset % VHDX_MIB || v->hdr.log_offset < VHDX_MIB ||
	    v->hdr.log_offset > size || v->hdr.log_length > size - v->hdr.log_offset)
		return vs_err_set(err, -EINVAL, "%s: invalid VHDX log location", v->blk.filename);
	return 0;
}

struct region {
	uint64_t off, len;
};

static bool guid_zero(const uint8_t g[16])
{
	static const uint8_t z[16];

	return !memcmp(g, z, 16);
}

/* The region table: BAT and metadata, inside the file, 1 MiB aligned, past
 * the header area and apart from each other and the log. */
static int read_regions(struct vhdx *v, uint64_t size, struct region *bat, struct region *meta,
			struct vs_err **err)
{
	_cleanup_free_ uint8_t *t = xmalloc(VHDX_REGION_LEN);
	uint32_t n = 0;
	int r = -EINVAL;

	for (int i = 0; i < 2 && r < 0; i++) {
		uint32_t sum;

		if (vs_pread_full(v->fd, t, VHDX_REGION_LEN, i ? VHDX_REGION2 : VHDX_REGION1) < 0)
			continue;
		memcpy(&sum, t + 4, 4);
		memcpy(&n, t + 8, 4);
		n = le32toh(n);
		if (!memcmp(t, "regi", 4) && le32toh(sum) == vhdx_checksum(t, VHDX_REGION_LEN) &&
		    n <= 2047)
			r = 0;
	}
	if (r < 0)
		return vs_err_set(err, -EINVAL, "%s: no valid VHDX region table", v->blk.filename);
	*bat = *meta = (struct region){ 0 };
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + 16 + i * 32;
		uint64_t off;
		uint32_t len, req;
		struct region *to = !memcmp(e, vhdx_guid_bat, 16)  ? bat :
				    !memcmp(e, vhdx_guid_meta, 16) ? meta :
								     NULL;

		memcpy(&off, e + 16, 8);
		memcpy(&len, e + 24, 4);
		memcpy(&req, e + 28, 4);
		off = le64toh(off), len = le32toh(len), req = le32toh(req);
		if (!to && (req & 1))
			return vs_err_set(err, -ENOTSUP, "%s: unsupported VHDX region",
					  v->blk.filename);
		if (!to)
			continue;
		if (off % VHDX_MIB || len % VHDX_MIB || !len || off < VHDX_MIB || off > size ||
		    len > size - off)
			return vs_err_set(err, -EINVAL, "%s: VHDX region outside the file",
					  v->blk.filename);
		*to = (struct region){ off, len };
	}
	if (!bat->len || !meta->len)
		return vs_err_set(err, -EINVAL, "%s: VHDX region table without BAT or metadata",
				  v->blk.filename);
	if ((bat->off < meta->off + meta->len && meta->off < bat->off + bat->len) ||
	    (bat->off < v->hdr.log_offset + v->hdr.log_length &&
	     v->hdr.log_offset < bat->off + bat->len) ||
	    (meta->off < v->hdr.log_offset + v->hdr.log_length &&
	     v->hdr.log_offset < meta->off + meta->len))
		return vs_err_set(err, -EINVAL, "%s: VHDX regions overlap", v->blk.filename);
	return 0;
}

struct meta {
	uint32_t block_size, flags, lsec, psec;
	uint64_t disk_size;
	unsigned found; /* bit per item below */
};

static int meta_item(const uint8_t *e, const uint8_t *region, uint64_t rlen, struct meta *m)
{
	static const struct {
		const uint8_t *guid;
		uint32_t len;
	} known[] = { { vhdx_guid_file_params, 8 }, { vhdx_guid_disk_size, 8 },
		      { vhdx_guid_lsec, 4 },	    { vhdx_guid_psec, 4 },
		      { vhdx_guid_page83, 16 },	    { vhdx_guid_parent, 0 } };
	uint32_t off, len, flags;

	memcpy(&off, e + 16, 4);
	memcpy(&len, e + 20, 4);
	memcpy(&flags, e + 24, 4);
	off = le32toh(off), len = le32toh(len), flags = le32toh(flags);
	for (unsigned i = 0; i < VS_ARRAY_SIZE(known); i++) {
		if (memcmp(e, known[i].guid, 16))
			continue;
		if (i == 5)
			return -ENOTSUP; /* a parent locator: a differencing disk */
		if (len != known[i].len || off < VHDX_META_ITEMS_OFF || off > rlen ||
		    len > rlen - off)
			return -EINVAL;
		if (i == 0) {
			memcpy(&m->block_size, region + off, 4);
			memcpy(&m->flags, region + off + 4, 4);
		} else if (i == 1) {
			memcpy(&m->disk_size, region + off, 8);
		} else if (i == 2 || i == 3) {
			memcpy(i == 2 ? &m->lsec : &m->psec, region + off, 4);
		}
		m->found |= 1u << i;
		return 0;
	}
	return (flags & 4) ? -ENOTSUP : 0; /* an unknown required item */
}

static int read_metadata(struct vhdx *v, const struct region *r, struct meta *m,
			 struct vs_err **err)
{
	uint64_t rlen = VS_MIN(r->len, 16 * VHDX_MIB);
	_cleanup_free_ uint8_t *t = xmalloc(rlen);
	uint16_t n;
	int ret = vs_pread_full(v->fd, t, rlen, r->off);

	if (ret < 0)
		return vs_err_setsys(err, ret, "%s: read metadata", v->blk.filename);
	memcpy(&n, t + 10, 2);
	n = le16toh(n);
	if (memcmp(t, "metadata", 8) || n > 2047)
		return vs_err_set(err, -EINVAL, "%s: invalid VHDX metadata table", v->blk.filename);
	*m = (struct meta){ 0 };
	for (uint16_t i = 0; i < n; i++) {
		ret = meta_item(t + 32 + 32 * i, t, rlen, m);
		if (ret == -ENOTSUP)
			return vs_err_set(err, ret,
					  "%s: unsupported VHDX (a differencing disk or an unknown "
					  "required metadata item)",
					  v->blk.filename);
		if (ret < 0)
			return vs_err_set(err, ret, "%s: invalid VHDX metadata item",
					  v->blk.filename);
	}
	m->block_size = le32toh(m->block_size), m->flags = le32toh(m->flags);
	m->lsec = le32toh(m->lsec), m->psec = le32toh(m->psec);
	m->disk_size = le64toh(m->disk_size);
	if ((m->found & 0xf) != 0xf)
		return vs_err_set(err, -EINVAL, "%s: VHDX metadata item missing", v->blk.filename);
	return 0;
}

static int check_meta(struct vhdx *v, const struct meta *m, const struct region *bat,
		      struct vs_err **err)
{
	const char *why = NULL;

	if (m->block_size < VHDX_MIN_BLOCK || m->block_size > VHDX_MAX_BLOCK ||
	    (m->block_size & (m->block_size - 1)))
		why = "invalid VHDX block size";
	else if (m->lsec != 512 && m->lsec != 4096)
		why = "invalid VHDX logical sector size";
	else if (m->psec != 512 && m->psec != 4096)
		why = "invalid VHDX physical sector size";
	else if (m->flags & 2)
		why = "unsupported VHDX (a differencing disk)";
	else if (!m->disk_size || m->disk_size > VHDX_MAX_SIZE || m->disk_size % m->lsec)
		why = "invalid VHDX virtual disk size";
	if (why)
		return vs_err_set(err, -EINVAL, "%s: %s", v->blk.filename, why);
	v->block_size = m->block_size;
	v->lsec = m->lsec;
	v->chunk_ratio = (uint32_t)(((1ull << 23) * m->lsec) / m->block_size);
	v->payload_blocks = (m->disk_size + m->block_size - 1) / m->block_size;
	v->n_bat = v->payload_blocks + (v->payload_blocks - 1) / v->chunk_ratio;
	if (v->n_bat * 8 > bat->len)
		return vs_err_set(err, -EINVAL, "%s: VHDX BAT region too small", v->blk.filename);
	v->bat_off = bat->off;
	v->bat_len = bat->len;
	v->blk.size = m->disk_size;
	v->blk.cluster_size = m->block_size;
	return 0;
}

/* The BAT; a present block past the end of the file is refused, as
 * qemu-img does, unless the open is for `check -r` (which reports it). */
static int read_bat(struct vhdx *v, uint64_t size, unsigned flags, struct vs_err **err)
{
	uint64_t end = size;
	int r;

	v->bat = xmalloc(v->n_bat * 8 + 8);
	v->bat_dirty = xzalloc(v->n_bat / 512 + 1);
	r = vs_pread_full(v->fd, v->bat, v->n_bat * 8, v->bat_off);
	if (r < 0)
		return vs_err_setsys(err, r, "%s: read BAT", v->blk.filename);
	for (uint64_t i = 0; i < v->n_bat; i++) {
		uint64_t off;

		v->bat[i] = le64toh(v->bat[i]);
		off = VHDX_BAT_OFFSET(v->bat[i]);
		if (VHDX_BAT_STATE(v->bat[i]) != VHDX_BAT_FULLY_PRESENT ||
		    (i + 1) % (v->chunk_ratio + 1) == 0)
			continue;
		if (off + v->block_size > size && !(flags & VS_BLK_REPAIR))
			return vs_err_set(err, -EINVAL,
					  "%s: VHDX BAT entry %" PRIu64 " end offset %" PRIu64
					  " points after end of file (%" PRIu64
					  "). Image has probably been truncated.",
					  v->blk.filename, i, off + v->block_size - 1, size);
		end = VS_MAX(end, VS_MIN(off + v->block_size, size + MAX_PAST_EOF));
	}
	end = VS_MAX(end, v->bat_off + v->bat_len);
	v->next = VS_ALIGN_UP(end, VHDX_MIB);
	return 0;
}

static uint64_t bat_index(const struct vhdx *v, uint64_t block)
{
	return block + block / v->chunk_ratio;
}

static uint64_t file_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The file offset of a present block, or -EIO if the entry is corrupt. */
static int64_t block_host(struct vhdx *v, uint64_t e)
{
	uint64_t off = VHDX_BAT_OFFSET(e);

	if (off < VHDX_MIB || off > __atomic_load_n(&v->size, __ATOMIC_RELAXED) + MAX_PAST_EOF)
		return -EIO;
	return (int64_t)off;
}

static uint64_t bat_get(struct vhdx *v, uint64_t idx)
{
	return __atomic_load_n(&v->bat[idx], __ATOMIC_ACQUIRE);
}

static int vhdx_pread(struct vs_blk *b, void *buf, size_t len, uint64_t off)
{
	struct vhdx *v = to_vhdx(b);
	uint8_t *p = buf;

	VS_BLK_FOR_EACH_PIECE(off, len, v->block_size, blk, in, n)
	{
		uint64_t e = bat_get(v, bat_index(v, blk));
		int64_t host;
		int r;

		if (VHDX_BAT_STATE(e) == VHDX_BAT_FULLY_PRESENT) {
			host = block_host(v, e);
			if (host < 0)
				return (int)host;
			r = vs_pread_full(v->fd, p, n, (uint64_t)host + in);
			if (r < 0)
				return r;
		} else if (VHDX_BAT_STATE(e) == VHDX_BAT_PARTIALLY_PRESENT) {
			return -EIO; /* only differencing disks have these */
		} else {
			memset(p, 0, n);
		}
		p += n;
	}
	return 0;
}

/* A new block at the end of the file holding buf at in (lock held). */
static int block_alloc(struct vhdx *v, uint64_t idx, const void *buf, uint64_t in, uint64_t n)
{
	uint64_t host = v->next, size = v->size;
	int r;

	if (host < size) { /* inside the file (after a crash): zero it first */
		vs_io_hook_punch(host, v->block_size);
		if (fallocate(v->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)host,
			      (off_t)v->block_size) < 0)
			return -errno;
	}
	r = vs_pwrite_full(v->fd, buf, n, host + in);
	if (r == 0 && size < host + v->block_size &&
	    ftruncate(v->fd, (off_t)(host + v->block_size)) < 0)
		r = -errno;
	if (r < 0)
		return r;
	if (size < host + v->block_size)
		__atomic_store_n(&v->size, host + v->block_size, __ATOMIC_RELAXED);
	__atomic_store_n(&v->bat[idx], host | VHDX_BAT_FULLY_PRESENT, __ATOMIC_RELEASE);
	v->bat_dirty[idx / 512] = 1;
	v->next += v->block_size;
	return 0;
}

static int vhdx_pwrite(struct vs_blk *b, const void *buf, size_t len, uint64_t off)
{
	struct vhdx *v = to_vhdx(b);
	const uint8_t *p = buf;

	VS_BLK_FOR_EACH_PIECE(off, len, v->block_size, blk, in, n)
	{
		uint64_t idx = bat_index(v, blk), e = bat_get(v, idx);
		int64_t host;
		int r = 0;

		if (VHDX_BAT_STATE(e) != VHDX_BAT_FULLY_PRESENT) {
			pthread_mutex_lock(&v->lock);
			e = bat_get(v, idx);
			if (VHDX_BAT_STATE(e) == VHDX_BAT_PARTIALLY_PRESENT)
				r = -EIO;
			else if (VHDX_BAT_STATE(e) != VHDX_BAT_FULLY_PRESENT)
				r = block_alloc(v, idx, p, in, n) ?: 1;
			pthread_mutex_unlock(&v->lock);
		}
		if (r < 0)
			return r;
		if (r == 0) { /* present: in place */
			host = block_host(v, e);
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

/* The dirty BAT pages (lock held), after a barrier. */
static int bat_flush(struct vhdx *v)
{
	uint64_t pages = (v->n_bat + 511) / 512;
	bool any = false;
	int r = 0;

	for (uint64_t i = 0; i < pages && !any; i++)
		any = v->bat_dirty[i];
	if (!any)
		return 0;
	if (v->barriers && fdatasync(v->fd) < 0)
		return -errno;
	for (uint64_t i = 0; i < pages && r == 0; i++) {
		uint64_t le[512], first = i * 512, n = VS_MIN(512, v->n_bat - first);

		if (!v->bat_dirty[i])
			continue;
		for (uint64_t k = 0; k < n; k++)
			le[k] = htole64(v->bat[first + k]);
		r = vs_pwrite_full(v->fd, le, n * 8, v->bat_off + first * 8);
		v->bat_dirty[i] = r < 0;
	}
	return r;
}

static int vhdx_flush(struct vs_blk *b)
{
	struct vhdx *v = to_vhdx(b);
	int r;

	pthread_mutex_lock(&v->lock);
	r = bat_flush(v);
	pthread_mutex_unlock(&v->lock);
	if (r < 0)
		return r;
	vs_io_hook_sync();
	return fdatasync(v->fd) < 0 ? -errno : 0;
}

/* Whole present blocks become ZERO (their space a hole in the file); parts
 * of blocks are punched (write-zeroes) or left (discard). */
static int zero_range(struct vs_blk *b, uint64_t off, uint64_t len, bool discard)
{
	struct vhdx *v = to_vhdx(b);

	VS_BLK_FOR_EACH_PIECE(off, len, v->block_size, blk, in, n)
	{
		uint64_t idx = bat_index(v, blk), e = bat_get(v, idx);
		int64_t host;
		int r;

		if (VHDX_BAT_STATE(e) != VHDX_BAT_FULLY_PRESENT || (discard && n != v->block_size))
			continue;
		host = block_host(v, e);
		if (host < 0)
			return (int)host;
		if (n == v->block_size) {
			pthread_mutex_lock(&v->lock);
			__atomic_store_n(&v->bat[idx], (uint64_t)VHDX_BAT_ZERO, __ATOMIC_RELEASE);
			v->bat_dirty[idx / 512] = 1;
			pthread_mutex_unlock(&v->lock);
		}
		if (n == v->block_size) /* the BAT says zero: the hole only saves space */
			(void)fallocate(v->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, host,
					(off_t)n);
		else if ((r = vs_zero_range(v->fd, (uint64_t)host + in, n)) < 0)
			return r;
	}
	return 0;
}

static int vhdx_discard(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, true);
}

static int vhdx_write_zeroes(struct vs_blk *b, uint64_t off, uint64_t len)
{
	return zero_range(b, off, len, false);
}

static int vhdx_block_status(struct vs_blk *b, uint64_t off, uint64_t len, struct vs_blk_status *st)
{
	struct vhdx *v = to_vhdx(b);
	uint64_t blk = off / v->block_size, e = bat_get(v, bat_index(v, blk));
	bool present = VHDX_BAT_STATE(e) == VHDX_BAT_FULLY_PRESENT;
	uint64_t stop = (blk + 1) * v->block_size, end = off + len;
	int64_t host = 0;

	if (present && (host = block_host(v, e)) < 0)
		return (int)host;
	while (stop < end) {
		uint64_t k = stop / v->block_size, f = bat_get(v, bat_index(v, k));

		if ((VHDX_BAT_STATE(f) == VHDX_BAT_FULLY_PRESENT) != present ||
		    (present && VHDX_BAT_OFFSET(f) != (uint64_t)host + (k - blk) * v->block_size))
			break;
		stop += v->block_size;
	}
	st->len = VS_MIN(stop, end) - off;
	st->depth = 0;
	if (!present) { /* no parent: the BAT decides (zeros) */
		st->flags = VS_BLK_ST_ZERO | VS_BLK_ST_ALLOCATED;
		return 0;
	}
	st->flags = VS_BLK_ST_DATA | VS_BLK_ST_ALLOCATED | VS_BLK_ST_OFFSET;
	st->host_offset = (uint64_t)host + off % v->block_size;
	return 0;
}

static int vhdx_truncate(struct vs_blk *b, uint64_t size, struct vs_err **err)
{
	(void)size; /* as qemu-img */
	return vs_err_set(err, -ENOTSUP, "%s: Image format driver does not support resize",
			  b->filename);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Present blocks inside the file (qemu-img's finding), past the header
 * area, clear of the BAT, metadata and log, and not sharing space. */
static int vhdx_check(struct vs_blk *b, enum vs_blk_repair repair, struct vs_blk_check_result *res,
		      struct vs_err **err)
{
	struct vhdx *v = to_vhdx(b);
	uint64_t size = file_size(v->fd), n = 0;
	_cleanup_free_ uint64_t *offs = xmalloc(v->payload_blocks * 8 + 8);
	int said = 0;

	(void)err;
	(void)repair; /* a read-write open replayed the log, the one repair there is */
	for (uint64_t blk = 0; blk < v->payload_blocks; blk++) {
		uint64_t idx = bat_index(v, blk), e = bat_get(v, idx), off = VHDX_BAT_OFFSET(e);

		if (VHDX_BAT_STATE(e) != VHDX_BAT_FULLY_PRESENT)
			continue;
		if (off + v->block_size > VS_ALIGN_UP(size, VHDX_MIB) || off < VHDX_MIB) {
			res->corruptions++;
			if (said++ < 20) /* qemu-img's words */
				vs_warn("ERROR: VHDX BAT entry %" PRIu64 " start offset %" PRIu64
					" points after end of file (%" PRIu64
					"). Image has probably been truncated.",
					idx, off, size);
			continue;
		}
		offs[n++] = off;
		res->allocated_clusters++;
	}
	qsort(offs, n, 8, cmp_u64);
	for (uint64_t i = 1; i < n; i++)
		if (offs[i] < offs[i - 1] + v->block_size) {
			res->corruptions++;
			if (said++ < 20)
				vs_warn("ERROR: VHDX blocks overlap at file offset %" PRIu64,
					offs[i]);
		}
	res->allocated_clusters = 0; /* qemu-img prints no allocation line for VHDX */
	return 0;
}

static void vhdx_close(struct vs_blk *b)
{
	struct vhdx *v = to_vhdx(b);

	if (!b->ro && v->bat)
		(void)bat_flush(v); /* held-back BAT pages */
	pthread_mutex_destroy(&v->lock);
	if (v->fd >= 0)
		close(v->fd);
	free(v->bat);
	free(v->bat_dirty);
	free(b->filename);
	free(v);
}

static const struct vs_blk_ops vhdx_ops = {
	.name = "vhdx",
	.pread = vhdx_pread,
	.pwrite = vhdx_pwrite,
	.flush = vhdx_flush,
	.discard = vhdx_discard,
	.write_zeroes = vhdx_write_zeroes,
	.block_status = vhdx_block_status,
	.truncate = vhdx_truncate,
	.check = vhdx_check,
	.close = vhdx_close,
};

static void new_guid(uint8_t g[16])
{
	if (getrandom(g, 16, 0) != 16)
		memset(g, 0x5a, 16);
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
}

static int open_layout(struct vhdx *v, unsigned flags, struct vs_err **err)
{
	struct region bat, meta;
	uint8_t ident[8];
	struct meta m;
	uint64_t size = file_size(v->fd);
	int r;

	if (size < VHDX_MIB || vs_pread_full(v->fd, ident, 8, 0) < 0 || !vhdx_is_magic(ident, 8))
		return vs_err_set(err, -EINVAL, "%s: not a VHDX image", v->blk.filename);
	r = read_headers(v, size, err);
	if (r == 0 && !guid_zero(v->hdr.log_guid)) {
		if (flags & VS_BLK_RDONLY)
			return vs_err_set(err, -EROFS,
					  "%s: the VHDX log must be replayed: open it read-write "
					  "(vessel img check -r all)",
					  v->blk.filename);
		r = vhdx_log_replay(v, size, err);
		size = file_size(v->fd);
	}
	if (r == 0)
		r = read_regions(v, size, &bat, &meta, err);
	if (r == 0)
		r = read_metadata(v, &meta, &m, err);
	if (r == 0)
		r = check_meta(v, &m, &bat, err);
	v->size = size;
	if (r == 0)
		r = read_bat(v, size, flags, err);
	if (r == 0 && !(flags & VS_BLK_RDONLY)) { /* before the first change */
		struct vhdx_header h = v->hdr;

		new_guid(h.file_write_guid);
		new_guid(h.data_write_guid);
		if ((r = vhdx_header_commit(v, &h)) < 0)
			r = vs_err_setsys(err, r, "%s: write header", v->blk.filename);
	}
	return r;
}

int vhdx_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err)
{
	struct vhdx *v = xzalloc(sizeof(*v));
	int r;

	v->fd = -1;
	v->blk.ops = &vhdx_ops;
	v->blk.filename = xstrdup(path);
	v->blk.ro = true; /* nothing to flush until it opened */
	v->barriers = !(flags & VS_BLK_UNSAFE);
	pthread_mutex_init(&v->lock, NULL);
	r = vs_blk_file_open(path, flags, false, &v->fd, err);
	if (r == 0)
		r = open_layout(v, flags, err);
	if (r < 0) {
		vhdx_close(&v->blk);
		return r;
	}
	v->blk.ro = flags & VS_BLK_RDONLY;
	*out = &v->blk;
	return 0;
}
