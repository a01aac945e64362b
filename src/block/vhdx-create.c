/* Creating VHDX disks with qemu-img's layout: the file identifier, two
 * headers (sequence 1 and 2) and two region tables in the first MiB, the
 * log at 1 MiB (log_size), then the BAT (rounded to 1 MiB), the metadata
 * region (1 MiB: its table, then file parameters, virtual disk size, page 83
 * id and the sector sizes at 64 KiB), then payload blocks. Fixed disks map
 * every block at creation, in order. */
#include "block/file.h"
#include "block/vhdx-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

struct layout {
	uint64_t size, block, log_off, log_len, bat_off, bat_len, meta_off, data_off;
	uint64_t payload, n_bat;
	uint32_t chunk_ratio;
};

/* qemu-img's automatic block size. */
static uint64_t auto_block(uint64_t size)
{
	return size > (32ull << 40)  ? 64 * VHDX_MIB :
	       size > (100ull << 30) ? 32 * VHDX_MIB :
	       size > (1ull << 30)   ? 16 * VHDX_MIB :
				       8 * VHDX_MIB;
}

static void plan(const struct vhdx_create_opts *o, struct layout *l)
{
	l->size = VS_ALIGN_UP(o->size, 512ull);
	l->block = o->block_size ? o->block_size : auto_block(l->size);
	l->chunk_ratio = (uint32_t)(((1ull << 23) * 512) / l->block);
	l->payload = (l->size + l->block - 1) / l->block;
	l->n_bat = l->payload ? l->payload + (l->payload - 1) / l->chunk_ratio : 0;
	l->log_off = VHDX_MIB;
	l->log_len = o->log_size ? o->log_size : VHDX_MIB;
	l->bat_off = l->log_off + l->log_len;
	l->bat_len = VS_ALIGN_UP(VS_MAX(l->n_bat * 8, 1ull), VHDX_MIB);
	l->meta_off = l->bat_off + l->bat_len;
	l->data_off = l->meta_off + VHDX_MIB;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void guid(uint8_t g[16])
{
	if (getrandom(g, 16, 0) != 16)
		memset(g, 0x3c, 16);
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
}

/* The first MiB: identifier, headers, region tables. */
static int write_front(int fd, const struct layout *l)
{
	_cleanup_free_ uint8_t *f = xzalloc(VHDX_MIB);
	static const char creator[] = "vessel";
	struct vhdx_header h = { 0 };

	memcpy(f, "vhdxfile", 8);
	for (size_t i = 0; i < sizeof(creator) - 1; i++)
		f[8 + 2 * i] = (uint8_t)creator[i]; /* UTF-16LE */
	guid(h.file_write_guid);
	guid(h.data_write_guid);
	for (int i = 0; i < 2; i++) {
		uint8_t *p = f + (i ? VHDX_HEADER2 : VHDX_HEADER1);

		memcpy(p, "head", 4);
		put64(p + 8, (uint64_t)i + 1);
		memcpy(p + 16, h.file_write_guid, 16);
		memcpy(p + 32, h.data_write_guid, 16);
		p[66] = 1; /* version 1, log version 0 */
		put32(p + 68, (uint32_t)l->log_len);
		put64(p + 72, l->log_off);
		put32(p + 4, vhdx_checksum(p, VHDX_HEADER_LEN));
	}
	for (int i = 0; i < 2; i++) {
		uint8_t *p = f + (i ? VHDX_REGION2 : VHDX_REGION1);

		memcpy(p, "regi", 4);
		put32(p + 8, 2);
		memcpy(p + 16, vhdx_guid_bat, 16);
		put64(p + 32, l->bat_off);
		put32(p + 40, (uint32_t)l->bat_len);
		put32(p + 44, 1); /* required */
		memcpy(p + 48, vhdx_guid_meta, 16);
		put64(p + 64, l->meta_off);
		put32(p + 72, VHDX_MIB);
		put32(p + 76, 1);
		put32(p + 4, vhdx_checksum(p, VHDX_REGION_LEN));
	}
	return vs_pwrite_full(fd, f, VHDX_MIB, 0);
}

static int write_metadata(int fd, const struct layout *l)
{
	static const struct {
		const uint8_t *guid;
		uint32_t len, flags;
	} items[] = { { vhdx_guid_file_params, 8, 4 },
		      { vhdx_guid_disk_size, 8, 6 },
		      { vhdx_guid_page83, 16, 6 },
		      { vhdx_guid_lsec, 4, 6 },
		      { vhdx_guid_psec, 4, 6 } };
	uint8_t m[VHDX_META_ITEMS_OFF + 64] = { 0 };
	uint32_t off = VHDX_META_ITEMS_OFF;

	memcpy(m, "metadata", 8);
	m[10] = (uint8_t)VS_ARRAY_SIZE(items);
	for (size_t i = 0; i < VS_ARRAY_SIZE(items); i++) {
		uint8_t *e = m + 32 + 32 * i;

		memcpy(e, items[i].guid, 16);
		put32(e + 16, off);
		put32(e + 20, items[i].len);
		put32(e + 24, items[i].flags);
		off += items[i].len;
	}
	put32(m + VHDX_META_ITEMS_OFF, (uint32_t)l->block); /* flags 0 */
	put64(m + VHDX_META_ITEMS_OFF + 8, l->size);
	guid(m + VHDX_META_ITEMS_OFF + 16);
	put32(m + VHDX_META_ITEMS_OFF + 32, 512);
	put32(m + VHDX_META_ITEMS_OFF + 36, 512);
	return vs_pwrite_full(fd, m, sizeof(m), l->meta_off);
}

static int write_bat(int fd, const struct layout *l, const struct vhdx_create_opts *o)
{
	_cleanup_free_ uint64_t *bat = xzalloc(l->n_bat * 8 + 8);

	for (uint64_t b = 0; b < l->payload; b++) {
		uint64_t idx = b + b / l->chunk_ratio;

		bat[idx] = htole64(o->fixed ?
					   (l->data_off + b * l->block) | VHDX_BAT_FULLY_PRESENT :
				   o->zero_state ? VHDX_BAT_ZERO :
						   VHDX_BAT_NOT_PRESENT);
	}
	return vs_pwrite_full(fd, bat, l->n_bat * 8, l->bat_off);
}

static int write_all(int fd, const struct layout *l, const struct vhdx_create_opts *o)
{
	uint64_t end = l->data_off + (o->fixed ? l->payload * l->block : 0);
	int r;

	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)end) < 0)
		return -errno;
	r = write_front(fd, l);
	if (r == 0)
		r = write_metadata(fd, l);
	if (r == 0)
		r = write_bat(fd, l, o);
	if (r == 0 && o->fixed && (o->prealloc_falloc || o->prealloc_full))
		r = vs_preallocate(fd, l->data_off, end - l->data_off, o->prealloc_full);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	return r;
}

int vhdx_create(const char *path, const struct vhdx_create_opts *o, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	struct layout l;
	int r;

	if (!o->size || o->size > VHDX_MAX_SIZE)
		return vs_err_set(err, -EINVAL, "%s: VHDX size must be from 512 bytes to 64 TiB",
				  path);
	if (o->block_size && (o->block_size < VHDX_MIN_BLOCK || o->block_size > VHDX_MAX_BLOCK ||
			      (o->block_size & (o->block_size - 1))))
		return vs_err_set(
			err, -EINVAL,
			"%s: VHDX block size must be a power of two from 1 MiB to 256 MiB", path);
	if (o->log_size && (o->log_size % VHDX_MIB || o->log_size > (1ull << 32) - VHDX_MIB))
		return vs_err_set(err, -EINVAL, "%s: VHDX log size must be a multiple of 1 MiB",
				  path);
	plan(o, &l);
	r = vs_blk_file_open(path, 0, true, &fd, err);
	if (r < 0)
		return r;
	r = write_all(fd, &l, o);
	if (r < 0) {
		(void)unlink(path); /* nothing half-created */
		return vs_err_setsys(err, r, "%s: create", path);
	}
	return 0;
}
