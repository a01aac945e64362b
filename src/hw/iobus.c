/* Range table for port I/O and MMIO; binary search on a small sorted array. */
#include "hw/iobus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void vs_iobus_init(struct vs_iobus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int vs_iobus_register(struct vs_iobus *bus, uint64_t base, uint64_t len,
		      const struct vs_io_ops *ops, void *opaque)
{
	unsigned i;

	if (!len || base + len < base)
		return -EINVAL;
	if (bus->n == VS_IOBUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->n; i++) {
		const struct vs_iobus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
		if (r->base > base)
			break;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->n - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct vs_iobus_range){ base, len, ops, opaque };
	bus->n++;
	return 0;
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

bool vs_iobus_access(const struct vs_iobus *bus, uint64_t addr, bool is_write, void *data,
		     unsigned len)
{
	const struct vs_iobus_range *r = find(bus, addr);

	if (!r || addr - r->base + len > r->len) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}
