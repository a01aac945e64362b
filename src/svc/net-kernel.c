/* A network's objects in the kernel, in the caller's namespace: the bridge
 * with its gateway address and its rules in the `inet vessel` table
 * (src/net). Used by create (fresh: every object new, all undone on
 * failure), ensure (missing objects recreated, present ones kept) and rm. */
#include "svc/internal.h"
#include "store/networks.h"
#include "net/addr.h"
#include "net/bridge.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/nat.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <string.h>

bool vs_svc_net_link_exists(struct vs_nl *nl, const char *name)
{
	struct vs_link_info li;
	struct vs_err *e = NULL;
	int r = vs_link_get(nl, name, &li, &e);

	vs_err_free(e);
	return r == 0;
}

/* The bridge: made when absent; an existing link must be a bridge and,
 * with fresh, is refused. *made says whether this call made it. */
static int bridge_make(struct vs_nl *nl, const struct vs_store_net *n, bool fresh, bool *made,
		       struct vs_err **err)
{
	struct vs_bridge_opts o = { .mtu = n->mtu, .vlan_filtering = n->vlan != 0 };
	struct vs_link_info li;
	struct vs_err *e = NULL;
	int r = vs_link_get(nl, n->bridge, &li, &e);

	vs_err_free(e);
	e = NULL;
	*made = false;
	if (r == 0 && fresh)
		return vs_err_set(err, -EEXIST, "bridge %s already exists on this host", n->bridge);
	if (r == 0 && strcmp(li.kind, "bridge") != 0)
		return vs_err_set(err, -EEXIST, "%s exists and is not a bridge (%s)", n->bridge,
				  li.kind[0] ? li.kind : "no kind");
	if (r == 0)
		return 0;
	r = vs_bridge_add(nl, n->bridge, &o, &e);
	if (r == -EEXIST && !fresh) { /* a concurrent ensure made it */
		vs_err_free(e);
		return 0;
	}
	if (r < 0) {
		if (err && !*err)
			*err = e;
		else
			vs_err_free(e);
		return r;
	}
	*made = true;
	return 0;
}

/* Gateway address, VLAN of the bridge itself, up, rules: each kept if present. */
static int bridge_config(struct vs_nl *nl, const struct vs_store_net *n, bool *fwd,
			 struct vs_err **err)
{
	struct vs_nat_network nn = { .bridge = n->bridge, .internal = n->internal };
	struct vs_err *e = NULL;
	uint32_t gw;
	int r;

	if ((r = vs_subnet_parse(n->subnet, &nn.subnet, err)) < 0 ||
	    (r = vs_ipv4_parse(n->gateway, &gw, err)) < 0)
		return r;
	if (n->vlan && (r = vs_bridge_vlan_access(nl, n->bridge, n->vlan, VS_VLAN_SELF, err)) < 0)
		return r;
	r = vs_addr_add(nl, n->bridge, gw, nn.subnet.prefix, &e);
	if (r < 0 && r != -EEXIST) {
		if (err && !*err)
			*err = e;
		else
			vs_err_free(e);
		return r;
	}
	vs_err_free(e);
	e = NULL;
	if ((r = vs_link_set_up(nl, n->bridge, true, err)) < 0)
		return r;
	r = vs_nat_network_add(-1, &nn, fwd, &e);
	if (r == -EEXIST)
		r = 0;
	if (r < 0 && err && !*err)
		*err = steal_ptr(e);
	vs_err_free(e);
	return r;
}

int vs_svc_net_kernel_up(struct vs_nl *nl, const struct vs_store_net *n, bool fresh, bool *fwd,
			 struct vs_err **err)
{
	bool made;
	int r;

	if (fwd)
		*fwd = false;
	if ((r = bridge_make(nl, n, fresh, &made, err)) < 0)
		return r;
	if (fresh)
		vs_svc_step("net-create:bridge");
	if ((r = bridge_config(nl, n, fwd, err)) < 0 && fresh)
		vs_svc_net_kernel_down(nl, n->bridge, NULL);
	else if (r < 0 && made)
		vs_link_del(nl, n->bridge, NULL);
	return r;
}

int vs_svc_net_kernel_down(struct vs_nl *nl, const char *bridge, struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = vs_nat_network_del(-1, bridge, err);

	if (r < 0)
		return r;
	r = vs_link_del(nl, bridge, &e);
	if (r == -ENODEV || r == -ENOENT)
		r = 0;
	if (r < 0 && err && !*err)
		*err = steal_ptr(e);
	vs_err_free(e);
	if (r < 0)
		return r;
	return vs_nat_teardown_if_unused(-1, NULL, err);
}
