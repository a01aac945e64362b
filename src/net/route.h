/* IPv4 routes in the main table: add, remove, default route, list, and the
 * check that a new subnet does not collide with an existing route. */
#ifndef VS_NET_ROUTE_H
#define VS_NET_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct vs_cidr;
struct vs_err;
struct vs_nl;

struct vs_route {
	uint32_t dst; /* host byte order; 0 with prefix 0: the default route */
	uint8_t prefix;
	uint32_t gateway; /* 0: on-link (scope link) */
	int oif; /* output ifindex, 0: let the kernel pick from the gateway */
	uint8_t type; /* RTN_* (listing only; routes added are RTN_UNICAST) */
	uint8_t protocol; /* RTPROT_* (listing only; routes added are RTPROT_STATIC) */
};

/* Adds r to the main table. Returns 0, -EEXIST or another -errno. */
int vs_route_add(struct vs_nl *nl, const struct vs_route *r, struct vs_err **err);

/* Removes r (matched on dst/prefix, plus gateway and oif when set). */
int vs_route_del(struct vs_nl *nl, const struct vs_route *r, struct vs_err **err);

/* Adds the default route via gateway on link oif. */
int vs_route_add_default(struct vs_nl *nl, uint32_t gateway, int oif, struct vs_err **err);

/* Lists the IPv4 unicast routes of the main table. Returns 0 or -errno; on
 * success *out (free()) holds *n routes. */
int vs_route_list(struct vs_nl *nl, struct vs_route **out, size_t *n, struct vs_err **err);

/* Looks for a route of the main table (other than the default route and
 * routes through ignore_oif, e.g. the network's own bridge; 0: none ignored)
 * whose destination overlaps subnet. Returns 0 if there is none,
 * -EADDRINUSE with *hit (optional) filled and a one-line *err naming the
 * route, or another -errno. */
int vs_route_find_conflict(struct vs_nl *nl, const struct vs_cidr *subnet, int ignore_oif,
			   struct vs_route *hit, struct vs_err **err);

#endif
