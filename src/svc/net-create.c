/* `network create` and `vs_svc_net_ensure()` (svc/net.h): validating a
 * spec, choosing the subnet and the bridge name inside the write
 * transaction that records the network (so concurrent creators see each
 * other), then making the kernel objects (net-kernel.c); on their failure
 * the row goes again, so nothing is left. */
#include "svc/net.h"
#include "svc/internal.h"
#include "store/networks.h"
#include "store/store.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/nl.h"
#include "net/route.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NET_MTU_MIN 68
#define NET_MTU_MAX 65535
#define NET_VLAN_MAX 4094
#define NET_BRIDGE_PREFIX "vessel-"
#define NET_HASH_TRIES 16
#define NET_ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static void nl_freep(struct vs_nl **nl)
{
	vs_nl_free(*nl);
}

static bool name_is_valid(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > VS_NET_NAME_MAX || !strchr(NET_ALNUM, s[0]))
		return false;
	return strspn(s, NET_ALNUM "_.-") == len;
}

static int spec_check(const struct vs_net_spec *spec, struct vs_err **err)
{
	if (!spec->name || !name_is_valid(spec->name))
		return vs_err_set(err, -EINVAL,
				  "invalid network name '%.64s': use letters, digits, "
				  "'_', '.', '-' (at most %d, starting with a letter or digit)",
				  spec->name ? spec->name : "", VS_NET_NAME_MAX);
	if (spec->mtu && (spec->mtu < NET_MTU_MIN || spec->mtu > NET_MTU_MAX))
		return vs_err_set(err, -EINVAL, "invalid MTU %u: %d..%d", spec->mtu, NET_MTU_MIN,
				  NET_MTU_MAX);
	if (spec->vlan > NET_VLAN_MAX)
		return vs_err_set(err, -EINVAL, "invalid VLAN %u: 1..%d", spec->vlan, NET_VLAN_MAX);
	if (spec->vlan && spec->mtu)
		return vs_err_set(err, -EINVAL,
				  "--mtu and --vlan: VLAN networks share bridge " VS_NET_TRUNK
				  " and its MTU");
	return 0;
}

static uint32_t fnv1a(const char *s, uint32_t salt)
{
	uint32_t h = 2166136261u ^ salt;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* vessel0 for the default network, vessel-<name> when it fits in 15 bytes,
 * else (or when that is taken by this store or by a link of this
 * namespace, e.g. another --root's) vessel-<8 hex of a hash>. */
static int bridge_pick(struct vs_svc *svc, struct vs_nl *nl, const char *name, char *out,
		       struct vs_err **err)
{
	for (int i = -1; i < NET_HASH_TRIES; i++) {
		int r;

		if (i < 0 && !strcmp(name, VS_NET_DEFAULT))
			snprintf(out, VS_IFNAME_MAX + 1, "%s", VS_NET_DEFAULT);
		else if (i < 0 && strlen(NET_BRIDGE_PREFIX) + strlen(name) <= VS_IFNAME_MAX)
			snprintf(out, VS_IFNAME_MAX + 1, NET_BRIDGE_PREFIX "%s", name);
		else
			snprintf(out, VS_IFNAME_MAX + 1, NET_BRIDGE_PREFIX "%08x",
				 fnv1a(name, (uint32_t)(i < 0 ? 0 : i)));
		if ((r = vs_store_net_bridge_taken(svc->store, out, err)) < 0)
			return r;
		if (!r && !vs_svc_net_link_exists(nl, out))
			return 0;
	}
	return vs_err_set(err, -EEXIST, "no free bridge name for network %s", name);
}

/* Is c free: no overlap with the store's networks, no host route? */
static int subnet_free(struct vs_nl *nl, const struct vs_cidr *c, struct vs_store_net **nets,
		       size_t n, struct vs_err **err)
{
	char a[20];

	for (size_t i = 0; i < n; i++) {
		struct vs_cidr o;

		if (vs_subnet_parse(nets[i]->subnet, &o, NULL) == 0 && vs_cidr_overlaps(c, &o))
			return vs_err_set(err, -EADDRINUSE, "subnet %s overlaps network %s (%s)",
					  vs_cidr_str(c, a), nets[i]->name, nets[i]->subnet);
	}
	return vs_route_find_conflict(nl, c, 0, NULL, err);
}

/* The first free subnet among the automatic choices: 10.88.0.0/16 and then
 * 10.90-99.0.0/16 for the default network, 10.89.X.0/24 for others. */
static int subnet_auto(struct vs_nl *nl, bool is_default, struct vs_store_net **nets, size_t n,
		       struct vs_cidr *out, struct vs_err **err)
{
	unsigned count = is_default ? 11 : 256;

	for (unsigned i = 0; i < count; i++) {
		struct vs_err *e = NULL;
		int r;

		if (is_default)
			*out = (struct vs_cidr){ .addr = (10u << 24) | ((i ? 89 + i : 88) << 16),
						 .prefix = 16 };
		else
			*out = (struct vs_cidr){ .addr = (10u << 24) | (89u << 16) | (i << 8),
						 .prefix = 24 };
		r = subnet_free(nl, out, nets, n, &e);
		vs_err_free(e);
		if (r != -EADDRINUSE)
			return r < 0 ? vs_err_set(err, r, "checking subnets") : 0;
	}
	return vs_err_set(err, -EADDRINUSE,
			  "no free subnet left for an automatic choice: "
			  "give --subnet");
}

/* Inside the write transaction: name free, subnet chosen and free, gateway,
 * bridge name; inserts the row (row: its strings point into bufs). */
static int claim(struct vs_svc *svc, struct vs_nl *nl, const struct vs_net_spec *spec,
		 struct vs_store_net *row, char bufs[3][20], struct vs_err **err)
{
	struct vs_store_net **nets = NULL, *old = NULL;
	struct vs_cidr c;
	uint32_t gw;
	size_t n = 0;
	int r = vs_store_net_get(svc->store, spec->name, &old, err);

	if (r == 0) {
		vs_store_net_free(old);
		return vs_err_set(err, -EEXIST, "a network named '%s' already exists", spec->name);
	}
	if (r != -ENOENT || (r = vs_store_net_list(svc->store, &nets, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n && spec->vlan; i++)
		if (nets[i]->vlan == spec->vlan) {
			r = vs_err_set(err, -EEXIST, "VLAN %u is network %s's", spec->vlan,
				       nets[i]->name);
			vs_store_net_list_free(nets, n);
			return r;
		}
	if (spec->subnet)
		r = vs_subnet_parse(spec->subnet, &c, err) ?: subnet_free(nl, &c, nets, n, err);
	else
		r = subnet_auto(nl, !strcmp(spec->name, VS_NET_DEFAULT), nets, n, &c, err);
	vs_store_net_list_free(nets, n);
	if (r < 0 || (r = vs_ipam_gateway(&c, spec->gateway, &gw, err)) < 0)
		return r;
	if (spec->vlan) /* one VLAN of the shared bridge */
		snprintf(bufs[0], VS_IFNAME_MAX + 1, VS_NET_TRUNK ".%u", spec->vlan);
	else if ((r = bridge_pick(svc, nl, spec->name, bufs[0], err)) < 0)
		return r;
	*row = (struct vs_store_net){ .name = (char *)spec->name,
				      .bridge = bufs[0],
				      .subnet = vs_cidr_str(&c, bufs[1]),
				      .gateway = vs_ipv4_str(gw, bufs[2]),
				      .internal = spec->internal,
				      .mtu = spec->mtu,
				      .vlan = spec->vlan,
				      .created_at = time(NULL) };
	return vs_store_net_insert(svc->store, row, err);
}

static int claim_txn(struct vs_svc *svc, struct vs_nl *nl, const struct vs_net_spec *spec,
		     struct vs_store_net *row, char bufs[3][20], struct vs_err **err)
{
	int r = vs_store_begin(svc->store, err);

	if (r < 0)
		return r;
	if ((r = claim(svc, nl, spec, row, bufs, err)) < 0) {
		vs_store_rollback(svc->store);
		return r;
	}
	return vs_store_commit(svc->store, err);
}

/* Records spec's network; with kernel, also makes its kernel objects
 * (create), else leaves them to the caller (the default network's first
 * ensure makes them under the store's lock, like every ensure). */
static int create(struct vs_svc *svc, struct vs_nl *nl, const struct vs_net_spec *spec, bool kernel,
		  bool *fwd, struct vs_err **err)
{
	struct vs_store_net row;
	char bufs[3][20];
	int r;

	if ((r = spec_check(spec, err)) < 0 || (r = claim_txn(svc, nl, spec, &row, bufs, err)) < 0)
		return r;
	if (!kernel)
		return 0;
	/* killed here: the row stays without a bridge, as after a reboot:
	 * vs_svc_net_ensure() makes it, rm removes it */
	vs_svc_step("net-create:row");
	if ((r = vs_svc_net_kernel_up(nl, &row, true, fwd, err)) < 0)
		vs_store_net_delete(svc->store, row.name, NULL);
	return r;
}

int vs_svc_net_create(struct vs_svc *svc, const struct vs_net_spec *spec, struct vs_net_info *out,
		      struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	bool fwd = false;
	int r;

	if (spec->name && !strcmp(spec->name, VS_NET_DEFAULT))
		return vs_err_set(err, -EEXIST,
				  "%s is the default network: it is created on "
				  "first use",
				  VS_NET_DEFAULT);
	if ((r = vs_nl_open(-1, &nl, err)) < 0 || (r = create(svc, nl, spec, true, &fwd, err)) < 0)
		return r;
	if (!out)
		return 0;
	if ((r = vs_svc_net_inspect(svc, spec->name, out, err)) < 0)
		return r;
	out->forwarding_enabled = fwd;
	/* best effort: a failed listing only means no warning */
	if (!spec->internal && vs_nat_forward_blocked(-1, out->forward_blocked,
						      sizeof(out->forward_blocked), NULL) <= 0)
		out->forward_blocked[0] = 0;
	return 0;
}

/* The default network's row, recorded if absent (a concurrent first user
 * may record it first: -EEXIST is success). */
static int default_row(struct vs_svc *svc, struct vs_nl *nl, struct vs_err **err)
{
	struct vs_net_spec spec = { .name = VS_NET_DEFAULT };
	struct vs_store_net *row = NULL;
	struct vs_err *e = NULL;
	int r = vs_store_net_get(svc->store, VS_NET_DEFAULT, &row, err);

	vs_store_net_free(row);
	if (r != -ENOENT)
		return r;
	r = create(svc, nl, &spec, false, NULL, &e);
	if (r == -EEXIST)
		r = 0;
	if (r < 0 && err && !*err)
		*err = steal_ptr(e);
	vs_err_free(e);
	return r;
}

/* Under the store's write lock, so that concurrent ensures (20 containers
 * starting at once after a reboot) make each object once; nothing is
 * written, the transaction is rolled back. */
static int ensure_locked(struct vs_svc *svc, struct vs_nl *nl, const char *name, bool *fwd,
			 struct vs_err **err)
{
	struct vs_store_net *row = NULL;
	int r = vs_store_begin(svc->store, err);

	if (r < 0)
		return r;
	r = vs_store_net_get(svc->store, name, &row, err);
	if (r == -ENOENT)
		r = vs_err_set(err, -ENOENT, "no network named '%.64s'", name);
	if (r == 0)
		r = vs_svc_net_kernel_up(nl, row, false, fwd, err);
	vs_store_rollback(svc->store);
	vs_store_net_free(row);
	return r;
}

int vs_svc_net_ensure(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	return vs_svc_net_ensure_fwd(svc, name, NULL, err);
}

int vs_svc_net_ensure_fwd(struct vs_svc *svc, const char *name, bool *fwd, struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	int r = vs_nl_open(-1, &nl, err);

	if (fwd)
		*fwd = false;
	if (r < 0)
		return r;
	if (!strcmp(name, VS_NET_DEFAULT) && (r = default_row(svc, nl, err)) < 0)
		return r;
	return ensure_locked(svc, nl, name, fwd, err);
}
