/* The `inet vessel` nftables table: layout in nat.h and docs/net.md.
 *
 * Map: the layout batch and nat_init; listing and deleting rules by
 * comment; a network's rules (network_cmds) and vs_nat_network_add/del;
 * published ports (comments parsed back for the conflict check);
 * listing and teardown. */
#include "net/nat.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/nft.h"
#include "net/port.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define T "inet " VS_NAT_TABLE

/* `create table` fails when the table exists, which makes the whole batch
 * fail: so two concurrent callers never both add the jump rules. */
static const char nat_layout[] =
	"create table " T "\n"
	"add set " T " bridges { type ifname; }\n"
	"add chain " T " ports\n"
	"add chain " T " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain " T " output { type nat hook output priority -100; policy accept; }\n"
	"add chain " T " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain " T " forward { type filter hook forward priority filter; policy accept; }\n"
	"add rule " T " prerouting fib daddr type local jump ports\n"
	"add rule " T " output fib daddr type local jump ports\n";

static int nat_init(int netns_fd, struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = vs_nft_run(netns_fd, nat_layout, NULL, &e);

	if (r == -EEXIST) {
		vs_err_free(e);
		return 0;
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}

static int nat_rules(int netns_fd, struct vs_nft_rule **v, size_t *n, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nat_list(netns_fd, &out, err);

	if (r < 0)
		return r;
	return vs_nft_rules(out, v, n);
}

static bool comment_matches(const char *comment, const char *key, bool exact)
{
	return exact ? !strcmp(comment, key) : !strncmp(comment, key, strlen(key));
}

/* Deletes every rule whose comment is key (exact) or starts with it, in
 * one transaction. Returns the number deleted or -errno. */
static int nat_del_matching(int netns_fd, const char *key, bool exact, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	_cleanup_free_ char *cmds = xstrdup("");
	size_t n = 0;
	int r = nat_rules(netns_fd, &v, &n, err), cnt = 0;

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *next;

		if (!comment_matches(v[i].comment, key, exact))
			continue;
		next = xasprintf("%sdelete rule " T " %s handle %llu\n", cmds, v[i].chain,
				 (unsigned long long)v[i].handle);
		free(cmds);
		cmds = next;
		cnt++;
	}
	if (cnt && (r = vs_nft_run(netns_fd, cmds, NULL, err)) < 0)
		return r;
	return cnt;
}

/* 1 if some rule's comment starts with prefix, 0 if none, or -errno. */
static int nat_has_prefix(int netns_fd, const char *prefix, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	size_t n = 0;
	int r = nat_rules(netns_fd, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (comment_matches(v[i].comment, prefix, false))
			return 1;
	return 0;
}

/* Appends one formatted line to the command buffer *buf. */
static void __attribute__((format(printf, 2, 3))) cmd_add(char **buf, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL;
	va_list ap;
	char *next;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		xoom();
	va_end(ap);
	next = xasprintf("%s%s\n", *buf ? *buf : "", line);
	free(*buf);
	*buf = next;
}

/* The rules of one network; comments say which and are how they go away. */
static char *network_cmds(const struct vs_nat_network *n)
{
	const char *b = n->bridge;
	char *c = NULL, net[20];

	vs_cidr_str(&n->subnet, net);
	cmd_add(&c, "add element " T " bridges { \"%s\" }", b);
	/* other vessel bridges are unreachable (they drop towards us too) */
	cmd_add(&c, "add rule " T " forward iifname \"%s\" oifname != \"%s\" oifname @bridges "
		"drop comment \"vessel:net:%s:isolate\"", b, b, b);
	if (n->internal) {
		cmd_add(&c, "add rule " T " forward iifname \"%s\" oifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-out\"", b, b, b);
		cmd_add(&c, "add rule " T " forward oifname \"%s\" iifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-in\"", b, b, b);
	} else {
		cmd_add(&c, "add rule " T " postrouting ip saddr %s oifname != \"%s\" masquerade "
			"comment \"vessel:net:%s:masquerade\"", net, b, b);
	}
	/* published ports reached from the host's own 127.0.0.1 (output-chain
	 * DNAT; route_localnet lets the packet leave with that source, this
	 * rewrites it to the bridge's address so the reply comes back) */
	cmd_add(&c, "add rule " T " postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade "
		"comment \"vessel:net:%s:localhost\"", b, b);
	/* hairpin: a container reaching a published port of its own network */
	cmd_add(&c, "add rule " T " postrouting oifname \"%s\" ip saddr %s ct status dnat "
		"masquerade comment \"vessel:net:%s:hairpin\"", b, net, b);
	return c;
}

/* route_localnet on the bridge: first, as it also proves the bridge exists
 * in that namespace before anything is made. */
static int network_localnet(int netns_fd, const char *bridge, struct vs_err **err)
{
	_cleanup_free_ char *key = xasprintf("net/ipv4/conf/%s/route_localnet", bridge);
	int r = vs_netns_sysctl_set(netns_fd, key, "1", NULL, err);

	if (r == -ENOENT)
		return vs_err_wrap(err, r, "bridge %s", bridge);
	return r;
}

int vs_nat_network_add(int netns_fd, const struct vs_nat_network *n, bool *forwarding_enabled,
		       struct vs_err **err)
{
	_cleanup_free_ char *cmds = NULL, *prefix = NULL;
	int r;

	if (!vs_ifname_is_valid(n->bridge))
		return vs_err_set(err, -EINVAL, "invalid bridge name '%s'",
				  n->bridge ? n->bridge : "");
	if (forwarding_enabled)
		*forwarding_enabled = false;
	r = network_localnet(netns_fd, n->bridge, err);
	if (r < 0)
		return r;
	r = nat_init(netns_fd, err);
	if (r < 0)
		return r;
	prefix = xasprintf("vessel:net:%s:", n->bridge);
	r = nat_has_prefix(netns_fd, prefix, err);
	if (r)
		return r < 0 ? r : vs_err_set(err, -EEXIST, "bridge %s already has vessel rules",
					      n->bridge);
	cmds = network_cmds(n);
	r = vs_nft_run(netns_fd, cmds, NULL, err);
	if (r < 0)
		return r;
	if (!n->internal)
		r = vs_netns_forwarding_enable(netns_fd, forwarding_enabled, err);
	if (r < 0)
		vs_nat_network_del(netns_fd, n->bridge, NULL);
	return r;
}

int vs_nat_network_del(int netns_fd, const char *bridge, struct vs_err **err)
{
	_cleanup_free_ char *prefix = NULL, *cmd = NULL;
	struct vs_err *e = NULL;
	int r;

	if (!vs_ifname_is_valid(bridge))
		return vs_err_set(err, -EINVAL, "invalid bridge name '%s'", bridge ? bridge : "");
	prefix = xasprintf("vessel:net:%s:", bridge);
	r = nat_del_matching(netns_fd, prefix, false, &e);
	if (r == -ENOENT) { /* no table: nothing of ours is left */
		vs_err_free(e);
		return 0;
	}
	if (r < 0) {
		net_err_pass(err, e);
		return r;
	}
	cmd = xasprintf("delete element " T " bridges { \"%s\" }\n", bridge);
	r = vs_nft_run(netns_fd, cmd, NULL, &e);
	vs_err_free(e);
	return 0;
}

static char *port_comment(const struct vs_port_spec *p)
{
	char ip[16];

	return xasprintf("vessel:port:%s:%s:%u", vs_proto_name(p->proto),
			 vs_ipv4_str(p->host_ip, ip), p->host_port);
}

/* Parses a port comment back into its spec (port field unused). */
static bool port_from_comment(const char *c, struct vs_port_spec *p)
{
	char proto[4], ip[16];
	unsigned port;

	if (sscanf(c, "vessel:port:%3[a-z]:%15[0-9.]:%u", proto, ip, &port) != 3 || port > 65535)
		return false;
	*p = (struct vs_port_spec){ .host_port = (uint16_t)port,
				    .proto = strcmp(proto, "udp") ? VS_PROTO_TCP : VS_PROTO_UDP };
	return vs_ipv4_parse(ip, &p->host_ip, NULL) == 0;
}

/* -EADDRINUSE if a published port conflicts with p, 0 if none. */
static int port_check(int netns_fd, const struct vs_port_spec *p, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	struct vs_port_spec q;
	char a[40], b[16];
	size_t n = 0;
	int r = nat_rules(netns_fd, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!port_from_comment(v[i].comment, &q) || !vs_port_spec_conflicts(p, &q))
			continue;
		return vs_err_set(err, -EADDRINUSE, "port %s is already published (host port %s:%u/%s)",
				  vs_port_spec_str(p, a), vs_ipv4_str(q.host_ip, b), q.host_port,
				  vs_proto_name(q.proto));
	}
	return 0;
}

int vs_nat_port_add(int netns_fd, const struct vs_port_spec *p, uint32_t dest_ip,
		    struct vs_err **err)
{
	_cleanup_free_ char *comment = port_comment(p), *cmd = NULL, *daddr = NULL;
	char hip[16], dip[16];
	int r = port_check(netns_fd, p, err);

	if (r < 0)
		return r;
	daddr = p->host_ip ? xasprintf("ip daddr %s ", vs_ipv4_str(p->host_ip, hip))
			   : xstrdup("meta nfproto ipv4 ");
	cmd = xasprintf("add rule " T " ports %s%s dport %u dnat ip to %s:%u comment \"%s\"\n",
			daddr, vs_proto_name(p->proto), p->host_port, vs_ipv4_str(dest_ip, dip),
			p->port, comment);
	return vs_nft_run(netns_fd, cmd, NULL, err);
}

int vs_nat_port_del(int netns_fd, const struct vs_port_spec *p, struct vs_err **err)
{
	_cleanup_free_ char *comment = port_comment(p);
	char a[40];
	int r = nat_del_matching(netns_fd, comment, true, err);

	if (r < 0)
		return r;
	if (r == 0)
		return vs_err_set(err, -ENOENT, "port %s is not published",
				  vs_port_spec_str(p, a));
	return 0;
}

int vs_nat_list(int netns_fd, char **out, struct vs_err **err)
{
	return vs_nft_run(netns_fd, "list table " T "\n", out, err);
}

int vs_nat_teardown(int netns_fd, struct vs_err **err)
{
	struct vs_err *e = NULL;
	int r = vs_nft_run(netns_fd, "delete table " T "\n", NULL, &e);

	if (r == -ENOENT) {
		vs_err_free(e);
		return 0;
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}
