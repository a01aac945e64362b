/* veth pair creation (drivers/net/veth.c: VETH_INFO_PEER carries a whole
 * ifinfomsg with the peer's own attributes, IFLA_NET_NS_FD among them). */
#include "net/veth.h"
#include "net/link.h"
#include "net/nl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

int vs_veth_add(struct vs_nl *nl, const char *name, const char *peer, int peer_netns_fd,
		struct vs_err **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi, *pifi;
	struct nlattr *info, *data, *pnest;
	_cleanup_free_ char *what = NULL;

	if (!vs_ifname_is_valid(name) || !vs_ifname_is_valid(peer))
		return vs_err_set(err, -EINVAL, "invalid veth names '%s'/'%s'", name ? name : "",
				  peer ? peer : "");
	nlh = vs_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pnest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, pnest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	what = xasprintf("creating veth pair %s/%s", name, peer);
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}
