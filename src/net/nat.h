/* vessel's nftables table: masquerade, published ports (DNAT), isolation.
 *
 * One table, `inet vessel`, holds only our rules (layout in docs/net.md):
 *   set bridges          every vessel bridge (for isolation)
 *   chain prerouting     nat, dstnat:  fib daddr type local -> jump ports
 *   chain output         nat, -100:    fib daddr type local -> jump ports
 *   chain ports          one DNAT rule per published port
 *   chain postrouting    nat, srcnat:  masquerade per network, localhost and hairpin SNAT
 *   chain forward        filter:       isolation between bridges, --internal
 * Every rule carries a comment "vessel:net:<bridge>:<what>" or
 * "vessel:port:<proto>:<hostip>:<hostport>" and is removed by it, alone.
 * Every function takes the network namespace to act in (-1: the caller's). */
#ifndef VS_NET_NAT_H
#define VS_NET_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/ipam.h"

struct vs_err;
struct vs_port_spec;

#define VS_NAT_TABLE "vessel"

struct vs_nat_network {
	const char *bridge;    /* the network's bridge, which must exist */
	struct vs_cidr subnet;
	bool internal;	       /* no way out and no way in, only the bridge itself */
};

/* Creates the table if it is absent (atomically: concurrent callers get
 * one table), then adds n's rules in one transaction and sets
 * route_localnet on the bridge (localhost access to published ports). A
 * network that is not internal also gets IPv4 forwarding turned on in that
 * namespace; *forwarding_enabled (optional) says whether this call did.
 * Returns 0, -EEXIST if the bridge already has rules, or -errno; on
 * failure no rule of n is left. */
int vs_nat_network_add(int netns_fd, const struct vs_nat_network *n, bool *forwarding_enabled,
		       struct vs_err **err);

/* Removes every rule of the network on bridge (and its set element).
 * Returns 0 (also when there was nothing) or -errno. */
int vs_nat_network_del(int netns_fd, const char *bridge, struct vs_err **err);

/* Publishes p to dest_ip:p->port. Returns 0, -EADDRINUSE when a published
 * port conflicts (same protocol and host port, same or any address), or
 * -errno. The table must exist (vs_nat_network_add made it). */
int vs_nat_port_add(int netns_fd, const struct vs_port_spec *p, uint32_t dest_ip,
		    struct vs_err **err);

/* Removes the DNAT rule of p. Returns 0, -ENOENT if p is not published, or -errno. */
int vs_nat_port_del(int netns_fd, const struct vs_port_spec *p, struct vs_err **err);

/* The table as nft prints it, with handles (*out, free()). Returns 0,
 * -ENOENT if there is no table, or -errno. */
int vs_nat_list(int netns_fd, char **out, struct vs_err **err);

/* Deletes the whole table. Returns 0 (also when it was absent) or -errno. */
int vs_nat_teardown(int netns_fd, struct vs_err **err);

#endif
