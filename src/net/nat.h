/* vessel's nftables table: masquerade, published ports (DNAT), isolation.
 *
 * One table, `inet vessel`, holds only our rules (layout in docs/net.md):
 *   set bridges          every vessel bridge (for isolation)
 *   chain prerouting     nat, dstnat:  fib daddr type local -> jump ports
 *   chain output         nat, -100:    fib daddr type local -> jump ports
 *   chain ports          one DNAT rule per published port
 *   chain postrouting    nat, srcnat:  masquerade per network, localhost and hairpin SNAT
 *   chain forward        filter:       isolation between bridges, --internal
 * Every rule carries a comment "vessel:net:<bridge>[.<vlan>]:<what>" or
 * "vessel:port:<proto>:<hostip>:<hostport>" and is removed by it, alone.
 * Every function takes the network namespace to act in (-1: the caller's). */
#ifndef VS_NET_NAT_H
#define VS_NET_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/ipam.h"
#include "net/port.h"

struct vs_err;

#define VS_NAT_TABLE "vessel"

struct vs_nat_network {
	const char *bridge; /* the network's bridge, which must exist */
	struct vs_cidr subnet;
	bool internal; /* no way out and no way in, only the bridge itself */
	/* !0: one VLAN of a bridge several networks share (vlan.h): its rules
	 * match its subnet on that bridge, not the bridge alone, and carry the
	 * key "<bridge>.<vlan>"; besides the usual ones, routing to the other
	 * subnets of the bridge is dropped (vlan-isolate) */
	uint16_t vlan;
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

/* Removes every rule of the network on bridge (vlan: of that VLAN of the
 * shared bridge; 0: the bridge's own network, and its set element).
 * Returns 0 (also when there was nothing) or -errno. */
int vs_nat_network_del(int netns_fd, const char *bridge, uint16_t vlan, struct vs_err **err);

/* Published ports (nat-port.c). Comment of each DNAT rule:
 * "vessel:port:<proto>:<hostip or 0.0.0.0>:<hostport>:<destip>:<port>". */
struct vs_nat_port {
	struct vs_port_spec spec;
	uint32_t dest_ip;
};

/* Publishes p to dest_ip:p->port. Returns 0, -EADDRINUSE when a published
 * port conflicts (same protocol and host port, same or any address), or
 * -errno. The table must exist (vs_nat_network_add made it). */
int vs_nat_port_add(int netns_fd, const struct vs_port_spec *p, uint32_t dest_ip,
		    struct vs_err **err);

/* Removes the DNAT rule of p (matched on protocol, host address and host
 * port). Returns 0, -ENOENT if p is not published, or -errno. */
int vs_nat_port_del(int netns_fd, const struct vs_port_spec *p, struct vs_err **err);

/* Removes every port published to dest_ip (an instance going away, or
 * crash cleanup of a lease that no longer exists). Returns how many were
 * removed (0 included, also without a table) or -errno. */
int vs_nat_port_del_dest(int netns_fd, uint32_t dest_ip, struct vs_err **err);

/* The published ports (*out, free()). Returns 0 (with *n 0 when there is
 * no table) or -errno. */
int vs_nat_port_list(int netns_fd, struct vs_nat_port **out, size_t *n, struct vs_err **err);

/* The table as nft prints it, with handles (*out, free()). Returns 0,
 * -ENOENT if there is no table, or -errno. */
int vs_nat_list(int netns_fd, char **out, struct vs_err **err);

/* Deletes the whole table. Returns 0 (also when it was absent) or -errno. */
int vs_nat_teardown(int netns_fd, struct vs_err **err);

/* Deletes the table when none of its rules carries a vessel comment any
 * more (no network, no published port: the last network of every --root
 * using this namespace is gone). *removed (optional) says whether it did.
 * Returns 0 or -errno. Not atomic: a network added by another process
 * between the listing and the deletion loses its rules, which
 * vs_svc_net_ensure() puts back. */
int vs_nat_teardown_if_unused(int netns_fd, bool *removed, struct vs_err **err);

/* Another firewall that drops forwarded traffic: a base chain of another
 * table hooked at forward with policy drop (Docker's `iptables -P FORWARD
 * DROP`, a firewalld zone). nftables runs every table's base chains and a
 * drop anywhere wins, so networks' outside access and published ports from
 * other hosts do not work there. Read-only. Returns 1 with "table ip filter
 * chain FORWARD" in buf, 0 if there is none, or -errno. */
int vs_nat_forward_blocked(int netns_fd, char *buf, size_t len, struct vs_err **err);

#endif
