/* Bridge creation and per-port VLANs (rtnetlink IFLA_AF_SPEC, as
 * iproute2's `bridge vlan` sends it). */
#include "net/bridge.h"
#include "net/link.h"
#include "net/nl.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

int vs_bridge_add(struct vs_nl *nl, const char *name, const struct vs_bridge_opts *o,
		  struct vs_err **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;
	struct vs_err *e = NULL;
	_cleanup_free_ char *what = NULL;
	int r;

	if (!vs_ifname_is_valid(name))
		return vs_err_set(err, -EINVAL, "invalid bridge name '%s'", name ? name : "");
	if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
		return vs_err_set(err, -EINVAL, "MTU %u out of range (68-65535)", o->mtu);
	nlh = vs_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (o->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	/* only when asked: kernels without CONFIG_BRIDGE_VLAN_FILTERING refuse
	 * the attribute even with the value 0 */
	if (o->vlan_filtering) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	what = xasprintf("creating bridge %s", name);
	r = vs_nl_talk(nl, nlh, NULL, NULL, what, &e);
	if (r == -EOPNOTSUPP && o->vlan_filtering) {
		vs_err_free(e);
		return vs_err_set(err, r,
				  "%s: this kernel has no VLAN filtering on bridges "
				  "(CONFIG_BRIDGE_VLAN_FILTERING)",
				  what);
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}

int vs_bridge_vlan(struct vs_nl *nl, const char *port, uint16_t vid, unsigned flags, bool add,
		   struct vs_err **err)
{
	struct bridge_vlan_info vi = { .vid = vid };
	struct vs_link_info li;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *spec;
	_cleanup_free_ char *what = NULL;
	int r;

	if (vid < 1 || vid > VS_VLAN_ID_MAX)
		return vs_err_set(err, -EINVAL, "VLAN id %u out of range (1-%d)", vid,
				  VS_VLAN_ID_MAX);
	r = vs_link_get(nl, port, &li, err);
	if (r < 0)
		return r;
	vi.flags = (flags & VS_VLAN_PVID ? BRIDGE_VLAN_INFO_PVID : 0) |
		   (flags & VS_VLAN_UNTAGGED ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
	nlh = vs_nl_msg(nl, add ? RTM_SETLINK : RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = li.ifindex;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	if (flags & VS_VLAN_SELF)
		mnl_attr_put_u16(nlh, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
	mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
	mnl_attr_nest_end(nlh, spec);
	what = xasprintf("%s VLAN %u %s %s", add ? "adding" : "removing", vid, add ? "to" : "from",
			 port);
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}

int vs_bridge_vlan_access(struct vs_nl *nl, const char *port, uint16_t vid, unsigned flags,
			  struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = vs_bridge_vlan(nl, port, vid, flags | VS_VLAN_PVID | VS_VLAN_UNTAGGED, true, err);

	if (r < 0 || vid == 1)
		return r;
	/* the default VLAN 1 may already be absent (default_pvid 0): fine */
	r = vs_bridge_vlan(nl, port, 1, flags, false, &e);
	if (r < 0 && r != -ENOENT && r != -EINVAL) {
		net_err_pass(err, e);
		return r;
	}
	vs_err_free(e);
	return 0;
}
