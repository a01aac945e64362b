/* A network's objects in the kernel, in the caller's namespace: the bridge
 * with its gateway address and its rules in the `inet vessel` table
 * (src/net). Used by create (fresh: every object new, all undone on
 * failure), ensure (missing objects recreated, present ones kept) and rm.
 * A VLAN network (bridge "vessel_vl.<vlan>") lives on the shared bridge
 * VS_NET_TRUNK instead: its gateway address there, its VLAN in the
 * `bridge vessel` table (net/vlan.h) and its subnet's rules in the inet
 * table; the shared bridge goes with the last VLAN of the namespace. */
#include "svc/internal.h"
#include "svc/net.h"
#include "store/networks.h"
#include "net/addr.h"
#include "net/bridge.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/vlan.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <stdio.h>
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
	/* a network recorded with a bridge of its own and a VLAN (before the
	 * shared bridge) keeps the kernel's bridge VLAN filtering */
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

uint16_t vs_svc_net_dev(const struct vs_store_net *n, char dev[VS_NET_DEV_LEN])
{
	const char *dot = strchr(n->bridge, '.');

	if (!n->vlan || !dot) {
		snprintf(dev, VS_IFNAME_MAX + 1, "%s", n->bridge);
		return 0;
	}
	snprintf(dev, VS_IFNAME_MAX + 1, "%.*s", (int)(dot - n->bridge), n->bridge);
	return n->vlan;
}

/* What shared_up made, to undo on failure. */
struct shared_made {
	bool bridge, vlan, addr, rules;
};

static void shared_undo(struct vs_nl *nl, const char *dev, const struct vs_nat_network *nn,
			uint32_t gw, const struct shared_made *m)
{
	if (m->rules)
		vs_nat_network_del(-1, dev, nn->vlan, NULL);
	if (m->addr)
		vs_addr_del(nl, dev, gw, nn->subnet.prefix, NULL);
	if (m->vlan)
		vs_vlan_del(-1, nn->vlan, NULL, NULL);
	if (m->bridge)
		vs_link_del(nl, dev, NULL);
	if (m->rules)
		vs_nat_teardown_if_unused(-1, NULL, NULL);
}

/* -EEXIST is "already there": fine unless fresh (then another --root's
 * network holds that VLAN in this namespace). *made says whether r made it. */
static int kept(int r, bool fresh, bool *made, struct vs_err **e, struct vs_err **err)
{
	*made = r == 0;
	if (r == -EEXIST && !fresh)
		r = 0;
	if (r < 0 && err && !*err)
		*err = steal_ptr(*e);
	vs_err_free(*e);
	*e = NULL;
	return r;
}

/* A VLAN network on the shared bridge: bridge (kept if there), VLAN
 * rules, gateway address, up, inet rules. */
static int shared_up(struct vs_nl *nl, const struct vs_store_net *n, bool fresh, bool *fwd,
		     struct vs_err **err)
{
	struct vs_nat_network nn = { .internal = n->internal };
	struct vs_store_net t = { .bridge = NULL, .mtu = 0 };
	struct shared_made m = { 0 };
	char dev[VS_IFNAME_MAX + 1];
	struct vs_err *e = NULL;
	uint32_t gw;
	int r;

	nn.vlan = vs_svc_net_dev(n, dev);
	nn.bridge = t.bridge = dev;
	if ((r = vs_subnet_parse(n->subnet, &nn.subnet, err)) < 0 ||
	    (r = vs_ipv4_parse(n->gateway, &gw, err)) < 0 ||
	    (r = bridge_make(nl, &t, false, &m.bridge, err)) < 0)
		return r;
	r = kept(vs_vlan_add(-1, nn.vlan, &nn.subnet, &e), fresh, &m.vlan, &e, err);
	if (r == 0)
		r = kept(vs_addr_add(nl, dev, gw, nn.subnet.prefix, &e), false, &m.addr, &e, err);
	if (r == 0)
		r = vs_link_set_up(nl, dev, true, err);
	if (r == 0)
		r = kept(vs_nat_network_add(-1, &nn, fwd, &e), fresh, &m.rules, &e, err);
	if (r < 0)
		shared_undo(nl, dev, &nn, gw, &m);
	return r;
}

/* Rules, VLAN and gateway address of a VLAN network; the shared bridge
 * when this was the namespace's last VLAN. */
static int shared_down(struct vs_nl *nl, const struct vs_store_net *n, struct vs_err **err)
{
	char dev[VS_IFNAME_MAX + 1];
	uint16_t vid = vs_svc_net_dev(n, dev);
	struct vs_cidr c;
	uint32_t gw;
	bool last;
	int r;

	if ((r = vs_subnet_parse(n->subnet, &c, err)) < 0 ||
	    (r = vs_ipv4_parse(n->gateway, &gw, err)) < 0 ||
	    (r = vs_nat_network_del(-1, dev, vid, err)) < 0 ||
	    (r = vs_vlan_del(-1, vid, &last, err)) < 0)
		return r;
	vs_addr_del(nl, dev, gw, c.prefix, NULL); /* absent after a reboot */
	if (last) /* no VLAN left in this namespace: nothing uses the bridge */
		vs_link_del(nl, dev, NULL);
	return vs_nat_teardown_if_unused(-1, NULL, err);
}

int vs_svc_net_kernel_up(struct vs_nl *nl, const struct vs_store_net *n, bool fresh, bool *fwd,
			 struct vs_err **err)
{
	char dev[VS_IFNAME_MAX + 1];
	bool made;
	int r;

	if (fwd)
		*fwd = false;
	if (vs_svc_net_dev(n, dev))
		return shared_up(nl, n, fresh, fwd, err);
	if ((r = bridge_make(nl, n, fresh, &made, err)) < 0)
		return r;
	if (fresh)
		vs_svc_step("net-create:bridge");
	if ((r = bridge_config(nl, n, fwd, err)) < 0 && fresh)
		vs_svc_net_kernel_down(nl, n, NULL);
	else if (r < 0 && made)
		vs_link_del(nl, n->bridge, NULL);
	return r;
}

int vs_svc_net_kernel_down(struct vs_nl *nl, const struct vs_store_net *n, struct vs_err **err)
{
	const char *bridge = n->bridge;
	char dev[VS_IFNAME_MAX + 1];
	struct vs_err *e = NULL;
	int r;

	if (vs_svc_net_dev(n, dev))
		return shared_down(nl, n, err);
	r = vs_nat_network_del(-1, bridge, 0, err);

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
