/* The software ioeventfd table: a small array under a rwlock. Writers
 * (device setup, the driver enabling a queue) are rare; readers are the
 * vCPUs' write exits and hold the lock only to scan a few entries. */
#include "vmm/ioevent.h"
#include "vmm/accel.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IOEVENTS 64

struct vs_ioevent_table {
	pthread_rwlock_t lock;
	unsigned n;
	struct vs_ioeventfd ev[MAX_IOEVENTS];
};

int vs_ioevent_table_new(struct vs_ioevent_table **out)
{
	struct vs_ioevent_table *t = xzalloc(sizeof(*t));

	pthread_rwlock_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void vs_ioevent_table_free(struct vs_ioevent_table *t)
{
	if (!t)
		return;
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

static bool same(const struct vs_ioeventfd *a, const struct vs_ioeventfd *b)
{
	return a->addr == b->addr && a->len == b->len && a->flags == b->flags &&
	       (!(a->flags & VS_IOEVENTFD_DATAMATCH) || a->datamatch == b->datamatch);
}

static int find(const struct vs_ioevent_table *t, const struct vs_ioeventfd *ev)
{
	for (unsigned i = 0; i < t->n; i++)
		if (same(&t->ev[i], ev))
			return (int)i;
	return -1;
}

int vs_ioevent_add(struct vs_ioevent_table *t, const struct vs_ioeventfd *ev)
{
	int r = 0;

	if (ev->fd < 0 || !(ev->len == 1 || ev->len == 2 || ev->len == 4 || ev->len == 8))
		return -EINVAL;
	pthread_rwlock_wrlock(&t->lock);
	if (find(t, ev) >= 0)
		r = -EEXIST;
	else if (t->n == MAX_IOEVENTS)
		r = -ENOSPC;
	else
		t->ev[t->n++] = *ev;
	pthread_rwlock_unlock(&t->lock);
	return r;
}

int vs_ioevent_del(struct vs_ioevent_table *t, const struct vs_ioeventfd *ev)
{
	int i;

	pthread_rwlock_wrlock(&t->lock);
	i = find(t, ev);
	if (i >= 0 && t->ev[i].fd == ev->fd) {
		t->ev[i] = t->ev[--t->n];
		i = 0;
	} else {
		i = -ENOENT;
	}
	pthread_rwlock_unlock(&t->lock);
	return i;
}

static bool matches(const struct vs_ioeventfd *e, bool pio, uint64_t addr, uint64_t val,
		    unsigned len)
{
	if (!!(e->flags & VS_IOEVENTFD_PIO) != pio || e->addr != addr || e->len != len)
		return false;
	return !(e->flags & VS_IOEVENTFD_DATAMATCH) || e->datamatch == val;
}

bool vs_ioevent_signal(struct vs_ioevent_table *t, bool pio, uint64_t addr, const void *data,
		       unsigned len)
{
	uint64_t val = 0, one = 1;
	bool hit = false;

	if (!t || len > sizeof(val))
		return false;
	memcpy(&val, data, len);
	pthread_rwlock_rdlock(&t->lock);
	for (unsigned i = 0; i < t->n && !hit; i++) {
		if (!matches(&t->ev[i], pio, addr, val, len))
			continue;
		/* Under the lock: a del()+close() cannot hand us a reused fd.
		 * EAGAIN (counter saturated, EFD_NONBLOCK) still wakes the reader. */
		ssize_t w = write(t->ev[i].fd, &one, sizeof(one));

		(void)w;
		hit = true;
	}
	pthread_rwlock_unlock(&t->lock);
	return hit;
}
