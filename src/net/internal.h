/* Declarations shared inside src/net only. */
#ifndef VS_NET_INTERNAL_H
#define VS_NET_INTERNAL_H

#include "common/err.h"

#include <stdbool.h>
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

struct vs_nft_rule;

/* The table as nft commands name it. */
#define VS_NAT_T "inet vessel"

/* Every rule of the vessel table that carries a comment (*v, free()).
 * Returns 0 or -errno (-ENOENT: no table). */
int net_nat_rules(int netns_fd, struct vs_nft_rule **v, size_t *n, struct vs_err **err);

/* Deletes, in one transaction, every rule whose comment satisfies match.
 * Returns how many or -errno. */
int net_nat_del_where(int netns_fd, bool (*match)(const char *comment, const void *arg),
		      const void *arg, struct vs_err **err);

/* A match for net_nat_del_where: the comment starts with the string prefix. */
bool net_nat_has_prefix(const char *comment, const void *prefix);

/* User input as error messages show it: printable ASCII only (others
 * become '?'), at most VS_NET_SHOW_MAX bytes ("..." after), so a message
 * stays one line whatever was typed or posted. Returns buf. */
#define VS_NET_SHOW_MAX 64
char *net_show(const char *s, char buf[VS_NET_SHOW_MAX + 4]);

#endif
