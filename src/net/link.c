/* Link lookup, deletion and changes over rtnetlink (rtnetlink(7)). */
#include "net/link.h"
#include "net/nl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

bool vs_ifname_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > VS_IFNAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static int check_name(const char *name, struct vs_err **err)
{
	if (!vs_ifname_is_valid(name))
		return vs_err_set(err, -EINVAL,
				  "invalid interface name '%s' (1-%d of A-Z a-z 0-9 _ . -)",
				  name ? name : "", VS_IFNAME_MAX);
	return 0;
}

static int link_info_attr(const struct nlattr *a, void *data)
{
	struct vs_link_info *li = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(li->kind, sizeof(li->kind), "%.*s", (int)mnl_attr_get_payload_len(a),
			 (const char *)mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct vs_link_info *li = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			li->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			li->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == VS_MAC_LEN)
			memcpy(li->mac, mnl_attr_get_payload(a), VS_MAC_LEN);
		break;
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
			snprintf(li->name, sizeof(li->name), "%s", mnl_attr_get_str(a));
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, link_info_attr, li);
		break;
	}
	return MNL_CB_OK;
}

static int link_reply(const struct nlmsghdr *nlh, void *data)
{
	struct vs_link_info *li = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	li->ifindex = ifi->ifi_index;
	li->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, li);
	return 0;
}

int vs_link_get(struct vs_nl *nl, const char *name, struct vs_link_info *out, struct vs_err **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct vs_link_info li = { 0 };
	_cleanup_free_ char *what = NULL;
	int r = check_name(name, err);

	if (r < 0)
		return r;
	nlh = vs_nl_msg(nl, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	what = xasprintf("looking up link %s", name);
	r = vs_nl_talk(nl, nlh, link_reply, &li, what, err);
	if (r < 0)
		return r;
	if (li.ifindex <= 0)
		return vs_err_set(err, -ENODEV, "%s: no such device", what);
	*out = li;
	return 0;
}

int vs_link_del(struct vs_nl *nl, const char *name, struct vs_err **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	_cleanup_free_ char *what = NULL;
	int r = check_name(name, err);

	if (r < 0)
		return r;
	nlh = vs_nl_msg(nl, RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	what = xasprintf("deleting link %s", name);
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}

void vs_link_change_init(struct vs_link_change *c)
{
	*c = (struct vs_link_change){ .master = -1, .up = -1, .netns_fd = -1 };
}

int vs_link_change(struct vs_nl *nl, int ifindex, const struct vs_link_change *c,
		   struct vs_err **err)
{
	struct nlmsghdr *nlh = vs_nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	_cleanup_free_ char *what = xasprintf("changing link %d", ifindex);

	if (c->name && !vs_ifname_is_valid(c->name))
		return check_name(c->name, err);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (c->up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = c->up ? IFF_UP : 0;
	}
	if (c->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	if (c->master >= 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)c->master);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, VS_MAC_LEN, c->mac);
	if (c->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}

/* Looks name up and applies c, with the name in the error text. */
static int change_by_name(struct vs_nl *nl, const char *name, const struct vs_link_change *c,
			  struct vs_err **err)
{
	struct vs_link_info li;
	int r = vs_link_get(nl, name, &li, err);

	if (r < 0)
		return r;
	r = vs_link_change(nl, li.ifindex, c, err);
	if (r < 0)
		return vs_err_wrap(err, r, "link %s", name);
	return 0;
}

int vs_link_set_up(struct vs_nl *nl, const char *name, bool up, struct vs_err **err)
{
	struct vs_link_change c;

	vs_link_change_init(&c);
	c.up = up;
	return change_by_name(nl, name, &c, err);
}

int vs_link_set_master(struct vs_nl *nl, const char *name, const char *master, struct vs_err **err)
{
	struct vs_link_change c;
	struct vs_link_info m = { 0 };
	int r = master ? vs_link_get(nl, master, &m, err) : 0;

	if (r < 0)
		return r;
	vs_link_change_init(&c);
	c.master = m.ifindex;
	return change_by_name(nl, name, &c, err);
}

int vs_link_set_mtu(struct vs_nl *nl, const char *name, uint32_t mtu, struct vs_err **err)
{
	struct vs_link_change c;

	if (mtu < 68 || mtu > 65535)
		return vs_err_set(err, -EINVAL, "MTU %u out of range (68-65535)", mtu);
	vs_link_change_init(&c);
	c.mtu = mtu;
	return change_by_name(nl, name, &c, err);
}

int vs_link_set_mac(struct vs_nl *nl, const char *name, const uint8_t *mac, struct vs_err **err)
{
	struct vs_link_change c;

	if (mac[0] & 1)
		return vs_err_set(err, -EINVAL, "MAC address is multicast");
	vs_link_change_init(&c);
	c.mac = mac;
	return change_by_name(nl, name, &c, err);
}

int vs_link_rename(struct vs_nl *nl, const char *name, const char *new_name, struct vs_err **err)
{
	struct vs_link_change c;

	vs_link_change_init(&c);
	c.name = new_name;
	return change_by_name(nl, name, &c, err);
}

int vs_link_set_netns(struct vs_nl *nl, const char *name, int netns_fd, struct vs_err **err)
{
	struct vs_link_change c;

	vs_link_change_init(&c);
	c.netns_fd = netns_fd;
	return change_by_name(nl, name, &c, err);
}
