/* veth + bridge port + address + default route, undone as a whole on failure. */
#include "net/attach.h"
#include "net/addr.h"
#include "net/link.h"
#include "net/nl.h"
#include "net/route.h"
#include "net/veth.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>

VS_DEFINE_CLEANUP(struct vs_nl, vs_nl_free)

static int attach_host_end(struct vs_nl *nl, const struct vs_attach *a, struct vs_err **err)
{
	struct vs_link_info br, li;
	struct vs_link_change c;
	int r = vs_link_get(nl, a->bridge, &br, err);

	if (r < 0)
		return r;
	r = vs_link_get(nl, a->host_name, &li, err);
	if (r < 0)
		return r;
	vs_link_change_init(&c);
	c.master = br.ifindex;
	c.mtu = a->mtu;
	c.up = 1;
	return vs_link_change(nl, li.ifindex, &c, err);
}

static int attach_peer(const struct vs_attach *a, struct vs_err **err)
{
	_cleanup_(vs_nl_freep) struct vs_nl *nl = NULL;
	struct vs_link_info li;
	struct vs_link_change c;
	int r = vs_nl_open(a->netns_fd, &nl, err);

	if (r < 0)
		return r;
	r = vs_link_set_up(nl, "lo", true, err);
	if (r < 0)
		return r;
	r = vs_link_get(nl, a->peer_name, &li, err);
	if (r < 0)
		return r;
	vs_link_change_init(&c);
	c.mtu = a->mtu;
	c.mac = a->mac;
	c.up = 1;
	r = vs_link_change(nl, li.ifindex, &c, err);
	if (r < 0)
		return r;
	r = vs_addr_add(nl, a->peer_name, a->addr, a->prefix, err);
	if (r < 0 || !a->gateway)
		return r;
	return vs_route_add_default(nl, a->gateway, li.ifindex, err);
}

int vs_attach_netns(struct vs_nl *nl, const struct vs_attach *a, struct vs_err **err)
{
	int r = vs_veth_add(nl, a->host_name, a->peer_name, a->netns_fd, err);

	if (r < 0)
		return r;
	r = attach_host_end(nl, a, err);
	if (r >= 0)
		r = attach_peer(a, err);
	if (r < 0) {
		vs_link_del(nl, a->host_name, NULL);
		return vs_err_wrap(err, r, "attaching %s to %s", a->peer_name, a->bridge);
	}
	return 0;
}
