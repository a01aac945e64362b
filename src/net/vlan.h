/* VLANs on a shared bridge without the kernel's bridge VLAN filtering:
 * port-based VLAN membership enforced by nftables' bridge family.
 *
 * One table, `bridge vessel` (only our rules), hooked at the bridge's
 * forward, input (to the host) and output (from the host) points. VLAN V
 * is a set `vlanV` of port names (veths' host ends, taps) and these rules,
 * each with the comment "vessel:vlan:V:<what>":
 *   forward  iifname @vlanV oifname != @vlanV drop          (out)
 *   forward  oifname @vlanV iifname != @vlanV drop          (in)
 *   input    iifname @vlanV ip saddr != S drop              (bind-ip)
 *   input    iifname @vlanV arp saddr ip != { S, 0.0.0.0 } drop (bind-arp)
 *   input    iifname @vlanV ether type ip6 drop             (no-ip6-in)
 *   output   oifname @vlanV ip daddr != S drop              (host-ip)
 *   output   oifname @vlanV arp daddr ip != S drop          (host-arp)
 *   output   oifname @vlanV ether type ip6 drop             (no-ip6-out)
 *   prerouting iifname @vlanV iifname . ether saddr != @macV drop (mac)
 * where S is the VLAN's subnet and macV holds each port's one source MAC
 * address (a veth's far end, a VM's NIC): dropped before the bridge learns
 * it, so no port can move another's address to itself in the bridge's
 * forwarding database (which, unlike VLAN filtering's, is one for all). So no frame goes from a port of one VLAN
 * to a port of another (floods and unknown unicast included: the bridge
 * runs the forward hook per output port); what reaches the host from a
 * port carries a source of its VLAN's subnet (no ARP poisoning of another
 * VLAN's addresses, no spoofed source for the routing rules of the `inet
 * vessel` table, see nat.h); what the host sends to a port is for its
 * VLAN's subnet (its ARP requests and floods do not leak to others).
 * Routing between VLANs through the host is dropped by the inet table's
 * per-network rules (vs_nat_network with vlan set).
 * Every function takes the network namespace to act in (-1: the caller's). */
#ifndef VS_NET_VLAN_H
#define VS_NET_VLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/ipam.h"

struct vs_err;

#define VS_VLAN_TABLE "bridge vessel"

/* Creates the table if absent (atomically), then VLAN vid's set and rules
 * for subnet in one transaction. Returns 0, -EEXIST if the VLAN exists in
 * this namespace (its set is there: nothing is changed), or -errno. */
int vs_vlan_add(int netns_fd, uint16_t vid, const struct vs_cidr *subnet, struct vs_err **err);

/* Removes VLAN vid's rules and set, and the table when nothing of ours is
 * left in it; *last (optional) says whether no VLAN is left in this
 * namespace (the shared bridge is unused). Returns 0 (also when absent)
 * or -errno. */
int vs_vlan_del(int netns_fd, uint16_t vid, bool *last, struct vs_err **err);

/* Makes port (an interface name; it need not exist yet) a member of VLAN
 * vid whose frames must come from mac (VS_MAC_LEN bytes), or (add false)
 * no longer one (the same mac). Returns 0, -ENOENT (the VLAN, or on
 * removal the member, is absent) or -errno. */
int vs_vlan_port(int netns_fd, uint16_t vid, const char *port, const uint8_t *mac, bool add,
		 struct vs_err **err);

/* The MAC address a container's end of the veth whose host end is port
 * gets on a VLAN network: 02:76 and 32 bits of a hash of port, so that
 * whoever removes the port later can name its element again. */
void vs_vlan_port_mac(const char *port, uint8_t mac[6]);

#endif
