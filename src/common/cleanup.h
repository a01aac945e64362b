/* Scope-bound cleanup helpers (GCC/Clang cleanup attribute).
 *
 * Locals declared with these are released when they go out of scope; hand
 * ownership on with steal_ptr()/steal_fd(). Initialise to NULL or -1. */
#ifndef VS_COMMON_CLEANUP_H
#define VS_COMMON_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

static inline void vs_freep(void *p)
{
	free(*(void **)p);
}

static inline void vs_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(vs_freep)
#define _cleanup_close_ _cleanup_(vs_closep)

/* VS_DEFINE_CLEANUP(struct foo, foo_free) makes foo_freep() for _cleanup_(foo_freep). */
#define VS_DEFINE_CLEANUP(type, fn)        \
	static inline void fn##p(type **p) \
	{                                  \
		fn(*p);                    \
	}

#define steal_ptr(p)                      \
	({                                \
		__typeof__(p) _tmp = (p); \
		(p) = NULL;               \
		_tmp;                     \
	})

#define steal_fd(fd)             \
	({                       \
		int _tmp = (fd); \
		(fd) = -1;       \
		_tmp;            \
	})

#endif
