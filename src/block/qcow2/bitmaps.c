/* The persistent bitmaps' directory, validated on open as QEMU's
 * qcow2-bitmap.c does (bitmap_list_load, check_dir_entry), in its words:
 * vessel does not use the bitmaps (header.c, check.c), but it refuses the
 * images qemu-img refuses. Only while the autoclear bit says they are
 * valid: otherwise QEMU ignores them too. */
#include "block/qcow2/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>

/* qcow2.txt "Bitmap directory" and QEMU's limits */
#define BME_ENTRY_LEN 24
#define BME_MAX_TABLE_SIZE 0x8000000ULL
#define BME_MAX_PHYS_SIZE 0x20000000ULL
#define BME_MIN_GRANULARITY 9
#define BME_MAX_GRANULARITY 31
#define BME_FLAG_IN_USE (1U << 0)
#define BME_FLAG_AUTO (1U << 1)
#define BME_MAX_NAME 1023
#define BT_DIRTY_TRACKING 1

struct bme {
	uint64_t table_offset;
	uint32_t table_size, flags;
	uint8_t type, granularity_bits;
	uint16_t name_size;
	uint32_t extra_size;
};

static void bme_read(const uint8_t *p, struct bme *e)
{
	e->table_offset = be64toh(*(const uint64_t *)p);
	e->table_size = be32toh(*(const uint32_t *)(p + 8));
	e->flags = be32toh(*(const uint32_t *)(p + 12));
	e->type = p[16];
	e->granularity_bits = p[17];
	e->name_size = be16toh(*(const uint16_t *)(p + 18));
	e->extra_size = be32toh(*(const uint32_t *)(p + 20));
}

/* QEMU's check_dir_entry. */
static bool bme_ok(const struct qcow2 *q, const struct bme *e)
{
	uint64_t phys = (uint64_t)e->table_size * q->cluster_size;

	if (!e->table_size || !e->table_offset || qcow2_offset_into_cluster(q, e->table_offset) ||
	    e->table_size > BME_MAX_TABLE_SIZE || e->granularity_bits > BME_MAX_GRANULARITY ||
	    e->granularity_bits < BME_MIN_GRANULARITY ||
	    (e->flags & ~(BME_FLAG_IN_USE | BME_FLAG_AUTO)) || e->name_size > BME_MAX_NAME ||
	    e->type != BT_DIRTY_TRACKING || phys > BME_MAX_PHYS_SIZE)
		return false;
	/* a bitmap not in use must cover the whole disk */
	return (e->flags & BME_FLAG_IN_USE) || q->blk.size <= ((phys * 8) << e->granularity_bits);
}

static int walk(struct qcow2 *q, const uint8_t *d, uint64_t len, struct vs_err **err)
{
	const char *f = q->blk.filename;
	uint64_t p = 0, n = 0;
	struct bme e;

	while (p < len) {
		if (len - p < BME_ENTRY_LEN)
			return vs_err_set(err, -EINVAL, "%s: Broken bitmap directory", f);
		bme_read(d + p, &e);
		if (++n > q->nb_bitmaps)
			return vs_err_set(
				err, -EINVAL,
				"%s: More bitmaps found than specified in header extension", f);
		if (e.extra_size)
			return vs_err_set(err, -ENOTSUP, "%s: Bitmap extra data is not supported",
					  f);
		if ((uint64_t)e.name_size > len - p - BME_ENTRY_LEN)
			return vs_err_set(err, -EINVAL, "%s: Broken bitmap directory", f);
		if (!bme_ok(q, &e))
			return vs_err_set(err, -EINVAL,
					  "%s: Bitmap '%.*s' doesn't satisfy the constraints", f,
					  (int)e.name_size, (const char *)(d + p + BME_ENTRY_LEN));
		p = VS_ALIGN_UP(p + BME_ENTRY_LEN + e.name_size, 8);
	}
	if (n < q->nb_bitmaps)
		return vs_err_set(err, -EINVAL,
				  "%s: Less bitmaps found than specified in header extension", f);
	return 0;
}

int qcow2_bitmaps_validate(struct qcow2 *q, struct vs_err **err)
{
	uint8_t *d;
	int r;

	/* header.c kept the extension only with the autoclear bit set and
	 * checked its fields (a directory size up to 64 MiB) */
	if (!(q->autoclear & QCOW2_AUTOCLEAR_BITMAPS) || !q->nb_bitmaps || !q->bitmap_dir_size)
		return 0;
	d = xmalloc(q->bitmap_dir_size);
	r = vs_pread_full(q->fd, d, q->bitmap_dir_size, q->bitmap_dir_off);
	if (r < 0)
		r = vs_err_setsys(err, r, "%s: Failed to read bitmap directory", q->blk.filename);
	else
		r = walk(q, d, q->bitmap_dir_size, err);
	free(d);
	return r;
}
