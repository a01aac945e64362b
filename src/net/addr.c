/* IPv4 address add/remove over rtnetlink. */
#include "net/addr.h"
#include "net/link.h"
#include "net/nl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

static int addr_msg(struct vs_nl *nl, uint16_t type, uint16_t flags, const char *dev, uint32_t addr,
		    uint8_t prefix, struct vs_err **err)
{
	struct vs_link_info li;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	char ip[INET_ADDRSTRLEN];
	_cleanup_free_ char *what = NULL;
	int r;

	if (prefix > 32)
		return vs_err_set(err, -EINVAL, "prefix length %u out of range (0-32)", prefix);
	r = vs_link_get(nl, dev, &li, err);
	if (r < 0)
		return r;
	nlh = vs_nl_msg(nl, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)li.ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
	if (type == RTM_NEWADDR && prefix < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~mask));
	inet_ntop(AF_INET, &(uint32_t){ htonl(addr) }, ip, sizeof(ip));
	what = xasprintf("%s address %s/%u %s %s", type == RTM_NEWADDR ? "adding" : "removing", ip,
			 prefix, type == RTM_NEWADDR ? "to" : "from", dev);
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}

int vs_addr_add(struct vs_nl *nl, const char *dev, uint32_t addr, uint8_t prefix,
		struct vs_err **err)
{
	return addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, dev, addr, prefix, err);
}

int vs_addr_del(struct vs_nl *nl, const char *dev, uint32_t addr, uint8_t prefix,
		struct vs_err **err)
{
	return addr_msg(nl, RTM_DELADDR, 0, dev, addr, prefix, err);
}
