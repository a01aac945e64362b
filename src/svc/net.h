/* Virtual networks as service-layer calls (docs/api/network-spec.md): a
 * network is a row in the store (networks), a Linux bridge with the
 * gateway address in the caller's network namespace, and its rules in the
 * `inet vessel` nftables table (src/net). Addresses are leased from the
 * store (addresses) inside one write transaction.
 *
 * Every call acts in the calling thread's network namespace. Every
 * refusal is one line in *err, and leaves nothing: no row, no bridge, no
 * rule. */
#ifndef VS_SVC_NET_H
#define VS_SVC_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_svc;
struct vs_store_net;
struct vs_store_addr;

/* The default network: created by vs_svc_net_ensure() on first use. */
#define VS_NET_DEFAULT "vessel0"
#define VS_NET_NAME_MAX 64

/* VLAN networks (--vlan) share this bridge: their row's bridge is
 * "vessel_vl.<vlan>" (unique per VLAN), the VLANs are kept apart by the
 * `bridge vessel` nftables table (net/vlan.h), which works whether or not
 * the kernel has bridge VLAN filtering. */
#define VS_NET_TRUNK "vessel_vl"
#define VS_NET_DEV_LEN 16 /* IFNAMSIZ */

/* The kernel bridge of network n into dev: the shared bridge for a VLAN
 * network (then returns its VLAN), else its own (returns 0). */
uint16_t vs_svc_net_dev(const struct vs_store_net *n, char dev[VS_NET_DEV_LEN]);

/* What `network create` takes (docs/api/network-spec.md). */
struct vs_net_spec {
	const char *name; /* [A-Za-z0-9][A-Za-z0-9_.-]*, at most VS_NET_NAME_MAX */
	const char *subnet; /* "a.b.c.d/N" (/8../30); NULL: the first free 10.89.X.0/24 */
	const char *gateway; /* inside subnet; NULL: its first host address */
	bool internal; /* no masquerade, no way in or out but the gateway */
	uint32_t mtu; /* 0: the kernel's default; else 68..65535 */
	uint16_t vlan; /* 0: none; else 1..4094: a VLAN of the shared bridge VS_NET_TRUNK */
};

/* A network as ls/inspect show it. */
struct vs_net_info {
	struct vs_store_net *net;
	bool present; /* its bridge exists in this namespace */
	struct vs_store_addr *addrs; /* its leases */
	size_t naddrs;
	bool forwarding_enabled; /* create: this call turned IPv4 forwarding on */
	/* create, not internal: another firewall's chain that drops forwarded
	 * traffic by policy ("table ip filter chain FORWARD"), "" if none */
	char forward_blocked[160];
};

void vs_net_info_clear(struct vs_net_info *info);
void vs_net_info_list_free(struct vs_net_info *v, size_t n);
/* The JSON the CLI prints and the API will serve (a new reference). */
json_t *vs_net_info_to_json(const struct vs_net_info *info);

/* Creates a network: validates spec, refuses a taken name, a subnet
 * overlapping another network of this store or colliding with a route of
 * this namespace; records it, then makes its bridge (`vessel-<name>`, or
 * `vessel-<8 hex>` when that is longer than 15 bytes or taken), the gateway
 * address and the rules. Returns 0 (with *out filled if not NULL), or
 * -errno with a one-line *err and nothing left behind. */
int vs_svc_net_create(struct vs_svc *svc, const struct vs_net_spec *spec, struct vs_net_info *out,
		      struct vs_err **err);

/* Every network of the store, ordered by name. */
int vs_svc_net_list(struct vs_svc *svc, struct vs_net_info **out, size_t *n, struct vs_err **err);

/* One network. Returns 0, -ENOENT ("no network named X") or -errno. */
int vs_svc_net_inspect(struct vs_svc *svc, const char *name, struct vs_net_info *out,
		       struct vs_err **err);

/* Removes a network: refused with -EBUSY while addresses are allocated on
 * it; else removes its rules, its bridge and its row (and the nftables
 * table when nothing else uses it). Returns 0 or -errno. */
int vs_svc_net_rm(struct vs_svc *svc, const char *name, struct vs_err **err);

/* Removes every network without allocated addresses but the default one.
 * *names (optional; free each and the array) lists what was removed. */
int vs_svc_net_prune(struct vs_svc *svc, char ***names, size_t *n, struct vs_err **err);

/* What a container or VM calls before attaching to network name: creates
 * the default network if name is VS_NET_DEFAULT and it does not exist yet,
 * and recreates a network's bridge, gateway address and rules when they are
 * missing (after a host reboot). Idempotent; concurrent callers of one
 * --root are serialised by the store's write lock, so each object is made
 * once. Returns 0, -ENOENT ("no network named X") or -errno. */
int vs_svc_net_ensure(struct vs_svc *svc, const char *name, struct vs_err **err);
/* vs_svc_net_ensure() that also says (*fwd, optional) whether it turned
 * IPv4 forwarding on, which the CLI reports as `network create` does. */
int vs_svc_net_ensure_fwd(struct vs_svc *svc, const char *name, bool *fwd, struct vs_err **err);

/* Leases the lowest free host address of network to owner (kind "vm",
 * "container", ...; name). Concurrent callers, in any process, never get
 * the same address. Returns 0 with *addr (host byte order), -ENOENT,
 * -ENOSPC ("subnet X is full") or -errno. */
int vs_svc_net_addr_alloc(struct vs_svc *svc, const char *network, const char *kind,
			  const char *owner, uint32_t *addr, struct vs_err **err);

/* Releases every lease of an owner (its VM or container went away).
 * Returns how many or -errno. */
int vs_svc_net_addr_release(struct vs_svc *svc, const char *kind, const char *owner,
			    struct vs_err **err);

#endif
