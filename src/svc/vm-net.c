/* A VM on a vessel network, see vm-net.h. */
#include "svc/vm-net.h"
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "svc/net.h"
#include "store/networks.h"
#include "net/ipam.h"
#include "net/nat.h"
#include "net/port.h"
#include "store/store.h"
#include "store/vms.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The address owner already holds on the network, or 0. */
static uint32_t held(const struct vs_net_info *info, const char *owner)
{
	for (size_t i = 0; i < info->naddrs; i++) {
		const struct vs_store_addr *a = &info->addrs[i];
		uint32_t v;

		if (!strcmp(a->owner_kind, "vm") && !strcmp(a->owner_name, owner) &&
		    vs_ipv4_parse(a->address, &v, NULL) == 0)
			return v;
	}
	return 0;
}

static int fill(const struct vs_store_net *n, uint32_t addr, struct vs_svc_vm_net *out,
		struct vs_err **err)
{
	char a[16], dev[VS_NET_DEV_LEN], vlan[16] = "";
	uint16_t vid = vs_svc_net_dev(n, dev);
	struct vs_cidr c;
	int r = vs_subnet_parse(n->subnet, &c, err);

	if (r < 0)
		return r;
	if (vid)
		snprintf(vlan, sizeof(vlan), ",vlan=%u", vid);
	if ((size_t)snprintf(out->device, sizeof(out->device), "virtio-net,bridge=%s%s", dev,
			     vlan) >= sizeof(out->device) ||
	    (size_t)snprintf(out->ip, sizeof(out->ip), "vessel.ip=eth0,%s/%u,%s",
			     vs_ipv4_str(addr, a), c.prefix, n->gateway) >= sizeof(out->ip))
		return vs_err_set(err, -ENAMETOOLONG, "network %s: bridge or gateway too long",
				  n->name);
	return 0;
}

int vs_svc_vm_net_attach(struct vs_svc *svc, const char *network, const char *owner,
			 struct vs_svc_vm_net *out, struct vs_err **err)
{
	struct vs_net_info info = { 0 };
	uint32_t addr = 0;
	int r;

	vs_svc_vm_net_sweep(svc); /* leases of foreground runs killed by SIGKILL */
	r = vs_svc_net_ensure(svc, network, err);
	if (r == 0)
		r = vs_svc_net_inspect(svc, network, &info, err);
	if (r == 0 && !(addr = held(&info, owner)))
		r = vs_svc_net_addr_alloc(svc, network, "vm", owner, &addr, err);
	if (r == 0)
		r = fill(info.net, addr, out, err);
	out->addr = addr;
	out->published = false;
	vs_net_info_clear(&info);
	if (r == 0) /* the containers of the network know the VM by name */
		(void)vs_svc_ctr_net_hosts_update(svc, network);
	return r;
}

void vs_svc_vm_net_release(struct vs_svc *svc, const char *network, const char *owner)
{
	vs_svc_net_addr_release(svc, "vm", owner, NULL);
	(void)vs_svc_ctr_net_hosts_update(svc, network);
}

char *vs_svc_vm_net_append(const char *append, const struct vs_svc_vm_net *net)
{
	return append && *append ? xasprintf("%s %s", append, net->ip) : xstrdup(net->ip);
}

#define MAX_PORTS 64

/* Parses ports into p (MAX_PORTS); refuses one host port given twice. */
static int parse_ports(char *const *ports, size_t n, struct vs_port_spec *p, struct vs_err **err)
{
	char a[40];

	if (n > MAX_PORTS)
		return vs_err_set(err, -E2BIG, "at most %d published ports", MAX_PORTS);
	for (size_t i = 0; i < n; i++) {
		int r = vs_port_spec_parse(ports[i], &p[i], err);

		if (r < 0)
			return vs_err_wrap(err, r, "-p");
		for (size_t k = 0; k < i; k++)
			if (vs_port_spec_conflicts(&p[i], &p[k]))
				return vs_err_set(err, -EADDRINUSE, "port %s is given twice",
						  vs_port_spec_str(&p[i], a));
	}
	return 0;
}

int vs_svc_vm_net_publish(struct vs_svc *svc, char *const *ports, size_t n,
			  struct vs_svc_vm_net *net, struct vs_err **err)
{
	struct vs_port_spec p[MAX_PORTS];
	int r;

	if (!n)
		return 0;
	if ((r = parse_ports(ports, n, p, err)) < 0 || (r = vs_store_begin(svc->store, err)) < 0)
		return r;
	net->published = true;
	for (size_t i = 0; i < n && r == 0; i++)
		r = vs_nat_port_add(-1, &p[i], net->addr, err);
	vs_store_rollback(svc->store); /* nothing was written: the lock only serialised us */
	if (r < 0)
		vs_svc_vm_net_unpublish(net);
	return r;
}

void vs_svc_vm_net_unpublish(struct vs_svc_vm_net *net)
{
	if (net->published)
		vs_nat_port_del_dest(-1, net->addr, NULL);
	net->published = false;
}

int vs_svc_vm_net_check(struct vs_svc *svc, const char *network, char *const *ports, size_t n,
			struct vs_err **err)
{
	struct vs_port_spec p[MAX_PORTS];
	struct vs_net_info info = { 0 };
	int r = parse_ports(ports, n, p, err);

	if (r < 0 || !strcmp(network, VS_NET_DEFAULT))
		return r;
	r = vs_svc_net_inspect(svc, network, &info, err);
	vs_net_info_clear(&info);
	return r;
}

char *vs_svc_vm_net_run_owner(void)
{
	pid_t pid = getpid();

	return xasprintf("run-%d-%llu", (int)pid, (unsigned long long)vs_svc_pid_start(pid));
}

/* True when owner names an unnamed foreground run ("run-PID-START", or
 * "run-PID" from before the start time was recorded) whose process is gone:
 * no process with that pid, or one started at another time (a reused pid). */
static bool run_owner_gone(const char *owner)
{
	unsigned long long start;
	int pid, n = 0;

	if (sscanf(owner, "run-%d-%llu%n", &pid, &start, &n) == 2 && n > 0 && !owner[n])
		return pid <= 0 || vs_svc_pid_start(pid) != start;
	n = 0;
	if (sscanf(owner, "run-%d%n", &pid, &n) == 1 && n > 0 && !owner[n])
		return pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH);
	return false;
}

/* Removes the DNAT rules to every address owner (kind "vm") holds. */
static void ports_drop(const struct vs_store_addr *a, size_t n, const char *owner)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v;

		if (!strcmp(a[i].owner_kind, "vm") && !strcmp(a[i].owner_name, owner) &&
		    vs_ipv4_parse(a[i].address, &v, NULL) == 0)
			vs_nat_port_del_dest(-1, v, NULL);
	}
}

void vs_svc_vm_net_ports_drop(struct vs_svc *svc, const char *owner)
{
	struct vs_store_addr *a = NULL;
	size_t n = 0;

	if (vs_store_addr_list(svc->store, NULL, &a, &n, NULL) < 0)
		return;
	ports_drop(a, n, owner);
	vs_store_addr_list_free(a, n);
}

void vs_svc_vm_net_sweep(struct vs_svc *svc)
{
	struct vs_store_addr *a = NULL;
	size_t n = 0;

	if (vs_store_addr_list(svc->store, NULL, &a, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct vs_store_vm *row = NULL;

		if (strcmp(a[i].owner_kind, "vm"))
			continue;
		/* a named VM keeps its lease; the liveness check drops the
		 * ports of one whose VMM died (vs_svc_check_live) */
		if (vs_store_vm_get(svc->store, a[i].owner_name, &row, NULL) == 0) {
			vs_svc_check_live(svc, row);
			vs_store_vm_free(row);
			continue;
		}
		if (!run_owner_gone(a[i].owner_name))
			continue;
		ports_drop(a, n, a[i].owner_name);
		vs_svc_net_addr_release(svc, "vm", a[i].owner_name, NULL);
		(void)vs_svc_ctr_net_hosts_update(svc, a[i].network);
	}
	vs_store_addr_list_free(a, n);
}
