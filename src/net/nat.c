/* The `inet vessel` nftables table: layout in nat.h and docs/net.md.
 *
 * Map: the layout batch; listing and deleting rules by
 * comment; a network's rules (network_cmds) and vs_nat_network_add/del;
 * listing and teardown. Published ports are in nat-port.c. */
#include "net/nat.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/nft.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define T VS_NAT_T

/* `create table` fails when the table exists, which makes the whole batch
 * fail: so two concurrent callers never both add the jump rules. */
static const char nat_layout[] =
	"create table " T "\n"
	"add set " T " bridges { type ifname; }\n"
	"add chain " T " ports\n"
	"add chain " T " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain " T " output { type nat hook output priority -100; policy accept; }\n"
	"add chain " T
	" postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain " T " forward { type filter hook forward priority filter; policy accept; }\n"
	"add rule " T " prerouting fib daddr type local jump ports\n"
	"add rule " T " output fib daddr type local jump ports\n";

int net_nat_rules(int netns_fd, struct vs_nft_rule **v, size_t *n, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nat_list(netns_fd, &out, err);

	if (r < 0)
		return r;
	return vs_nft_rules(out, v, n);
}

int net_nat_del_where(int netns_fd, bool (*match)(const char *comment, const void *arg),
		      const void *arg, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	_cleanup_free_ char *cmds = xstrdup("");
	size_t n = 0;
	int r = net_nat_rules(netns_fd, &v, &n, err), cnt = 0;

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *next;

		if (!match(v[i].comment, arg))
			continue;
		next = xasprintf("%sdelete rule " VS_NAT_T " %s handle %llu\n", cmds, v[i].chain,
				 (unsigned long long)v[i].handle);
		free(cmds);
		cmds = next;
		cnt++;
	}
	if (cnt && (r = vs_nft_run(netns_fd, cmds, NULL, err)) < 0)
		return r;
	return cnt;
}

bool net_nat_has_prefix(const char *comment, const void *prefix)
{
	return !strncmp(comment, prefix, strlen(prefix));
}

/* 1 if some rule's comment starts with prefix, 0 if none, or -errno. */
static int nat_has_prefix(int netns_fd, const char *prefix, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	size_t n = 0;
	int r = net_nat_rules(netns_fd, &v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (net_nat_has_prefix(v[i].comment, prefix))
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
	cmd_add(&c,
		"add rule " T " forward iifname \"%s\" oifname != \"%s\" oifname @bridges "
		"drop comment \"vessel:net:%s:isolate\"",
		b, b, b);
	if (n->internal) {
		cmd_add(&c,
			"add rule " T " forward iifname \"%s\" oifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-out\"",
			b, b, b);
		cmd_add(&c,
			"add rule " T " forward oifname \"%s\" iifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-in\"",
			b, b, b);
	} else {
		cmd_add(&c,
			"add rule " T " postrouting ip saddr %s oifname != \"%s\" masquerade "
			"comment \"vessel:net:%s:masquerade\"",
			net, b, b);
	}
	/* published ports reached from the host's own 127.0.0.1 (output-chain
	 * DNAT; route_localnet lets the packet leave with that source, this
	 * rewrites it to the bridge's address so the reply comes back) */
	cmd_add(&c,
		"add rule " T " postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade "
		"comment \"vessel:net:%s:localhost\"",
		b, b);
	/* hairpin: a container reaching a published port of its own network */
	cmd_add(&c,
		"add rule " T " postrouting oifname \"%s\" ip saddr %s ct status dnat "
		"masquerade comment \"vessel:net:%s:hairpin\"",
		b, net, b);
	return c;
}

/* A VLAN network on a shared bridge b (key "b.vlan"): matched by its
 * subnet. The bridge is not in @bridges (other networks share it), so the
 * way in from other vessel bridges is dropped here too. */
static char *vlan_network_cmds(const struct vs_nat_network *n)
{
	_cleanup_free_ char *k = xasprintf("%s.%u", n->bridge, n->vlan);
	const char *b = n->bridge;
	char *c = NULL, net[20];

	vs_cidr_str(&n->subnet, net);
	cmd_add(&c,
		"add rule " T " forward iifname \"%s\" oifname \"%s\" ip saddr %s ip daddr != %s "
		"drop comment \"vessel:net:%s:vlan-isolate\"",
		b, b, net, net, k);
	cmd_add(&c,
		"add rule " T " forward iifname \"%s\" ip saddr %s oifname != \"%s\" "
		"oifname @bridges drop comment \"vessel:net:%s:isolate\"",
		b, net, b, k);
	cmd_add(&c,
		"add rule " T " forward oifname \"%s\" ip daddr %s iifname != \"%s\" "
		"iifname @bridges drop comment \"vessel:net:%s:isolate-in\"",
		b, net, b, k);
	if (n->internal) {
		cmd_add(&c,
			"add rule " T " forward iifname \"%s\" ip saddr %s oifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-out\"",
			b, net, b, k);
		cmd_add(&c,
			"add rule " T " forward oifname \"%s\" ip daddr %s iifname != \"%s\" drop "
			"comment \"vessel:net:%s:internal-in\"",
			b, net, b, k);
	} else {
		cmd_add(&c,
			"add rule " T " postrouting ip saddr %s oifname != \"%s\" masquerade "
			"comment \"vessel:net:%s:masquerade\"",
			net, b, k);
	}
	cmd_add(&c,
		"add rule " T " postrouting oifname \"%s\" ip daddr %s ip saddr 127.0.0.0/8 "
		"masquerade comment \"vessel:net:%s:localhost\"",
		b, net, k);
	cmd_add(&c,
		"add rule " T " postrouting oifname \"%s\" ip saddr %s ct status dnat "
		"masquerade comment \"vessel:net:%s:hairpin\"",
		b, net, k);
	return c;
}

/* The comment key of n's rules: the bridge, or "bridge.vlan". */
static char *net_key(const char *bridge, uint16_t vlan)
{
	return vlan ? xasprintf("%s.%u", bridge, vlan) : xstrdup(bridge);
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
	_cleanup_free_ char *cmds = NULL, *prefix = NULL, *key = NULL;
	int r;

	if (!vs_ifname_is_valid(n->bridge))
		return vs_err_set(err, -EINVAL, "invalid bridge name '%s'",
				  n->bridge ? n->bridge : "");
	if (forwarding_enabled)
		*forwarding_enabled = false;
	r = network_localnet(netns_fd, n->bridge, err);
	if (r < 0)
		return r;
	r = vs_nft_layout(netns_fd, nat_layout, err);
	if (r < 0)
		return r;
	key = net_key(n->bridge, n->vlan);
	prefix = xasprintf("vessel:net:%s:", key);
	r = nat_has_prefix(netns_fd, prefix, err);
	if (r)
		return r < 0 ? r :
			       vs_err_set(err, -EEXIST, "bridge %s already has vessel rules", key);
	cmds = n->vlan ? vlan_network_cmds(n) : network_cmds(n);
	r = vs_nft_run(netns_fd, cmds, NULL, err);
	if (r < 0)
		return r;
	if (!n->internal)
		r = vs_netns_forwarding_enable(netns_fd, forwarding_enabled, err);
	if (r < 0)
		vs_nat_network_del(netns_fd, n->bridge, n->vlan, NULL);
	return r;
}

int vs_nat_network_del(int netns_fd, const char *bridge, uint16_t vlan, struct vs_err **err)
{
	_cleanup_free_ char *prefix = NULL, *cmd = NULL, *key = NULL;
	struct vs_err *e = NULL;
	int r;

	if (!vs_ifname_is_valid(bridge))
		return vs_err_set(err, -EINVAL, "invalid bridge name '%s'", bridge ? bridge : "");
	key = net_key(bridge, vlan);
	prefix = xasprintf("vessel:net:%s:", key);
	r = net_nat_del_where(netns_fd, net_nat_has_prefix, prefix, &e);
	if (r == -ENOENT) { /* no table: nothing of ours is left */
		vs_err_free(e);
		return 0;
	}
	if (r < 0) {
		net_err_pass(err, e);
		return r;
	}
	if (vlan) /* the shared bridge is in no set */
		return 0;
	cmd = xasprintf("delete element " T " bridges { \"%s\" }\n", bridge);
	r = vs_nft_run(netns_fd, cmd, NULL, &e);
	vs_err_free(e);
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

int vs_nat_teardown_if_unused(int netns_fd, bool *removed, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	struct vs_err *e = NULL;
	size_t n = 0;
	int r = net_nat_rules(netns_fd, &v, &n, &e);

	if (removed)
		*removed = false;
	if (r == -ENOENT) {
		vs_err_free(e);
		return 0;
	}
	if (r < 0) {
		net_err_pass(err, e);
		return r;
	}
	if (n)
		return 0;
	if ((r = vs_nat_teardown(netns_fd, err)) == 0 && removed)
		*removed = true;
	return r;
}

int vs_nat_forward_blocked(int netns_fd, char *buf, size_t len, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nft_run(netns_fd, "list chains\n", &out, err);

	if (r < 0)
		return r;
	return vs_nft_forward_drop(out, VS_NAT_T, buf, len) ? 1 : 0;
}
