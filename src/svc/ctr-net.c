/* A container on a virtual network (docs/run.md, docs/net.md): the
 * checks at create, and what the monitor does around the start.
 *
 *   prepare   (monitor, before vs_ctr_create) ensure the network, lease an
 *             address, publish the ports (DNAT), write the container's
 *             hosts/resolv.conf/hostname and every neighbour's hosts
 *   attach    (monitor, the init created but not started) veth pair with
 *             eth0 made directly in the container's namespace, on the
 *             bridge, address, default route, MTU of the network
 *   release   (monitor, the container gone or its start failed) ports,
 *             host end of the veth, lease, neighbours' hosts
 *   cleanup   the same for a container whose monitor died (SIGKILL):
 *             called by the liveness check and by the sweep of stale leases
 *
 * The veth's host end is vessel-<first 8 digits of the id>. Everything
 * acts in the caller's network namespace, like the network verbs.
 *
 * Map: spec - create checks - -P - users - prepare - attach - release/cleanup - sweep. */
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "svc/net.h"
#include "svc/vm-net.h"
#include "store/containers.h"
#include "store/networks.h"
#include "store/store.h"
#include "net/attach.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/nl.h"
#include "net/port.h"
#include "net/vlan.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEER_NAME "eth0"

VS_DEFINE_CLEANUP(struct vs_nl, vs_nl_free)

static void host_if_name(const char *id, char out[VS_IFNAME_MAX + 1])
{
	snprintf(out, VS_IFNAME_MAX + 1, "vessel-%.8s", id);
}

void vs_ctr_net_clear(struct vs_ctr_net *n)
{
	free(n->network);
	free(n->name);
	free(n->ports);
	vs_store_net_free(n->net);
	*n = (struct vs_ctr_net){ 0 };
}

/* The network and ports of a spec as the store keeps it (ctr-json.c). */
static int from_spec(const struct vs_store_ctr *row, struct vs_ctr_net *n, struct vs_err **err)
{
	_cleanup_json_ json_t *spec = json_loads(row->spec, 0, NULL);
	const char *net = vs_json_str(spec, "network");
	json_t *ports = json_object_get(spec, "ports"), *v;
	size_t i;

	*n = (struct vs_ctr_net){ 0 };
	if (!net || !strcmp(net, "none") || !strcmp(net, "host"))
		return 0;
	n->network = xstrdup(net);
	n->name = xstrdup(row->name);
	host_if_name(row->id, n->host_if);
	n->ports = xzalloc((json_array_size(ports) + 1) * sizeof(*n->ports));
	json_array_foreach(ports, i, v)
	{
		int r = vs_port_spec_parse(json_string_value(v) ? json_string_value(v) : "",
					   &n->ports[n->n_ports], err);

		if (r < 0)
			return r;
		n->n_ports++;
	}
	return 0;
}

/* -EADDRINUSE when p conflicts with one of v[0..n). */
static int port_conflict(const struct vs_port_spec *p, const struct vs_port_spec *q,
			 struct vs_err **err)
{
	char a[40], b[16];

	if (!vs_port_spec_conflicts(p, q))
		return 0;
	return vs_err_set(err, -EADDRINUSE, "port %s is already published (host port %s:%u/%s)",
			  vs_port_spec_str(p, a), vs_ipv4_str(q->host_ip, b), q->host_port,
			  vs_proto_name(q->proto));
}

int vs_svc_ctr_net_check(struct vs_svc *svc, const struct vs_ctr_spec *s, struct vs_err **err)
{
	_cleanup_free_ struct vs_nat_port *pub = NULL;
	const char *name = vs_ctr_spec_network(s);
	struct vs_store_net *row = NULL;
	size_t npub = 0;
	int r;

	if (s->network != VS_CTR_NET_BRIDGE)
		return s->n_ports ? vs_err_set(err, -EINVAL,
					       "published ports need a network (not "
					       "--network %s)",
					       name) :
				    0;
	if (strcmp(name, VS_NET_DEFAULT) && (r = vs_store_net_get(svc->store, name, &row, err)) < 0)
		return r == -ENOENT ? vs_err_set(err, r, "no network named '%.64s'", name) : r;
	vs_store_net_free(row);
	if (s->n_ports && vs_nat_port_list(-1, &pub, &npub, NULL) < 0)
		npub = 0; /* the start checks again, under the lock */
	for (size_t i = 0; i < s->n_ports; i++) {
		for (size_t j = 0; j < i; j++)
			if ((r = port_conflict(&s->ports[i], &s->ports[j], err)) < 0)
				return r;
		for (size_t j = 0; j < npub; j++)
			if ((r = port_conflict(&s->ports[i], &pub[j].spec, err)) < 0)
				return r;
	}
	return 0;
}

#define EPHEMERAL_FIRST 32768 /* Linux's ip_local_port_range, docker's too */
#define EPHEMERAL_END 61000

/* "80/tcp", "53/udp", "8080" (tcp). Returns 0 or -EINVAL with *err. */
static int exposed_parse(const char *e, struct vs_port_spec *p, struct vs_err **err)
{
	char proto[8] = "tcp", extra;
	unsigned port;
	int k = sscanf(e, "%u/%7[a-z]%c", &port, proto, &extra);

	if ((k != 1 && k != 2) || !port || port > 65535 ||
	    (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		return vs_err_set(err, -EINVAL, "-P: the image exposes '%.32s', not PORT[/tcp|udp]",
				  e);
	*p = (struct vs_port_spec){ .port = (uint16_t)port,
				    .proto = strcmp(proto, "udp") ? VS_PROTO_TCP : VS_PROTO_UDP };
	return 0;
}

/* True when nothing on this host holds port p->host_port now: a socket of
 * its protocol binds to it on every address. */
static bool host_port_free(const struct vs_port_spec *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
	int type = p->proto == VS_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	return fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
}

/* A host port for p: free, not published (pub), not in v[0..n). */
static int pick_host_port(struct vs_port_spec *p, const struct vs_port_spec *v, size_t n,
			  const struct vs_nat_port *pub, size_t npub, struct vs_err **err)
{
	unsigned span = EPHEMERAL_END - EPHEMERAL_FIRST, start = (unsigned)getpid() % span;

	for (unsigned k = 0; k < span; k++) {
		bool taken = false;

		p->host_port = (uint16_t)(EPHEMERAL_FIRST + (start + k) % span);
		for (size_t i = 0; i < n && !taken; i++)
			taken = vs_port_spec_conflicts(p, &v[i]);
		for (size_t i = 0; i < npub && !taken; i++)
			taken = vs_port_spec_conflicts(p, &pub[i].spec);
		if (!taken && host_port_free(p))
			return 0;
	}
	return vs_err_set(err, -EADDRINUSE, "-P: no free host port for %u/%s", p->port,
			  vs_proto_name(p->proto));
}

int vs_svc_ctr_net_publish_all(const struct vs_ctr_spec *s, char *const *exposed,
			       struct vs_port_spec **out, size_t *n, struct vs_err **err)
{
	_cleanup_free_ struct vs_nat_port *pub = NULL;
	size_t ne = 0, m = s->n_ports, npub = 0;
	struct vs_port_spec *v;
	int r = 0;

	while (exposed && exposed[ne])
		ne++;
	v = xzalloc((m + ne + 1) * sizeof(*v));
	memcpy(v, s->ports, m * sizeof(*v));
	if (ne && vs_nat_port_list(-1, &pub, &npub, NULL) < 0)
		npub = 0; /* the start checks again, under the lock */
	for (size_t i = 0; i < ne && r == 0; i++)
		if ((r = exposed_parse(exposed[i], &v[m], err)) == 0 &&
		    (r = pick_host_port(&v[m], v, m, pub, npub, err)) == 0)
			m++;
	if (r < 0) {
		free(v);
		return r;
	}
	*out = v;
	*n = m;
	return 0;
}

int vs_svc_ctr_net_users(struct vs_svc *svc, const char *network, char **who)
{
	struct vs_store_ctr **rows = NULL;
	size_t n = 0;
	int r = vs_store_ctr_list(svc->store, &rows, &n, NULL), count = 0;

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_t *spec = json_loads(rows[i]->spec, 0, NULL);
		const char *net = vs_json_str(spec, "network");

		if (!net || strcmp(net, network))
			continue;
		if (!count++ && who)
			*who = xstrdup(rows[i]->name);
	}
	vs_store_ctr_list_free(rows, n);
	return count;
}

/* Publishes the ports under the store's write lock, so that two vessel
 * processes publishing one port cannot both pass the conflict check. */
static int publish(struct vs_svc *svc, struct vs_ctr_net *n, struct vs_err **err)
{
	int r;

	if (!n->n_ports)
		return 0;
	if ((r = vs_store_begin(svc->store, err)) < 0)
		return r;
	for (size_t i = 0; i < n->n_ports && r == 0; i++)
		r = vs_nat_port_add(-1, &n->ports[i], n->addr, err);
	vs_store_rollback(svc->store); /* nothing was written: the lock only serialised us */
	return r;
}

/* The network's row, address and gateway, once it exists (ensured). */
static int net_row(struct vs_svc *svc, struct vs_ctr_net *n, struct vs_err **err)
{
	int r = vs_store_net_get(svc->store, n->network, &n->net, err);

	if (r == -ENOENT)
		return vs_err_set(err, r, "no network named '%.64s'", n->network);
	if (r < 0 || (r = vs_subnet_parse(n->net->subnet, &n->subnet, err)) < 0)
		return r;
	return vs_ipv4_parse(n->net->gateway, &n->gateway, err);
}

int vs_svc_ctr_net_prepare(struct vs_svc *svc, const struct vs_store_ctr *row, const char *dir,
			   const char *hostname, struct vs_ctr_net *n, struct vs_err **err)
{
	int r = from_spec(row, n, err);

	if (r < 0 || !n->network)
		return r;
	vs_svc_ctr_net_sweep(svc);
	vs_svc_vm_net_sweep(svc);
	if ((r = vs_svc_net_ensure(svc, n->network, err)) < 0 || (r = net_row(svc, n, err)) < 0)
		return r;
	vs_svc_step("ctr-net:ensured");
	if ((r = vs_svc_net_addr_alloc(svc, n->network, "container", n->name, &n->addr, err)) < 0)
		return r;
	n->leased = true;
	vs_svc_step("ctr-net:leased");
	if ((r = publish(svc, n, err)) < 0 ||
	    (r = vs_svc_ctr_net_write_files(dir, hostname, n->net->internal, err)) < 0)
		return r;
	return vs_svc_ctr_net_hosts_update(svc, n->network) < 0 ?
		       vs_err_set(err, -EIO, "cannot update the hosts files of network %s",
				  n->network) :
		       0;
}

int vs_svc_ctr_net_attach(struct vs_ctr_net *n, pid_t init, struct vs_err **err)
{
	_cleanup_(vs_nl_freep) struct vs_nl *nl = NULL;
	_cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)init);
	_cleanup_close_ int fd = -1;
	char dev[VS_NET_DEV_LEN];
	uint8_t mac[VS_MAC_LEN];
	struct vs_attach a;
	uint16_t vid;
	int r;

	if (!n->network)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return vs_err_setsys(err, -errno, "cannot open %s", path);
	if ((r = vs_nl_open(-1, &nl, err)) < 0)
		return r;
	/* a VLAN's member before its port exists: never a moment outside it;
	 * eth0 gets the MAC address the VLAN admits from that port */
	vs_vlan_port_mac(n->host_if, mac);
	if ((vid = vs_svc_net_dev(n->net, dev)) &&
	    (r = vs_vlan_port(-1, vid, n->host_if, mac, true, err)) < 0)
		return r;
	a = (struct vs_attach){ .bridge = dev,
				.host_name = n->host_if,
				.netns_fd = fd,
				.peer_name = PEER_NAME,
				.addr = n->addr,
				.prefix = n->subnet.prefix,
				.gateway = n->gateway,
				.mtu = n->net->mtu,
				.mac = vid ? mac : NULL };
	if ((r = vs_attach_netns(nl, &a, err)) == 0)
		n->attached = true; /* from now on the host end is ours to delete */
	else if (vid)
		vs_vlan_port(-1, vid, n->host_if, mac, false, NULL);
	return r;
}

/* Deletes the veth host_if; a link of that name of another kind is not ours. */
static void veth_del(const char *host_if)
{
	_cleanup_(vs_nl_freep) struct vs_nl *nl = NULL;
	struct vs_link_info li;
	struct vs_err *e = NULL;

	if (vs_nl_open(-1, &nl, NULL) == 0 && vs_link_get(nl, host_if, &li, &e) == 0 &&
	    !strcmp(li.kind, "veth"))
		vs_link_del(nl, host_if, NULL);
	vs_err_free(e);
}

/* Ports to addr, the veth host_if (may be NULL or gone already: it goes
 * with the container's namespace), the owner's leases. */
/* Takes host_if out of its network's VLAN (if the network is one). */
static void vlan_leave(struct vs_svc *svc, const char *network, const char *host_if)
{
	struct vs_store_net *row = NULL;
	char dev[VS_NET_DEV_LEN];
	uint8_t mac[VS_MAC_LEN];
	uint16_t vid;

	if (vs_store_net_get(svc->store, network, &row, NULL) < 0)
		return;
	vs_vlan_port_mac(host_if, mac);
	if ((vid = vs_svc_net_dev(row, dev)))
		vs_vlan_port(-1, vid, host_if, mac, false, NULL);
	vs_store_net_free(row);
}

static void undo(struct vs_svc *svc, const char *network, uint32_t addr, const char *host_if,
		 const char *name)
{
	if (addr)
		vs_nat_port_del_dest(-1, addr, NULL);
	if (host_if) {
		veth_del(host_if);
		vlan_leave(svc, network, host_if);
	}
	vs_svc_net_addr_release(svc, "container", name, NULL);
	vs_svc_ctr_net_hosts_update(svc, network);
}

void vs_svc_ctr_net_release(struct vs_svc *svc, struct vs_ctr_net *n)
{
	if (!svc || !n->network)
		return;
	/* no -p: no rule to look for (the listing costs a libnftables run) */
	undo(svc, n->network, n->leased && n->n_ports ? n->addr : 0,
	     n->attached ? n->host_if : NULL, n->name);
	n->leased = n->attached = false;
}

void vs_svc_ctr_net_cleanup(struct vs_svc *svc, const char *id, const char *name)
{
	struct vs_store_addr *a = NULL;
	char ifname[VS_IFNAME_MAX + 1];
	size_t n = 0;

	if (vs_store_addr_list(svc->store, NULL, &a, &n, NULL) < 0)
		return;
	if (id)
		host_if_name(id, ifname);
	for (size_t i = 0; i < n; i++) {
		uint32_t addr = 0;

		if (strcmp(a[i].owner_kind, "container") || strcmp(a[i].owner_name, name))
			continue;
		vs_ipv4_parse(a[i].address, &addr, NULL);
		undo(svc, a[i].network, addr, id ? ifname : NULL, name);
	}
	vs_store_addr_list_free(a, n);
}

void vs_svc_ctr_net_fill(struct vs_svc *svc, struct vs_ctr_info *info, size_t n)
{
	struct vs_store_addr *a = NULL;
	size_t na = 0;

	if (vs_store_addr_list(svc->store, NULL, &a, &na, NULL) < 0)
		na = 0;
	for (size_t i = 0; i < n; i++) {
		json_decref(info[i].addresses);
		info[i].addresses = json_array();
		for (size_t k = 0; k < na; k++)
			if (!strcmp(a[k].owner_kind, "container") &&
			    !strcmp(a[k].owner_name, info[i].name))
				json_array_append_new(info[i].addresses,
						      json_pack("{s:s, s:s}", "network",
								a[k].network, "address",
								a[k].address));
	}
	vs_store_addr_list_free(a, na);
}

/* A lease is stale when its container is gone or no monitor holds the
 * container's lock (killed with SIGKILL, or a host reboot): a container
 * that is starting holds it from before its monitor leases. */
static bool lease_stale(struct vs_svc *svc, const char *name, char **id)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *lock = NULL;
	int r = vs_store_ctr_get(svc->store, name, &row, NULL);
	bool stale;

	*id = NULL;
	if (r == -ENOENT)
		return true;
	if (r < 0)
		return false;
	lock = vs_svc_ctr_path(svc, row->id, VS_CTR_LOCK_FILE);
	stale = !vs_svc_lock_held(lock);
	if (stale)
		*id = xstrdup(row->id);
	vs_store_ctr_free(row);
	return stale;
}

void vs_svc_ctr_net_sweep(struct vs_svc *svc)
{
	struct vs_store_addr *a = NULL;
	size_t n = 0;

	if (vs_store_addr_list(svc->store, NULL, &a, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *id = NULL;

		if (strcmp(a[i].owner_kind, "container") || !lease_stale(svc, a[i].owner_name, &id))
			continue;
		if (id) /* what is left of it dies; its row says exited at the next look */
			vs_svc_ctr_cleanup(svc, id, false);
		vs_svc_ctr_net_cleanup(svc, id, a[i].owner_name);
	}
	vs_store_addr_list_free(a, n);
}
