/* Declarations shared inside src/net only. */
#ifndef VS_NET_INTERNAL_H
#define VS_NET_INTERNAL_H

#include "common/err.h"

#include <stddef.h>

/* Hands an error caught in a local (to look at its code first) on to the
 * caller's err, which may be NULL or already hold the first error. */
static inline void net_err_pass(struct vs_err **err, struct vs_err *e)
{
	if (err && !*err)
		*err = e;
	else
		vs_err_free(e);
}

/* User input as error messages show it: printable ASCII only (others
 * become '?'), at most VS_NET_SHOW_MAX bytes ("..." after), so a message
 * stays one line whatever was typed or posted. Returns buf. */
#define VS_NET_SHOW_MAX 64
char *net_show(const char *s, char buf[VS_NET_SHOW_MAX + 4]);

#endif
