/* Networks: ls, inspect, rm, prune, their JSON, and the address leases
 * (svc/net.h). create and ensure are in net-create.c. */
#include "svc/net.h"
#include "svc/internal.h"
#include "svc/ctr-internal.h"
#include "svc/vm-net.h"
#include "store/networks.h"
#include "store/store.h"
#include "net/ipam.h"
#include "net/nl.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nl_freep(struct vs_nl **nl)
{
	vs_nl_free(*nl);
}

void vs_net_info_clear(struct vs_net_info *info)
{
	vs_store_net_free(info->net);
	vs_store_addr_list_free(info->addrs, info->naddrs);
	memset(info, 0, sizeof(*info));
}

void vs_net_info_list_free(struct vs_net_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_net_info_clear(&v[i]);
	free(v);
}

json_t *vs_net_info_to_json(const struct vs_net_info *info)
{
	const struct vs_store_net *n = info->net;
	json_t *a = json_array();

	for (size_t i = 0; i < info->naddrs; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "address",
						   info->addrs[i].address, "owner_kind",
						   info->addrs[i].owner_kind, "owner_name",
						   info->addrs[i].owner_name, "allocated_at",
						   (json_int_t)info->addrs[i].allocated_at));
	char dev[VS_NET_DEV_LEN];
	/* how VLANs are kept apart: nftables on the shared bridge, or the
	 * kernel's bridge VLAN filtering (a network of its own bridge) */
	const char *mode = vs_svc_net_dev(n, dev) ? "nftables" : n->vlan ? "bridge" : NULL;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s?, s:I, s:b, s:o}", "name",
			 n->name, "bridge", n->bridge, "device", dev, "subnet", n->subnet,
			 "gateway", n->gateway, "internal", n->internal, "mtu", (json_int_t)n->mtu,
			 "vlan", (json_int_t)n->vlan, "vlan_mode", mode, "created_at",
			 (json_int_t)n->created_at, "present", info->present, "addresses", a);
}

/* Fills info from row (taken over) and its leases; present from nl (may be NULL). */
static int info_fill(struct vs_svc *svc, struct vs_nl *nl, struct vs_store_net *row,
		     struct vs_net_info *info, struct vs_err **err)
{
	char dev[VS_NET_DEV_LEN];

	memset(info, 0, sizeof(*info));
	info->net = row;
	vs_svc_net_dev(row, dev);
	info->present = nl && vs_svc_net_link_exists(nl, dev);
	return vs_store_addr_list(svc->store, row->name, &info->addrs, &info->naddrs, err);
}

int vs_svc_net_list(struct vs_svc *svc, struct vs_net_info **out, size_t *n, struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	struct vs_store_net **rows = NULL;
	struct vs_net_info *v;
	size_t len = 0, i;
	int r = vs_store_net_list(svc->store, &rows, &len, err);

	if (r < 0)
		return r;
	if (vs_nl_open(-1, &nl, NULL) < 0)
		nl = NULL; /* "present" stays false; listing still works */
	v = xzalloc((len ? len : 1) * sizeof(*v));
	for (i = 0; i < len && r == 0; i++)
		r = info_fill(svc, nl, rows[i], &v[i], err);
	for (size_t j = i; j < len; j++)
		vs_store_net_free(rows[j]);
	free(rows);
	if (r < 0) {
		vs_net_info_list_free(v, i);
		return r;
	}
	*out = v;
	*n = len;
	return 0;
}

static int get_row(struct vs_svc *svc, const char *name, struct vs_store_net **row,
		   struct vs_err **err)
{
	int r = vs_store_net_get(svc->store, name, row, err);

	if (r == -ENOENT)
		return vs_err_set(err, -ENOENT, "no network named '%.64s'", name);
	return r;
}

int vs_svc_net_inspect(struct vs_svc *svc, const char *name, struct vs_net_info *out,
		       struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	struct vs_store_net *row = NULL;
	int r = get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	if (vs_nl_open(-1, &nl, NULL) < 0)
		nl = NULL;
	if ((r = info_fill(svc, nl, row, out, err)) < 0)
		vs_net_info_clear(out);
	return r;
}

/* -EBUSY while containers (running or not) are configured for network
 * (podman refuses the same: their next start would fail). */
static int busy_ctr(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	_cleanup_free_ char *who = NULL;
	int n = vs_svc_ctr_net_users(svc, name, &who);

	if (n <= 0)
		return n;
	return vs_err_set(err, -EBUSY, "network %s is in use by container %s%s", name, who,
			  n > 1 ? " and others" : "");
}

/* Inside the write transaction: refuses a network in use, removes its
 * kernel objects, then its row. */
static int rm_locked(struct vs_svc *svc, struct vs_nl *nl, const char *name, struct vs_err **err)
{
	struct vs_store_net *row = NULL;
	struct vs_store_addr *a = NULL;
	size_t n = 0;
	int r = get_row(svc, name, &row, err);

	if (r < 0 || (r = vs_store_addr_list(svc->store, name, &a, &n, err)) < 0)
		goto out;
	if (n) {
		r = vs_err_set(err, -EBUSY,
			       "network %s is in use: %zu address%s allocated (%s to "
			       "%s %s%s)",
			       name, n, n == 1 ? "" : "es", a[0].address, a[0].owner_kind,
			       a[0].owner_name, n > 1 ? ", ..." : "");
		goto out;
	}
	if ((r = busy_ctr(svc, name, err)) < 0 || (r = vs_svc_net_kernel_down(nl, row, err)) < 0)
		goto out;
	vs_svc_step("net-rm:kernel-gone"); /* killed here: the row stays, rm again works */
	r = vs_store_net_delete(svc->store, name, err);
out:
	vs_store_addr_list_free(a, n);
	vs_store_net_free(row);
	return r;
}

static int rm(struct vs_svc *svc, struct vs_nl *nl, const char *name, struct vs_err **err)
{
	int r = vs_store_begin(svc->store, err);

	if (r < 0)
		return r;
	if ((r = rm_locked(svc, nl, name, err)) < 0) {
		vs_store_rollback(svc->store);
		return r;
	}
	return vs_store_commit(svc->store, err);
}

int vs_svc_net_rm(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	int r = vs_nl_open(-1, &nl, err);

	if (r < 0)
		return r;
	vs_svc_ctr_net_sweep(svc); /* leases of containers whose monitor died */
	vs_svc_vm_net_sweep(svc); /* and of foreground VM runs killed by SIGKILL */
	return rm(svc, nl, name, err);
}

int vs_svc_net_prune(struct vs_svc *svc, char ***names, size_t *count, struct vs_err **err)
{
	_cleanup_(nl_freep) struct vs_nl *nl = NULL;
	struct vs_store_net **rows = NULL;
	char **out = NULL;
	size_t n = 0, k = 0;
	int r = vs_nl_open(-1, &nl, err);

	if (r < 0)
		return r;
	vs_svc_ctr_net_sweep(svc);
	vs_svc_vm_net_sweep(svc);
	if ((r = vs_store_net_list(svc->store, &rows, &n, err)) < 0)
		return r;
	out = xzalloc((n ? n : 1) * sizeof(*out));
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct vs_err *e = NULL;

		if (!strcmp(rows[i]->name, VS_NET_DEFAULT))
			continue;
		r = rm(svc, nl, rows[i]->name, &e);
		if (r == 0)
			out[k++] = xstrdup(rows[i]->name);
		if (r == -EBUSY || r == -ENOENT) /* in use, or removed meanwhile */
			r = 0;
		if (r < 0 && err && !*err)
			*err = steal_ptr(e);
		vs_err_free(e);
	}
	vs_store_net_list_free(rows, n);
	if (names) {
		*names = out;
		*count = k;
	} else {
		for (size_t i = 0; i < k; i++)
			free(out[i]);
		free(out);
	}
	return r < 0 ? r : 0;
}

/* Inside the write transaction: the used set, the next free address, the lease. */
static int alloc_locked(struct vs_svc *svc, const char *network, const char *kind,
			const char *owner, uint32_t *addr, struct vs_err **err)
{
	struct vs_store_net *row = NULL;
	struct vs_store_addr *a = NULL;
	_cleanup_free_ uint32_t *used = NULL;
	struct vs_cidr c;
	uint32_t gw;
	size_t n = 0;
	char buf[16];
	int r = get_row(svc, network, &row, err);

	if (r < 0 || (r = vs_store_addr_list(svc->store, network, &a, &n, err)) < 0)
		goto out;
	used = xzalloc((n ? n : 1) * sizeof(*used));
	for (size_t i = 0; i < n; i++)
		vs_ipv4_parse(a[i].address, &used[i], NULL); /* written by us: valid */
	if ((r = vs_subnet_parse(row->subnet, &c, err)) < 0 ||
	    (r = vs_ipv4_parse(row->gateway, &gw, err)) < 0 ||
	    (r = vs_ipam_next(&c, gw, used, n, addr, err)) < 0)
		goto out;
	r = vs_store_addr_insert(svc->store,
				 &(struct vs_store_addr){ .network = (char *)network,
							  .address = vs_ipv4_str(*addr, buf),
							  .owner_kind = (char *)kind,
							  .owner_name = (char *)owner,
							  .allocated_at = time(NULL) },
				 err);
out:
	vs_store_addr_list_free(a, n);
	vs_store_net_free(row);
	return r;
}

int vs_svc_net_addr_alloc(struct vs_svc *svc, const char *network, const char *kind,
			  const char *owner, uint32_t *addr, struct vs_err **err)
{
	uint32_t a;
	int r = vs_store_begin(svc->store, err);

	if (r < 0)
		return r;
	if ((r = alloc_locked(svc, network, kind, owner, &a, err)) < 0) {
		vs_store_rollback(svc->store);
		return r;
	}
	if ((r = vs_store_commit(svc->store, err)) == 0)
		*addr = a;
	return r;
}

int vs_svc_net_addr_release(struct vs_svc *svc, const char *kind, const char *owner,
			    struct vs_err **err)
{
	return vs_store_addr_release_owner(svc->store, kind, owner, err);
}
