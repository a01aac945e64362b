/* net-tool: a thin command line over src/net for the integration tests and
 * bench/net.sh. Not part of the product: `vessel network` is the next
 * session's CLI. Every command runs in the namespace given by -n (a name
 * under /run/netns or a path), default the caller's.
 *
 * Exit 0 on success; on failure one line "net-tool: <reason>" and 1. */
#include "net/addr.h"
#include "net/attach.h"
#include "net/bridge.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/nft.h"
#include "net/netns.h"
#include "net/nl.h"
#include "net/port.h"
#include "net/route.h"
#include "net/tap.h"
#include "net/veth.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct tool {
	int netns_fd;
	struct vs_nl *nl;
	int argc;
	char **argv;
};

static bool has_flag(const struct tool *t, const char *flag)
{
	for (int i = 0; i < t->argc; i++)
		if (!strcmp(t->argv[i], flag))
			return true;
	return false;
}

/* The value after --name, or NULL. */
static const char *opt(const struct tool *t, const char *name)
{
	for (int i = 0; i + 1 < t->argc; i++)
		if (!strcmp(t->argv[i], name))
			return t->argv[i + 1];
	return NULL;
}

static int open_ns(const char *name, int *fd, struct vs_err **err)
{
	*fd = -1;
	if (!name || !strcmp(name, "-"))
		return 0;
	return vs_netns_open(name, fd, err);
}

static int cmd_bridge_add(struct tool *t, struct vs_err **err)
{
	struct vs_bridge_opts o = { .vlan_filtering = has_flag(t, "--vlan-filtering") };
	const char *mtu = opt(t, "--mtu");
	uint64_t v;

	if (mtu && vs_parse_uint(mtu, 68, 65535, &v) < 0)
		return vs_err_set(err, -EINVAL, "bad --mtu %s", mtu);
	o.mtu = mtu ? (uint32_t)v : 0;
	return vs_bridge_add(t->nl, t->argv[1], &o, err);
}

static int cmd_link_del(struct tool *t, struct vs_err **err)
{
	return vs_link_del(t->nl, t->argv[1], err);
}

static int cmd_link_up(struct tool *t, struct vs_err **err)
{
	return vs_link_set_up(t->nl, t->argv[1], strcmp(t->argv[2], "down"), err);
}

static int cmd_link_show(struct tool *t, struct vs_err **err)
{
	struct vs_link_info li;
	int r = vs_link_get(t->nl, t->argv[1], &li, err);

	if (r < 0)
		return r;
	printf("name=%s ifindex=%d master=%d mtu=%u up=%d kind=%s "
	       "mac=%02x:%02x:%02x:%02x:%02x:%02x\n",
	       li.name, li.ifindex, li.master, li.mtu, li.up, li.kind, li.mac[0], li.mac[1],
	       li.mac[2], li.mac[3], li.mac[4], li.mac[5]);
	return 0;
}

static int cmd_link_set(struct tool *t, struct vs_err **err)
{
	const char *what = t->argv[2], *val = t->argv[3];
	uint8_t mac[VS_MAC_LEN];
	uint64_t mtu;
	int fd = -1, r;

	if (!strcmp(what, "master"))
		return vs_link_set_master(t->nl, t->argv[1], strcmp(val, "-") ? val : NULL, err);
	if (!strcmp(what, "name"))
		return vs_link_rename(t->nl, t->argv[1], val, err);
	if (!strcmp(what, "mtu"))
		return vs_parse_uint(val, 0, 1u << 20, &mtu) < 0 ?
			       vs_err_set(err, -EINVAL, "bad mtu %s", val) :
			       vs_link_set_mtu(t->nl, t->argv[1], (uint32_t)mtu, err);
	if (!strcmp(what, "mac"))
		return sscanf(val, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
			      &mac[3], &mac[4], &mac[5]) != 6 ?
			       vs_err_set(err, -EINVAL, "bad mac %s", val) :
			       vs_link_set_mac(t->nl, t->argv[1], mac, err);
	if (strcmp(what, "netns"))
		return vs_err_set(err, -EINVAL, "link-set: unknown attribute %s", what);
	r = open_ns(val, &fd, err);
	if (r >= 0)
		r = vs_link_set_netns(t->nl, t->argv[1], fd, err);
	if (fd >= 0)
		close(fd);
	return r;
}

static int cmd_veth_add(struct tool *t, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	int r = open_ns(t->argv[3], &fd, err);

	return r < 0 ? r : vs_veth_add(t->nl, t->argv[1], t->argv[2], fd, err);
}

/* attach BRIDGE HOSTNAME NETNS PEER ADDR/N GATEWAY|- [--mtu N] [--time]
 * (--time prints the library call's own duration, for bench/net.sh) */
static int cmd_attach(struct tool *t, struct vs_err **err)
{
	struct vs_attach a = { .bridge = t->argv[1],
			       .host_name = t->argv[2],
			       .peer_name = t->argv[4] };
	_cleanup_close_ int fd = -1;
	const char *mtu = opt(t, "--mtu");
	uint64_t v = 0, t0;
	int r = open_ns(t->argv[3], &fd, err);

	if (r < 0)
		return r;
	a.netns_fd = fd;
	r = vs_ipv4_prefix_parse(t->argv[5], &a.addr, &a.prefix, err);
	if (r >= 0 && strcmp(t->argv[6], "-"))
		r = vs_ipv4_parse(t->argv[6], &a.gateway, err);
	if (r >= 0 && mtu && vs_parse_uint(mtu, 68, 65535, &v) < 0)
		r = vs_err_set(err, -EINVAL, "bad --mtu %s", mtu);
	a.mtu = (uint32_t)v;
	if (r < 0)
		return r;
	t0 = vs_now_ns();
	r = vs_attach_netns(t->nl, &a, err);
	if (r >= 0 && has_flag(t, "--time"))
		printf("attach_us=%.1f\n", (double)(vs_now_ns() - t0) / 1000.0);
	return r;
}

/* tap-add NAME [--persist] [--vnet-hdr] [--master BR] [--hold]: with
 * --hold, prints "ready" and keeps the fd until stdin closes. */
static int cmd_tap_add(struct tool *t, struct vs_err **err)
{
	unsigned flags = (has_flag(t, "--persist") ? VS_TAP_PERSIST : 0) |
			 (has_flag(t, "--vnet-hdr") ? VS_TAP_VNET_HDR : 0);
	const char *master = opt(t, "--master");
	_cleanup_close_ int fd = -1;
	unsigned off = 0;
	char c;
	int r = vs_tap_create(t->netns_fd, t->argv[1], flags, &fd, &off, err);

	if (r >= 0 && master)
		r = vs_link_set_master(t->nl, t->argv[1], master, err);
	if (r >= 0 && master)
		r = vs_link_set_up(t->nl, t->argv[1], true, err);
	if (r < 0)
		return r;
	printf("ready offloads=0x%x\n", off);
	fflush(stdout);
	if (has_flag(t, "--hold"))
		while (read(0, &c, 1) > 0)
			;
	return 0;
}

static int cmd_addr(struct tool *t, struct vs_err **err)
{
	uint32_t a;
	uint8_t p;
	int r = vs_ipv4_prefix_parse(t->argv[2], &a, &p, err);

	if (r < 0)
		return r;
	if (!strcmp(t->argv[0], "addr-add"))
		return vs_addr_add(t->nl, t->argv[1], a, p, err);
	return vs_addr_del(t->nl, t->argv[1], a, p, err);
}

/* route-add|route-del DST/N GATEWAY|- [DEV] ("default" for 0.0.0.0/0) */
static int cmd_route(struct tool *t, struct vs_err **err)
{
	struct vs_route rt = { 0 };
	struct vs_link_info li;
	int r = 0;

	if (strcmp(t->argv[1], "default"))
		r = vs_ipv4_prefix_parse(t->argv[1], &rt.dst, &rt.prefix, err);
	if (r >= 0 && strcmp(t->argv[2], "-"))
		r = vs_ipv4_parse(t->argv[2], &rt.gateway, err);
	if (r >= 0 && t->argc > 3 && t->argv[3][0] != '-') {
		r = vs_link_get(t->nl, t->argv[3], &li, err);
		rt.oif = li.ifindex;
	}
	if (r < 0)
		return r;
	if (!strcmp(t->argv[0], "route-add"))
		return vs_route_add(t->nl, &rt, err);
	return vs_route_del(t->nl, &rt, err);
}

static int cmd_route_list(struct tool *t, struct vs_err **err)
{
	_cleanup_free_ struct vs_route *v = NULL;
	char d[20], g[16];
	size_t n = 0;
	int r = vs_route_list(t->nl, &v, &n, err);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct vs_cidr c = { .addr = v[i].dst, .prefix = v[i].prefix };

		printf("%s via %s oif %d\n", vs_cidr_str(&c, d), vs_ipv4_str(v[i].gateway, g),
		       v[i].oif);
	}
	return r;
}

/* route-check SUBNET [IGNORE_DEV]: the `network create` collision check */
static int cmd_route_check(struct tool *t, struct vs_err **err)
{
	struct vs_cidr c;
	struct vs_link_info li = { 0 };
	int r = vs_subnet_parse(t->argv[1], &c, err);

	if (r >= 0 && t->argc > 2 && t->argv[2][0] != '-')
		r = vs_link_get(t->nl, t->argv[2], &li, err);
	return r < 0 ? r : vs_route_find_conflict(t->nl, &c, li.ifindex, NULL, err);
}

/* vlan-add|vlan-del|vlan-access PORT VID [--pvid] [--untagged] [--self] */
static int cmd_vlan(struct tool *t, struct vs_err **err)
{
	unsigned flags = (has_flag(t, "--pvid") ? VS_VLAN_PVID : 0) |
			 (has_flag(t, "--untagged") ? VS_VLAN_UNTAGGED : 0) |
			 (has_flag(t, "--self") ? VS_VLAN_SELF : 0);
	uint64_t vid;

	if (vs_parse_uint(t->argv[2], 0, 65535, &vid) < 0)
		return vs_err_set(err, -EINVAL, "bad VLAN id %s", t->argv[2]);
	if (!strcmp(t->argv[0], "vlan-access"))
		return vs_bridge_vlan_access(t->nl, t->argv[1], (uint16_t)vid, flags, err);
	return vs_bridge_vlan(t->nl, t->argv[1], (uint16_t)vid, flags,
			      !strcmp(t->argv[0], "vlan-add"), err);
}

/* nat-net-add BRIDGE SUBNET [--internal] */
static int cmd_nat_net_add(struct tool *t, struct vs_err **err)
{
	struct vs_nat_network n = { .bridge = t->argv[1], .internal = has_flag(t, "--internal") };
	bool fwd = false;
	int r = vs_subnet_parse(t->argv[2], &n.subnet, err);

	if (r >= 0)
		r = vs_nat_network_add(t->netns_fd, &n, &fwd, err);
	if (r >= 0 && fwd)
		printf("enabled IPv4 forwarding\n");
	return r;
}

static int cmd_nat_net_del(struct tool *t, struct vs_err **err)
{
	return vs_nat_network_del(t->netns_fd, t->argv[1], 0, err);
}

/* nat-port-add SPEC DEST_IP | nat-port-del SPEC */
static int cmd_nat_port(struct tool *t, struct vs_err **err)
{
	struct vs_port_spec p;
	uint32_t dest;
	int r = vs_port_spec_parse(t->argv[1], &p, err);

	if (r < 0)
		return r;
	if (!strcmp(t->argv[0], "nat-port-del"))
		return vs_nat_port_del(t->netns_fd, &p, err);
	r = vs_ipv4_parse(t->argv[2], &dest, err);
	return r < 0 ? r : vs_nat_port_add(t->netns_fd, &p, dest, err);
}

static int cmd_nat_port_list(struct tool *t, struct vs_err **err)
{
	_cleanup_free_ struct vs_nat_port *v = NULL;
	char spec[40], ip[16];
	size_t n = 0;
	int r = vs_nat_port_list(t->netns_fd, &v, &n, err);

	for (size_t i = 0; r >= 0 && i < n; i++)
		printf("%s -> %s\n", vs_port_spec_str(&v[i].spec, spec),
		       vs_ipv4_str(v[i].dest_ip, ip));
	return r;
}

/* nat-port-del-dest DEST_IP: every port published to it */
static int cmd_nat_port_del_dest(struct tool *t, struct vs_err **err)
{
	uint32_t dest;
	int r = vs_ipv4_parse(t->argv[1], &dest, err);

	if (r >= 0)
		r = vs_nat_port_del_dest(t->netns_fd, dest, err);
	if (r >= 0)
		printf("removed %d\n", r);
	return r;
}

static int cmd_nat_list(struct tool *t, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nat_list(t->netns_fd, &out, err);

	if (r >= 0)
		fputs(out, stdout);
	return r;
}

static int cmd_nat_teardown(struct tool *t, struct vs_err **err)
{
	return vs_nat_teardown(t->netns_fd, err);
}

/* nft COMMANDS: any nft commands through libnftables (tests set up other
 * firewalls' tables with it) */
static int cmd_nft(struct tool *t, struct vs_err **err)
{
	_cleanup_free_ char *out = NULL;
	int r = vs_nft_run(t->netns_fd, t->argv[1], &out, err);

	if (r >= 0)
		fputs(out, stdout);
	return r;
}

/* subnet-check SUBNET [EXISTING...]: parse and the overlap check */
static int cmd_subnet_check(struct tool *t, struct vs_err **err)
{
	struct vs_cidr c, o;
	char a[20], b[20];
	int r = vs_subnet_parse(t->argv[1], &c, err);

	for (int i = 2; r >= 0 && i < t->argc; i++) {
		r = vs_subnet_parse(t->argv[i], &o, err);
		if (r >= 0 && vs_cidr_overlaps(&c, &o))
			r = vs_err_set(err, -EEXIST, "subnet %s overlaps %s", vs_cidr_str(&c, a),
				       vs_cidr_str(&o, b));
	}
	return r;
}

static int cmd_port_parse(struct tool *t, struct vs_err **err)
{
	struct vs_port_spec p;
	char buf[40];
	int r = vs_port_spec_parse(t->argv[1], &p, err);

	if (r >= 0)
		printf("%s\n", vs_port_spec_str(&p, buf));
	return r;
}

struct tool_cmd {
	const char *name;
	int min_args; /* after the command name */
	bool needs_nl;
	int (*fn)(struct tool *t, struct vs_err **err);
};

static const struct tool_cmd tool_cmds[] = {
	{ "bridge-add", 1, true, cmd_bridge_add },
	{ "link-del", 1, true, cmd_link_del },
	{ "link-up", 2, true, cmd_link_up },
	{ "link-show", 1, true, cmd_link_show },
	{ "link-set", 3, true, cmd_link_set },
	{ "veth-add", 3, true, cmd_veth_add },
	{ "attach", 6, true, cmd_attach },
	{ "tap-add", 1, true, cmd_tap_add },
	{ "addr-add", 2, true, cmd_addr },
	{ "addr-del", 2, true, cmd_addr },
	{ "route-add", 2, true, cmd_route },
	{ "route-del", 2, true, cmd_route },
	{ "route-list", 0, true, cmd_route_list },
	{ "route-check", 1, true, cmd_route_check },
	{ "vlan-add", 2, true, cmd_vlan },
	{ "vlan-del", 2, true, cmd_vlan },
	{ "vlan-access", 2, true, cmd_vlan },
	{ "nat-net-add", 2, false, cmd_nat_net_add },
	{ "nat-net-del", 1, false, cmd_nat_net_del },
	{ "nat-port-add", 2, false, cmd_nat_port },
	{ "nat-port-del", 1, false, cmd_nat_port },
	{ "nat-port-list", 0, false, cmd_nat_port_list },
	{ "nat-port-del-dest", 1, false, cmd_nat_port_del_dest },
	{ "nat-list", 0, false, cmd_nat_list },
	{ "nat-teardown", 0, false, cmd_nat_teardown },
	{ "nft", 1, false, cmd_nft },
	{ "subnet-check", 1, false, cmd_subnet_check },
	{ "port-parse", 1, false, cmd_port_parse },
};

static int run(const struct tool_cmd *c, struct tool *t, struct vs_err **err)
{
	int r;

	if (t->argc - 1 < c->min_args)
		return vs_err_set(err, -EINVAL, "%s: needs %d arguments", c->name, c->min_args);
	if (c->needs_nl) {
		r = vs_nl_open(t->netns_fd, &t->nl, err);
		if (r < 0)
			return r;
	}
	r = c->fn(t, err);
	vs_nl_free(t->nl);
	return r;
}

int main(int argc, char **argv)
{
	_cleanup_(vs_err_freep) struct vs_err *err = NULL;
	struct tool t = { .netns_fd = -1 };
	int i = 1, r = -EINVAL;

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		if (vs_netns_open(argv[2], &t.netns_fd, &err) < 0)
			goto out;
		i = 3;
	}
	t.argc = argc - i;
	t.argv = argv + i;
	for (size_t k = 0; t.argc > 0 && k < VS_ARRAY_SIZE(tool_cmds); k++)
		if (!strcmp(tool_cmds[k].name, t.argv[0]))
			r = run(&tool_cmds[k], &t, &err);
	if (r < 0 && !err)
		vs_err_set(&err, r, "usage: net-tool [-n NETNS] COMMAND ARGS (see the source)");
out:
	if (t.netns_fd >= 0)
		close(t.netns_fd);
	if (!err)
		return 0;
	fprintf(stderr, "net-tool: %s\n", err->msg);
	return 1;
}
