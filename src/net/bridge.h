/* Linux bridges (the virtual switch) and VLAN membership of their ports. */
#ifndef VS_NET_BRIDGE_H
#define VS_NET_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_nl;

struct vs_bridge_opts {
	uint32_t mtu; /* 0: the kernel's default */
	bool vlan_filtering; /* IFLA_BR_VLAN_FILTERING: ports only pass their VLANs */
};

/* Creates bridge name (which must not exist). Returns 0, -EEXIST or another
 * -errno. The bridge is left down. */
int vs_bridge_add(struct vs_nl *nl, const char *name, const struct vs_bridge_opts *o,
		  struct vs_err **err);

#define VS_VLAN_PVID (1u << 0) /* untagged ingress frames go to this VLAN */
#define VS_VLAN_UNTAGGED (1u << 1) /* egress frames of this VLAN leave untagged */
#define VS_VLAN_SELF (1u << 2) /* port is the bridge device itself (`bridge vlan ... self`) */
#define VS_VLAN_ID_MAX 4094

/* Adds (or with add false, removes) VLAN vid (1..4094) on bridge port
 * `port` (for VS_VLAN_SELF: the bridge itself): `bridge vlan add dev PORT
 * vid VID [pvid] [untagged] [self]`. Returns 0 or -errno. */
int vs_bridge_vlan(struct vs_nl *nl, const char *port, uint16_t vid, unsigned flags, bool add,
		   struct vs_err **err);

/* Makes port an access port of VLAN vid only: adds vid as PVID untagged
 * and removes the default VLAN 1 membership. Returns 0 or -errno. */
int vs_bridge_vlan_access(struct vs_nl *nl, const char *port, uint16_t vid, unsigned flags,
			  struct vs_err **err);

#endif
