/* VHDX log replay ([MS-VHDX] 2.3): a writer (Hyper-V, QEMU) that crashed
 * between logging a metadata change and writing it in place leaves the
 * header naming a log. The log is a circular buffer of entries; each entry
 * is a 64-byte header, 32-byte descriptors (data: one 4 KiB sector to write
 * at a file offset, its first 8 and last 4 bytes kept in the descriptor;
 * zero: a run to zero) padded to 4 KiB, then one 4 KiB data sector per data
 * descriptor ("data", the sequence number split around 4084 bytes). The
 * active sequence is the chain of valid entries (checksum, the header's log
 * GUID, consecutive sequence numbers) with the highest sequence number whose
 * last entry's tail points at its first; it is applied in order, the file
 * is grown to the flushed size the last entry records, and a header without
 * the log is committed. Nothing is written outside the log's own rules:
 * offsets are 4 KiB aligned, past the 1 MiB header area and at most 64 MiB
 * past what the file and the log say its end is. */
#include "block/vhdx-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/io.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_SECTOR 4096u
#define MAX_PAST_EOF (64ull << 20)

struct entry {
	uint64_t pos, len, tail, seq, flushed;
	uint32_t ndesc;
};

/* Reads len bytes of the log at log offset pos, wrapping at its end. */
static int log_read(struct vhdx *v, uint64_t pos, void *buf, uint64_t len)
{
	uint64_t loglen = v->hdr.log_length, first = VS_MIN(len, loglen - pos % loglen);
	int r = vs_pread_full(v->fd, buf, first, v->hdr.log_offset + pos % loglen);

	if (r == 0 && first < len)
		r = vs_pread_full(v->fd, (uint8_t *)buf + first, len - first, v->hdr.log_offset);
	return r;
}

static uint32_t u32at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t u64at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* Checks every descriptor and data sector of the entry in buf. */
static bool descriptors_valid(const uint8_t *buf, const struct entry *e, uint64_t dsec)
{
	uint64_t data = 0;

	for (uint32_t i = 0; i < e->ndesc; i++) {
		const uint8_t *d = buf + 64 + 32 * i;
		bool zero = !memcmp(d, "zero", 4);

		if ((!zero && memcmp(d, "desc", 4)) || u64at(d + 24) != e->seq ||
		    u64at(d + 16) % LOG_SECTOR || (zero && u64at(d + 8) % LOG_SECTOR))
			return false;
		if (!zero) {
			const uint8_t *s = buf + (dsec + data++) * LOG_SECTOR;

			if (memcmp(s, "data", 4) ||
			    (((uint64_t)u32at(s + 4) << 32) | u32at(s + 4092)) != e->seq)
				return false;
		}
	}
	return dsec + data == e->len / LOG_SECTOR;
}

/* The entry at log offset pos, if valid; *buf holds it (caller frees). */
static bool entry_at(struct vhdx *v, uint64_t pos, struct entry *e, uint8_t **buf)
{
	uint8_t h[64];
	uint32_t sum;
	uint64_t dsec;

	*buf = NULL;
	if (log_read(v, pos, h, sizeof(h)) < 0 || memcmp(h, "loge", 4) ||
	    memcmp(h + 32, v->hdr.log_guid, 16))
		return false;
	*e = (struct entry){ .pos = pos,
			     .len = u32at(h + 8),
			     .tail = u32at(h + 12),
			     .seq = u64at(h + 16),
			     .ndesc = u32at(h + 24),
			     .flushed = u64at(h + 48) };
	if (!e->len || e->len % LOG_SECTOR || e->len > v->hdr.log_length || e->tail % LOG_SECTOR ||
	    e->tail >= v->hdr.log_length || e->ndesc > (e->len / LOG_SECTOR) * (LOG_SECTOR / 32))
		return false;
	dsec = (64 + 32ull * e->ndesc + LOG_SECTOR - 1) / LOG_SECTOR;
	if (dsec > e->len / LOG_SECTOR)
		return false;
	*buf = xmalloc(e->len);
	if (log_read(v, pos, *buf, e->len) < 0)
		goto bad;
	memcpy(&sum, *buf + 4, 4);
	if (le32toh(sum) != vhdx_checksum(*buf, e->len) || !descriptors_valid(*buf, e, dsec))
		goto bad;
	return true;
bad:
	free(*buf);
	*buf = NULL;
	return false;
}

static int apply_entry(struct vhdx *v, const uint8_t *buf, const struct entry *e, uint64_t limit)
{
	uint64_t dsec = (64 + 32ull * e->ndesc + LOG_SECTOR - 1) / LOG_SECTOR, data = 0;
	uint8_t sector[LOG_SECTOR];
	int r = 0;

	for (uint32_t i = 0; i < e->ndesc && r == 0; i++) {
		const uint8_t *d = buf + 64 + 32 * i, *s;
		uint64_t off = u64at(d + 16),
			 len = !memcmp(d, "zero", 4) ? u64at(d + 8) : LOG_SECTOR;

		if (off < VHDX_MIB || off > limit || len > limit - off)
			return -EINVAL;
		if (!memcmp(d, "zero", 4)) {
			r = vs_zero_range(v->fd, off, len);
			continue;
		}
		s = buf + (dsec + data++) * LOG_SECTOR;
		memcpy(sector, d + 8, 8); /* leading bytes */
		memcpy(sector + 8, s + 8, 4084);
		memcpy(sector + 4092, d + 4, 4); /* trailing bytes */
		r = vs_pwrite_full(v->fd, sector, LOG_SECTOR, off);
	}
	return r;
}

static int replay(struct vhdx *v, uint64_t start, unsigned n, uint64_t file_size)
{
	uint64_t pos = start, flushed = 0;
	struct entry e;
	uint8_t *buf;
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		if (!entry_at(v, pos, &e, &buf))
			return -EIO; /* changed under us */
		if (e.flushed > file_size + (64ull << 30))
			r = -EINVAL;
		else
			r = apply_entry(v, buf, &e, VS_MAX(file_size, e.flushed) + MAX_PAST_EOF);
		free(buf);
		flushed = VS_MAX(flushed, e.flushed);
		pos = (pos + e.len) % v->hdr.log_length;
	}
	if (r == 0 && flushed > file_size && ftruncate(v->fd, (off_t)flushed) < 0)
		r = -errno;
	if (r == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	return r;
}

struct slot {
	struct entry e;
	bool valid;
	uint64_t tot; /* bytes of the chain from here */
	unsigned n; /* entries of the chain from here */
	uint64_t last; /* slot of its last entry */
};

static int by_seq_desc(const void *a, const void *b, void *arg)
{
	const struct slot *s = arg;
	uint64_t x = s[*(const uint64_t *)a].e.seq, y = s[*(const uint64_t *)b].e.seq;

	return x > y ? -1 : x < y;
}

/* Every valid entry once, then the chains from each, latest entries first
 * (a chain's sequence numbers rise, so a chain's rest is known before it). */
static void find_chains(struct vhdx *v, struct slot *s, uint64_t n)
{
	_cleanup_free_ uint64_t *order = xmalloc(n * 8 + 8);
	uint8_t *buf;

	for (uint64_t i = 0; i < n; i++) {
		s[i].valid = entry_at(v, i * LOG_SECTOR, &s[i].e, &buf);
		free(buf);
		order[i] = i;
	}
	qsort_r(order, n, 8, by_seq_desc, s);
	for (uint64_t k = 0; k < n; k++) {
		struct slot *c = &s[order[k]];
		uint64_t nx = (order[k] * LOG_SECTOR + c->e.len) % v->hdr.log_length / LOG_SECTOR;

		if (!c->valid)
			continue;
		c->n = 1, c->tot = c->e.len, c->last = order[k];
		if (s[nx].valid && s[nx].e.seq == c->e.seq + 1 && s[nx].n &&
		    c->e.len + s[nx].tot <= v->hdr.log_length) {
			c->n += s[nx].n;
			c->tot += s[nx].tot;
			c->last = s[nx].last;
		}
	}
}

int vhdx_log_replay(struct vhdx *v, uint64_t file_size, struct vs_err **err)
{
	uint64_t n = v->hdr.log_length / LOG_SECTOR, best = UINT64_MAX;
	_cleanup_free_ struct slot *s = xzalloc(n * sizeof(*s) + sizeof(*s));
	struct vhdx_header h = v->hdr;
	int r = 0;

	find_chains(v, s, n);
	for (uint64_t i = 0; i < n; i++) {
		const struct entry *last = &s[s[i].last].e;

		if (s[i].valid && s[i].n && last->tail == i * LOG_SECTOR &&
		    (best == UINT64_MAX || last->seq > s[s[best].last].e.seq))
			best = i;
	}
	if (best != UINT64_MAX)
		r = replay(v, best * LOG_SECTOR, s[best].n, file_size);
	if (r < 0)
		return vs_err_set(err, r, "%s: the VHDX log cannot be replayed (%s)",
				  v->blk.filename,
				  r == -EINVAL ? "an entry writes outside the image" : "I/O error");
	memset(h.log_guid, 0, sizeof(h.log_guid));
	r = vhdx_header_commit(v, &h);
	return r < 0 ? vs_err_setsys(err, r, "%s: write header", v->blk.filename) : 0;
}
