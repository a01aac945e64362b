/* ioeventfds for accelerators without kernel support (emu): a table of
 * (address space, address, length, optional value) -> eventfd that the
 * vCPU's port-I/O and MMIO exit path consults before going to the bus, so a
 * virtqueue notify wakes the device's I/O thread without a bus dispatch. */
#ifndef VS_VMM_IOEVENT_H
#define VS_VMM_IOEVENT_H

#include <stdbool.h>
#include <stdint.h>

struct vs_ioeventfd;
struct vs_ioevent_table;

int vs_ioevent_table_new(struct vs_ioevent_table **out);
void vs_ioevent_table_free(struct vs_ioevent_table *t);

/* Same contract as vs_accel_ops.ioeventfd_add/del: 0, -EEXIST (an entry
 * with the same space, address, length and match), -ENOSPC, -EINVAL (len
 * not 1/2/4/8, fd < 0); del: 0 or -ENOENT. Any thread. */
int vs_ioevent_add(struct vs_ioevent_table *t, const struct vs_ioeventfd *ev);
int vs_ioevent_del(struct vs_ioevent_table *t, const struct vs_ioeventfd *ev);

/* A guest write of len bytes at addr: signals the matching eventfd and
 * returns true (the write is consumed), else false. Never blocks behind a
 * writer of the table for long (a rwlock held for a scan and one eventfd
 * write; register EFD_NONBLOCK eventfds so that write never blocks). */
bool vs_ioevent_signal(struct vs_ioevent_table *t, bool pio, uint64_t addr, const void *data,
		       unsigned len);

#endif
