/* A small cache of cluster-sized metadata tables (L2 tables, refcount
 * blocks). Lookup hashes the offset and probes a window of slots; a miss
 * evicts the least recently used slot of that window, preferring clean ones.
 * Refcount blocks are write-through. L2 tables may be dirty: with barriers
 * (io.c), entry updates wait in the cache for the next metadata flush; a
 * dirty slot that must be evicted is written after an fdatasync (everything
 * its entries depend on was written before it). Callers hold q->meta (or the
 * layout lock exclusive) and must not keep a pointer across another get/new
 * on the same cache, which may evict it. */
#include "block/qcow2/internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_WINDOW 8u

void qcow2_cache_init(struct qcow2_cache *c, unsigned n, uint64_t cluster_size)
{
	if (n < CACHE_WINDOW)
		n = CACHE_WINDOW;
	c->n = n;
	c->tick = 0;
	c->ndirty = 0;
	c->slots = xzalloc(sizeof(*c->slots) * n);
	for (unsigned i = 0; i < n; i++)
		c->slots[i].buf = xmalloc(cluster_size);
}

void qcow2_cache_destroy(struct qcow2_cache *c)
{
	if (!c->slots)
		return;
	for (unsigned i = 0; i < c->n; i++)
		free(c->slots[i].buf);
	free(c->slots);
	c->slots = NULL;
}

static unsigned cache_home(const struct qcow2_cache *c, uint64_t off)
{
	uint64_t h = off * 0x9e3779b97f4a7c15ULL;

	return (unsigned)((h >> 32) % c->n);
}

/* Returns the slot holding off, or the victim slot (with off != slot->off). */
static struct qcow2_cache_slot *cache_find(struct qcow2_cache *c, uint64_t off)
{
	unsigned home = cache_home(c, off);
	struct qcow2_cache_slot *victim = NULL;

	for (unsigned i = 0; i < CACHE_WINDOW; i++) {
		struct qcow2_cache_slot *s = &c->slots[(home + i) % c->n];

		if (s->off == off)
			return s;
		if (!victim || (victim->dirty && !s->dirty) ||
		    (victim->dirty == s->dirty && s->used < victim->used))
			victim = s;
	}
	return victim;
}

static int write_back(struct qcow2 *q, struct qcow2_cache *c, struct qcow2_cache_slot *s)
{
	int r = qcow2_file_write(q, c == &q->l2c ? QCOW2_OL_ACTIVE_L2 : QCOW2_OL_REFCOUNT_BLOCK,
				 s->buf, q->cluster_size, s->off);

	if (r == 0) {
		s->dirty = false;
		c->ndirty--;
	}
	return r;
}

/* Makes victim s reusable: a dirty table goes to the file first. */
static int evict(struct qcow2 *q, struct qcow2_cache *c, struct qcow2_cache_slot *s)
{
	int r;

	if (!s->dirty)
		return 0;
	r = qcow2_sync(q);
	return r < 0 ? r : write_back(q, c, s);
}

int qcow2_cache_write_dirty(struct qcow2 *q, struct qcow2_cache *c)
{
	int r = 0;

	for (unsigned i = 0; i < c->n && c->ndirty && r == 0; i++)
		if (c->slots[i].dirty)
			r = write_back(q, c, &c->slots[i]);
	return r;
}

void qcow2_cache_set_dirty(struct qcow2_cache *c, uint64_t off)
{
	struct qcow2_cache_slot *s = cache_find(c, off);

	if (s->off == off && !s->dirty) {
		s->dirty = true;
		c->ndirty++;
	}
}

int qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
	struct qcow2_cache_slot *s = cache_find(c, off);
	int r;

	if (s->off != off) {
		r = evict(q, c, s);
		if (r < 0)
			return r;
		s->off = 0;
		r = vs_pread_full(q->fd, s->buf, q->cluster_size, off);
		if (r < 0)
			return r;
		s->off = off;
	}
	s->used = ++c->tick;
	*out = s->buf;
	return 0;
}

int qcow2_cache_new(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, uint8_t **out)
{
	struct qcow2_cache_slot *s = cache_find(c, off);
	int r = s->off == off ? 0 : evict(q, c, s);

	if (r < 0)
		return r;
	if (s->dirty) { /* the same table again: its old content is void */
		s->dirty = false;
		c->ndirty--;
	}
	memset(s->buf, 0, q->cluster_size);
	s->off = off;
	s->used = ++c->tick;
	*out = s->buf;
	return 0;
}

/* Forgets off (a table being freed: pending updates to it are void too). */
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
	struct qcow2_cache_slot *s = cache_find(c, off);

	if (s->off == off) {
		s->off = 0;
		if (s->dirty)
			c->ndirty--;
		s->dirty = false;
	}
}

void qcow2_cache_clear(struct qcow2_cache *c)
{
	assert(c->ndirty == 0); /* callers flush metadata first */
	for (unsigned i = 0; i < c->n; i++)
		c->slots[i].off = 0;
}
