/* Published ports: DNAT rules in the vessel table's `ports` chain (layout
 * in nat.h). The rules' comments are the record: they are parsed back for
 * the conflict check, the listing and removal by destination. */
#include "net/nat.h"
#include "net/internal.h"
#include "net/nft.h"
#include "net/port.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define T VS_NAT_T

/* The comment up to the host port and its ':', which is what identifies a
 * published port (the trailing ':' keeps 80 from matching 8080). */
static char *port_key(const struct vs_port_spec *p)
{
	char ip[16];

	return xasprintf("vessel:port:%s:%s:%u:", vs_proto_name(p->proto),
			 vs_ipv4_str(p->host_ip, ip), p->host_port);
}

/* Parses a port comment back. Returns false for any other comment. */
static bool port_from_comment(const char *c, struct vs_nat_port *out)
{
	char proto[4], hip[16], dip[16];
	unsigned hport, port;
	struct vs_nat_port np = { 0 };

	if (sscanf(c, "vessel:port:%3[a-z]:%15[0-9.]:%u:%15[0-9.]:%u", proto, hip, &hport, dip,
		   &port) != 5 ||
	    hport > 65535 || port > 65535)
		return false;
	np.spec.proto = strcmp(proto, "udp") ? VS_PROTO_TCP : VS_PROTO_UDP;
	np.spec.host_port = (uint16_t)hport;
	np.spec.port = (uint16_t)port;
	if (vs_ipv4_parse(hip, &np.spec.host_ip, NULL) || vs_ipv4_parse(dip, &np.dest_ip, NULL))
		return false;
	*out = np;
	return true;
}

int vs_nat_port_list(int netns_fd, struct vs_nat_port **out, size_t *n, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	struct vs_nat_port *ports;
	struct vs_err *e = NULL;
	size_t nr = 0, m = 0;
	int r = net_nat_rules(netns_fd, &v, &nr, &e);

	if (r == -ENOENT) {
		vs_err_free(e);
		nr = 0;
	} else if (r < 0) {
		net_err_pass(err, e);
		return r;
	}
	ports = xmalloc((nr + 1) * sizeof(*ports));
	for (size_t i = 0; i < nr; i++)
		if (port_from_comment(v[i].comment, &ports[m]))
			m++;
	*out = ports;
	*n = m;
	return 0;
}

/* -EADDRINUSE if a published port conflicts with p, 0 if none. */
static int port_check(int netns_fd, const struct vs_port_spec *p, struct vs_err **err)
{
	_cleanup_free_ struct vs_nat_port *v = NULL;
	char a[40], b[16];
	size_t n = 0;
	int r = vs_nat_port_list(netns_fd, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct vs_port_spec *q = &v[i].spec;

		if (!vs_port_spec_conflicts(p, q))
			continue;
		return vs_err_set(err, -EADDRINUSE,
				  "port %s is already published (host port %s:%u/%s)",
				  vs_port_spec_str(p, a), vs_ipv4_str(q->host_ip, b), q->host_port,
				  vs_proto_name(q->proto));
	}
	return 0;
}

int vs_nat_port_add(int netns_fd, const struct vs_port_spec *p, uint32_t dest_ip,
		    struct vs_err **err)
{
	_cleanup_free_ char *key = port_key(p), *cmd = NULL, *daddr = NULL;
	char hip[16], dip[16];
	int r = port_check(netns_fd, p, err);

	if (r < 0)
		return r;
	vs_ipv4_str(dest_ip, dip);
	daddr = p->host_ip ? xasprintf("ip daddr %s ", vs_ipv4_str(p->host_ip, hip)) :
			     xstrdup("meta nfproto ipv4 ");
	cmd = xasprintf("add rule " T " ports %s%s dport %u dnat ip to %s:%u comment \"%s%s:%u\"\n",
			daddr, vs_proto_name(p->proto), p->host_port, dip, p->port, key, dip,
			p->port);
	return vs_nft_run(netns_fd, cmd, NULL, err);
}

int vs_nat_port_del(int netns_fd, const struct vs_port_spec *p, struct vs_err **err)
{
	_cleanup_free_ char *key = port_key(p);
	char a[40];
	int r = net_nat_del_where(netns_fd, net_nat_has_prefix, key, err);

	if (r < 0)
		return r;
	if (r == 0)
		return vs_err_set(err, -ENOENT, "port %s is not published", vs_port_spec_str(p, a));
	return 0;
}

static bool port_to(const char *comment, const void *arg)
{
	struct vs_nat_port np;

	return port_from_comment(comment, &np) && np.dest_ip == *(const uint32_t *)arg;
}

int vs_nat_port_del_dest(int netns_fd, uint32_t dest_ip, struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = net_nat_del_where(netns_fd, port_to, &dest_ip, &e);

	if (r == -ENOENT) {
		vs_err_free(e);
		return 0;
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}
