/* The `bridge vessel` table: port-based VLANs on a shared bridge (vlan.h).
 *
 * Map: the layout; a VLAN's rules (fill, vlan_cmds), add and
 * del (listing and deleting rules by comment); members. */
#include "net/vlan.h"
#include "net/bridge.h"
#include "net/link.h"
#include "net/nft.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B VS_VLAN_TABLE

/* `create table` makes the batch fail when the table exists: concurrent
 * first users make it once (as the inet table, nat.c). */
static const char vlan_layout[] =
	"create table " B "\n"
	"add chain " B " forward { type filter hook forward priority filter; policy accept; }\n"
	"add chain " B " input { type filter hook input priority filter; policy accept; }\n"
	"add chain " B " output { type filter hook output priority filter; policy accept; }\n";

static int check_vid(uint16_t vid, struct vs_err **err)
{
	if (vid < 1 || vid > VS_VLAN_ID_MAX)
		return vs_err_set(err, -EINVAL, "VLAN id %u out of range (1-%d)", vid,
				  VS_VLAN_ID_MAX);
	return 0;
}

/* Copies template t into a new string with "$S" replaced by the first
 * tab-separated part of sets (the VLAN's ports), "$M" by the second (their
 * MAC addresses) and "$N" by net. */
static char *fill(const char *t, const char *sets, const char *net)
{
	const char *tab = strchr(sets, '\t');
	char *out = xstrdup("");

	while (*t) {
		const char *d = strchr(t, '$');
		size_t n = d ? (size_t)(d - t) : strlen(t);
		_cleanup_free_ char *v = NULL;
		char *next;

		v = !d		? xstrdup("") :
		    d[1] == 'S' ? xasprintf("%.*s", (int)(tab - sets), sets) :
		    d[1] == 'M' ? xstrdup(tab + 1) :
				  xstrdup(net);
		next = xasprintf("%s%.*s%s", out, (int)n, t, v);
		free(out);
		out = next;
		t = d ? d + 2 : t + n;
	}
	return out;
}

/* One VLAN's set and rules; `create set` fails when the VLAN exists. */
static char *vlan_cmds(uint16_t vid, const struct vs_cidr *subnet)
{
	static const char *const rules[][3] = {
		/* chain, match ($S: the VLAN's ports, $M: their MACs, $N: its subnet), what */
		{ "forward", "iifname $S oifname != $S", "out" },
		{ "forward", "oifname $S iifname != $S", "in" },
		{ "input", "iifname $S ether type ip ip saddr != $N", "bind-ip" },
		{ "input", "iifname $S ether type arp arp saddr ip != { $N, 0.0.0.0 }",
		  "bind-arp" },
		{ "input", "iifname $S ether type ip6", "no-ip6-in" },
		{ "output", "oifname $S ether type ip ip daddr != $N", "host-ip" },
		{ "output", "oifname $S ether type arp arp daddr ip != $N", "host-arp" },
		{ "output", "oifname $S ether type ip6", "no-ip6-out" },
		{ "prerouting", "iifname $S iifname . ether saddr != $M", "mac" },
	};
	char *c = xasprintf("add chain " B " prerouting { type filter hook prerouting priority "
			    "filter; policy accept; }\n"
			    "create set " B " vlan%u { type ifname; }\n"
			    "create set " B " mac%u { type ifname . ether_addr; }\n",
			    vid, vid),
	     net[20], set[32];

	vs_cidr_str(subnet, net);
	snprintf(set, sizeof(set), "@vlan%u\t@mac%u", vid, vid);
	for (size_t i = 0; i < VS_ARRAY_SIZE(rules); i++) {
		_cleanup_free_ char *m = fill(rules[i][1], set, net);
		char *next = xasprintf("%sadd rule " B
				       " %s %s drop comment \"vessel:vlan:%u:%s\"\n",
				       c, rules[i][0], m, vid, rules[i][2]);

		free(c);
		c = next;
	}
	return c;
}

int vs_vlan_add(int netns_fd, uint16_t vid, const struct vs_cidr *subnet, struct vs_err **err)
{
	_cleanup_free_ char *cmds = NULL;
	struct vs_err *e = NULL;
	int r = check_vid(vid, err);

	if (r < 0 || (r = vs_nft_layout(netns_fd, vlan_layout, err)) < 0)
		return r;
	cmds = vlan_cmds(vid, subnet);
	r = vs_nft_run(netns_fd, cmds, NULL, &e);
	if (r == -EEXIST) {
		vs_err_free(e);
		return vs_err_set(err, -EEXIST, "VLAN %u already exists in this namespace", vid);
	}
	if (r < 0)
		net_err_pass(err, e);
	return r;
}

/* Rules of the table with comments (*v), or -ENOENT without a table. */
static int vlan_rules(int netns_fd, struct vs_nft_rule **v, size_t *n, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nft_run(netns_fd, "list table " B "\n", &out, err);

	if (r < 0)
		return r;
	return vs_nft_rules(out, v, n);
}

/* "delete rule" for each rule of prefix; *left counts the others. */
static char *del_cmds(const struct vs_nft_rule *v, size_t n, const char *prefix, size_t *left)
{
	char *c = xstrdup("");

	*left = 0;
	for (size_t i = 0; i < n; i++) {
		char *next;

		if (strncmp(v[i].comment, "vessel:", 7))
			continue;
		if (strncmp(v[i].comment, prefix, strlen(prefix))) {
			(*left)++;
			continue;
		}
		next = xasprintf("%sdelete rule " B " %s handle %llu\n", c, v[i].chain,
				 (unsigned long long)v[i].handle);
		free(c);
		c = next;
	}
	return c;
}

int vs_vlan_del(int netns_fd, uint16_t vid, bool *last, struct vs_err **err)
{
	_cleanup_free_ struct vs_nft_rule *v = NULL;
	_cleanup_free_ char *prefix = xasprintf("vessel:vlan:%u:", vid), *cmds = NULL;
	struct vs_err *e = NULL;
	size_t n = 0, left;
	int r = check_vid(vid, err);

	if (last)
		*last = false;
	if (r < 0)
		return r;
	if ((r = vlan_rules(netns_fd, &v, &n, &e)) == -ENOENT) {
		vs_err_free(e);
		if (last)
			*last = true;
		return 0;
	}
	if (r < 0) {
		net_err_pass(err, e);
		return r;
	}
	cmds = del_cmds(v, n, prefix, &left);
	if (*cmds && (r = vs_nft_run(netns_fd, cmds, NULL, err)) < 0)
		return r;
	free(cmds);
	/* the sets go with their rules; the table with the last VLAN */
	cmds = left ? xasprintf("delete set " B " vlan%u\ndelete set " B " mac%u\n", vid, vid) :
		      xstrdup("delete table " B "\n");
	r = vs_nft_run(netns_fd, cmds, NULL, &e);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		net_err_pass(err, e);
	else
		vs_err_free(e);
	if (r == 0 && last)
		*last = !left;
	return r;
}

int vs_vlan_port(int netns_fd, uint16_t vid, const char *port, const uint8_t *mac, bool add,
		 struct vs_err **err)
{
	_cleanup_free_ char *cmd = NULL;
	const char *verb = add ? "add" : "delete";
	int r = check_vid(vid, err);

	if (r < 0)
		return r;
	if (!vs_ifname_is_valid(port))
		return vs_err_set(err, -EINVAL, "invalid interface name '%s'", port ? port : "");
	cmd = xasprintf("%s element " B " vlan%u { \"%s\" }\n"
			"%s element " B " mac%u { \"%s\" . %02x:%02x:%02x:%02x:%02x:%02x }\n",
			verb, vid, port, verb, vid, port, mac[0], mac[1], mac[2], mac[3], mac[4],
			mac[5]);
	return vs_nft_run(netns_fd, cmd, NULL, err);
}

void vs_vlan_port_mac(const char *port, uint8_t mac[VS_MAC_LEN])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = port; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x76; /* 'v' */
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}
