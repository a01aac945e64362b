/* Range table for port I/O and MMIO: binary search on a small sorted array
 * under a rwlock held only for lookups and edits; per-range in-flight counts
 * let removal wait for running callbacks (iobus.h). */
#include "hw/iobus.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

/* The range this thread is dispatching (for a callback that removes its
 * own range: it must not wait for itself). */
static __thread const struct vs_iobus *cur_bus;
static __thread unsigned cur_slot;

void vs_iobus_init(struct vs_iobus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
	for (unsigned i = 0; i < VS_IOBUS_MAX_RANGES; i++)
		atomic_init(&bus->inflight[i], 0);
}

/* Index where [base, base+len) goes, or -EEXIST on overlap (skip: ignore
 * entry skip, the range being moved). Lock held. */
static int insert_pos(const struct vs_iobus *bus, uint64_t base, uint64_t len, int skip)
{
	unsigned i, pos = bus->n;
	bool found = false;

	for (i = 0; i < bus->n; i++) {
		const struct vs_iobus_range *r = &bus->ranges[i];

		if ((int)i == skip)
			continue;
		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
		if (!found && r->base > base) {
			pos = i;
			found = true;
		}
	}
	return (int)pos;
}

static void insert_at(struct vs_iobus *bus, unsigned i, const struct vs_iobus_range *r)
{
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->n - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = *r;
	bus->n++;
}

static void remove_at(struct vs_iobus *bus, unsigned i)
{
	memmove(&bus->ranges[i], &bus->ranges[i + 1], (bus->n - i - 1) * sizeof(bus->ranges[0]));
	bus->n--;
}

static int free_slot(const struct vs_iobus *bus)
{
	for (unsigned i = 0; i < VS_IOBUS_MAX_RANGES; i++)
		if (!(bus->slots_used & (1ull << i)))
			return (int)i;
	return -ENOSPC;
}

int vs_iobus_register(struct vs_iobus *bus, uint64_t base, uint64_t len,
		      const struct vs_io_ops *ops, void *opaque)
{
	struct vs_iobus_range r = { base, len, ops, opaque, 0 };
	int pos, slot;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	slot = free_slot(bus);
	pos = bus->n == VS_IOBUS_MAX_RANGES ? -ENOSPC : insert_pos(bus, base, len, -1);
	if (pos >= 0 && slot >= 0) {
		r.slot = (unsigned)slot;
		bus->slots_used |= 1ull << slot;
		insert_at(bus, (unsigned)pos, &r);
	}
	pthread_rwlock_unlock(&bus->lock);
	return pos < 0 ? pos : slot < 0 ? slot : 0;
}

static int index_of(const struct vs_iobus *bus, uint64_t base)
{
	for (unsigned i = 0; i < bus->n; i++)
		if (bus->ranges[i].base == base)
			return (int)i;
	return -ENOENT;
}

int vs_iobus_remove(struct vs_iobus *bus, uint64_t base)
{
	unsigned slot, self;
	int i;

	pthread_rwlock_wrlock(&bus->lock);
	i = index_of(bus, base);
	if (i >= 0) {
		slot = bus->ranges[i].slot;
		remove_at(bus, (unsigned)i);
	}
	pthread_rwlock_unlock(&bus->lock);
	if (i < 0)
		return i;
	/* Callbacks are device register accesses: short. Wait them out. */
	self = cur_bus == bus && cur_slot == slot;
	while (atomic_load(&bus->inflight[slot]) > self)
		sched_yield();
	pthread_rwlock_wrlock(&bus->lock);
	bus->slots_used &= ~(1ull << slot);
	pthread_rwlock_unlock(&bus->lock);
	return 0;
}

int vs_iobus_move(struct vs_iobus *bus, uint64_t old_base, uint64_t new_base)
{
	struct vs_iobus_range r;
	int i, pos;

	pthread_rwlock_wrlock(&bus->lock);
	i = index_of(bus, old_base);
	if (i < 0) {
		pos = i;
	} else if (new_base + bus->ranges[i].len < new_base) {
		pos = -EINVAL;
	} else {
		pos = insert_pos(bus, new_base, bus->ranges[i].len, i);
		if (pos >= 0) {
			r = bus->ranges[i];
			r.base = new_base;
			remove_at(bus, (unsigned)i);
			if (pos > i)
				pos--;
			insert_at(bus, (unsigned)pos, &r);
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return pos < 0 ? pos : 0;
}

static const struct vs_iobus_range *find(const struct vs_iobus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct vs_iobus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

/* Looks addr up and pins the range (in-flight count) into *out. */
static bool lookup(struct vs_iobus *bus, uint64_t addr, unsigned len, struct vs_iobus_range *out)
{
	const struct vs_iobus_range *r;
	bool ok;

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, addr);
	ok = r && addr - r->base + len <= r->len;
	if (ok) {
		*out = *r;
		atomic_fetch_add(&bus->inflight[r->slot], 1);
	}
	pthread_rwlock_unlock(&bus->lock);
	return ok;
}

bool vs_iobus_access(struct vs_iobus *bus, uint64_t addr, bool is_write, void *data, unsigned len)
{
	const struct vs_iobus *prev_bus = cur_bus;
	unsigned prev_slot = cur_slot;
	struct vs_iobus_range r;

	if (!lookup(bus, addr, len, &r)) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	cur_bus = bus;
	cur_slot = r.slot;
	if (is_write) {
		if (r.ops->write)
			r.ops->write(r.opaque, addr - r.base, data, len);
	} else if (r.ops->read) {
		r.ops->read(r.opaque, addr - r.base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	cur_bus = prev_bus;
	cur_slot = prev_slot;
	atomic_fetch_sub(&bus->inflight[r.slot], 1);
	return true;
}
