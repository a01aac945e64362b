/* Port-I/O and MMIO dispatch: devices register address ranges with a const
 * ops table; the accelerator's exit handler calls vs_iobus_access(). Devices
 * never know which accelerator runs the guest.
 *
 * Ranges can be added, moved and removed while vCPUs dispatch (the guest
 * programs PCI BARs). A dispatch holds the bus's rwlock only to look the
 * range up and pin it (an in-flight count), never across the device's
 * callback; a change holds it only to edit a 64-entry array. So a vCPU is
 * never blocked behind a device callback or a slow writer, and
 * vs_iobus_remove() returns only when no callback for that range is still
 * running (the device may then free what opaque points to). An rwlock with
 * these short sections was chosen over RCU-style copy-on-write because
 * removal needs exactly this "no callback in flight" guarantee, which a
 * per-range count gives without grace-period machinery. */
#ifndef VS_HW_IOBUS_H
#define VS_HW_IOBUS_H

#include <pthread.h>
#include <stdatomic.h>
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
	unsigned slot; /* index into the bus's in-flight counts */
};

#define VS_IOBUS_MAX_RANGES 64

struct vs_iobus {
	const char *name; /* "pio" or "mmio", for log lines */
	pthread_rwlock_t lock;
	unsigned n;
	struct vs_iobus_range ranges[VS_IOBUS_MAX_RANGES]; /* sorted by base, disjoint */
	uint64_t slots_used; /* bit i: inflight[i] is taken */
	atomic_uint inflight[VS_IOBUS_MAX_RANGES]; /* callbacks running per slot */
};

void vs_iobus_init(struct vs_iobus *bus, const char *name);

/* Registers [base, base+len). Returns 0, -EEXIST on overlap, -ENOSPC when full,
 * -EINVAL for an empty or wrapping range. Any thread. */
int vs_iobus_register(struct vs_iobus *bus, uint64_t base, uint64_t len,
		      const struct vs_io_ops *ops, void *opaque);

/* Removes the range registered at base and waits until none of its
 * callbacks runs (a callback of that range on this thread, which is
 * removing itself, is not waited for). Returns 0 or -ENOENT. Any thread. */
int vs_iobus_remove(struct vs_iobus *bus, uint64_t base);

/* Moves the range at old_base to new_base (same length, ops, opaque).
 * Returns 0, -ENOENT, -EEXIST (would overlap another range; nothing moved)
 * or -EINVAL (would wrap). Any thread. */
int vs_iobus_move(struct vs_iobus *bus, uint64_t old_base, uint64_t new_base);

/* Dispatches one access. Returns false if nothing is mapped at addr (then a
 * read fills data with 0xff bytes). An access that straddles a range end is
 * treated as unmapped. Any thread. */
bool vs_iobus_access(struct vs_iobus *bus, uint64_t addr, bool is_write, void *data, unsigned len);

#endif
