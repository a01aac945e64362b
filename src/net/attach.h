/* Attaching a network namespace (a container's) to a bridge: the whole
 * sequence `vessel run --network` needs, in one call. */
#ifndef VS_NET_ATTACH_H
#define VS_NET_ATTACH_H

#include <stdint.h>

struct vs_err;
struct vs_nl;

struct vs_attach {
	const char *bridge; /* existing bridge in nl's namespace */
	const char *host_name; /* host end of the veth, e.g. "vessel-<id>" */
	int netns_fd; /* the namespace to attach */
	const char *peer_name; /* name inside it, e.g. "eth0" */
	uint32_t addr; /* host byte order */
	uint8_t prefix;
	uint32_t gateway; /* default route via this address; 0: no route */
	uint32_t mtu; /* 0: the kernel's default (use the bridge's MTU) */
	const uint8_t *mac; /* VS_MAC_LEN bytes for the peer, NULL: random */
};

/* Creates the veth pair with its peer directly in a->netns_fd, enslaves
 * the host end to the bridge and brings it up; inside the namespace brings
 * lo and the peer up with the address and the default route. Returns 0 or
 * -errno; on failure the pair is deleted (nothing is left). */
int vs_attach_netns(struct vs_nl *nl, const struct vs_attach *a, struct vs_err **err);

#endif
