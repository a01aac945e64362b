/* Guest network setup for vessel-init: interfaces up, IPv4 address, route, DNS. */
#ifndef VS_GUEST_NET_H
#define VS_GUEST_NET_H

struct vs_guest_ip;

/* Sets IFF_UP on ifname. Returns 0 or -errno. */
int vs_init_net_up(const char *ifname);

/*
 * Applies a parsed vessel.ip: address and netmask on the interface, the
 * interface up, a default route via the gateway, /etc/resolv.conf for the DNS
 * server. Returns 0, or -errno with *what naming the step that failed.
 */
int vs_init_net_configure(const struct vs_guest_ip *ip, const char **what);

#endif /* VS_GUEST_NET_H */
