/* Port-I/O and MMIO dispatch: devices register address ranges with a const
 * ops table; the accelerator's exit handler calls vs_iobus_access(). Devices
 * never know which accelerator runs the guest. */
#ifndef VS_HW_IOBUS_H
#define VS_HW_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

struct vs_io_ops {
	/* off is relative to the registered base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t off, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t off, const void *data, unsigned len);
};

struct vs_iobus_range {
	uint64_t base;
	uint64_t len;
	const struct vs_io_ops *ops;
	void *opaque;
};

#define VS_IOBUS_MAX_RANGES 64

struct vs_iobus {
	const char *name; /* "pio" or "mmio", for log lines */
	unsigned n;
	struct vs_iobus_range ranges[VS_IOBUS_MAX_RANGES]; /* sorted by base, disjoint */
};

void vs_iobus_init(struct vs_iobus *bus, const char *name);

/* Registers [base, base+len). Returns 0, -EEXIST on overlap, -ENOSPC when full,
 * -EINVAL for an empty or wrapping range. Not thread-safe: register before
 * vCPUs run. */
int vs_iobus_register(struct vs_iobus *bus, uint64_t base, uint64_t len,
		      const struct vs_io_ops *ops, void *opaque);

/* Dispatches one access. Returns false if nothing is mapped at addr (then a
 * read fills data with 0xff bytes). An access that straddles a range end is
 * treated as unmapped. */
bool vs_iobus_access(const struct vs_iobus *bus, uint64_t addr, bool is_write, void *data,
		     unsigned len);

#endif
