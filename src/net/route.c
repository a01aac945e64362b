/* IPv4 routes over rtnetlink: add/remove, list, collision check. */
#include "net/route.h"
#include "net/ipam.h"
#include "net/nl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

static int route_msg(struct vs_nl *nl, uint16_t type, uint16_t flags, const struct vs_route *r,
		     struct vs_err **err)
{
	struct nlmsghdr *nlh = vs_nl_msg(nl, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct vs_cidr c = { .addr = r->dst, .prefix = r->prefix };
	char dst[20], gw[16];
	_cleanup_free_ char *what = NULL;

	if (r->prefix > 32)
		return vs_err_set(err, -EINVAL, "route prefix %u out of range (0-32)", r->prefix);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = r->prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = type == RTM_NEWROUTE ? RTPROT_STATIC : 0;
	rtm->rtm_scope = r->gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (r->prefix)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(r->dst));
	if (r->gateway)
		mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(r->gateway));
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	vs_cidr_str(&c, dst);
	what = xasprintf("%s route %s%s%s", type == RTM_NEWROUTE ? "adding" : "removing",
			 r->prefix ? dst : "default", r->gateway ? " via " : "",
			 r->gateway ? vs_ipv4_str(r->gateway, gw) : "");
	return vs_nl_talk(nl, nlh, NULL, NULL, what, err);
}

int vs_route_add(struct vs_nl *nl, const struct vs_route *r, struct vs_err **err)
{
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, err);
}

int vs_route_del(struct vs_nl *nl, const struct vs_route *r, struct vs_err **err)
{
	return route_msg(nl, RTM_DELROUTE, 0, r, err);
}

int vs_route_add_default(struct vs_nl *nl, uint32_t gateway, int oif, struct vs_err **err)
{
	struct vs_route r = { .gateway = gateway, .oif = oif };

	return vs_route_add(nl, &r, err);
}

struct route_list {
	struct vs_route *v;
	size_t n, cap;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct vs_route *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			r->dst = ntohl(mnl_attr_get_u32(a));
		break;
	case RTA_GATEWAY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			r->gateway = ntohl(mnl_attr_get_u32(a));
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0 && mnl_attr_get_u32(a) != RT_TABLE_MAIN)
			r->type = RTN_UNSPEC; /* marks "not the main table" */
		break;
	}
	return MNL_CB_OK;
}

static int route_reply(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *l = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct vs_route r = { .prefix = rtm->rtm_dst_len,
			      .type = rtm->rtm_type,
			      .protocol = rtm->rtm_protocol };

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &r);
	if (r.type != RTN_UNICAST)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = r;
	return 0;
}

static int route_list(struct vs_nl *nl, struct vs_route **out, size_t *n, int tries,
		      struct vs_err **err)
{
	struct nlmsghdr *nlh = vs_nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_list l = { 0 };
	int r;

	rtm->rtm_family = AF_INET;
	r = vs_nl_talk(nl, nlh, route_reply, &l, "listing routes", err);
	if (r == -EAGAIN && tries < 3) { /* interrupted by a change: again */
		free(l.v);
		return route_list(nl, out, n, tries + 1, err);
	}
	if (r < 0) {
		free(l.v);
		return r == -EAGAIN ? vs_err_set(err, r, "listing routes: kept changing") : r;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

int vs_route_list(struct vs_nl *nl, struct vs_route **out, size_t *n, struct vs_err **err)
{
	return route_list(nl, out, n, 0, err);
}

int vs_route_find_conflict(struct vs_nl *nl, const struct vs_cidr *subnet, int ignore_oif,
			   struct vs_route *hit, struct vs_err **err)
{
	_cleanup_free_ struct vs_route *v = NULL;
	char a[20], b[20];
	size_t n = 0;
	int r = vs_route_list(nl, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct vs_cidr c = { .addr = v[i].dst, .prefix = v[i].prefix };

		if (!v[i].prefix || (ignore_oif && v[i].oif == ignore_oif))
			continue;
		if (!vs_cidr_overlaps(subnet, &c))
			continue;
		if (hit)
			*hit = v[i];
		return vs_err_set(err, -EADDRINUSE, "subnet %s collides with the host route %s",
				  vs_cidr_str(subnet, a), vs_cidr_str(&c, b));
	}
	return 0;
}
