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

#endif
