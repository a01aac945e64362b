/* virtio-net on a VM: the registry entry "virtio-net" with the --net
 * grammar, tap=NAME[,mac=M] (an existing tap) or bridge=NAME[,vlan=N][,mac=M]
 * (vessel makes a tap "vessel-XXXXXXXX", enslaves it to the bridge, brings
 * it up, and deletes it when the device goes: at VM exit and after a failed
 * start; a VMM that dies takes its non-persistent tap with its fd). With
 * vlan=N the tap is a member of VLAN N of the shared bridge (net/vlan.h),
 * with the NIC's MAC as the only source address it may send from, before
 * it joins the bridge, and leaves it when it goes. */
#include "virtio/net.h"
#include "virtio/pci.h"
#include "net/link.h"
#include "net/nl.h"
#include "net/tap.h"
#include "net/vlan.h"
#include "vmm/device.h"
#include "vmm/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define NET_GRAMMAR "tap=NAME|bridge=NAME[,vlan=N][,mac=XX:XX:XX:XX:XX:XX]"
#define NET_VLAN_MAX 4094

struct net_opts {
	const char *tap; /* existing tap */
	const char *bridge; /* make a tap on this bridge */
	uint16_t vlan; /* 0, or the tap's VLAN on the bridge */
	uint8_t mac[6];
};

struct net_vm {
	struct vs_virtio_net *net;
	char made[VS_IFNAME_MAX + 1]; /* the tap vessel made, "" for tap= */
	uint16_t vlan; /* made is a member of this VLAN (0: none) */
	uint8_t mac[6]; /* the NIC's, the only source the VLAN admits from made */
};

static int parse(char *opts, struct net_opts *o, struct vs_err **err)
{
	char *save = NULL, *t;
	bool mac = false;

	for (t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strncmp(t, "tap=", 4) && !o->tap && !o->bridge) {
			o->tap = t + 4;
		} else if (!strncmp(t, "bridge=", 7) && !o->tap && !o->bridge) {
			o->bridge = t + 7;
		} else if (!strncmp(t, "vlan=", 5) && !o->vlan) {
			char *end;
			unsigned long v = strtoul(t + 5, &end, 10);

			if (*end || end == t + 5 || v < 1 || v > NET_VLAN_MAX)
				return vs_err_set(err, -EINVAL, "virtio-net: vlan '%.40s': 1..%d",
						  t + 5, NET_VLAN_MAX);
			o->vlan = (uint16_t)v;
		} else if (!strncmp(t, "mac=", 4) && !mac) {
			if (vs_virtio_net_parse_mac(t + 4, o->mac) < 0)
				return vs_err_set(err, -EINVAL,
						  "virtio-net: mac '%.40s' is not a unicast "
						  "XX:XX:XX:XX:XX:XX address",
						  t + 4);
			mac = true;
		} else {
			return vs_err_set(err, -EINVAL, "virtio-net: unexpected '%.40s' (%s)", t,
					  NET_GRAMMAR);
		}
	}
	if (!o->tap && !o->bridge)
		return vs_err_set(err, -EINVAL, "virtio-net: a tap or a bridge is needed (%s)",
				  NET_GRAMMAR);
	if (o->vlan && !o->bridge)
		return vs_err_set(err, -EINVAL, "virtio-net: vlan= needs bridge= (%s)",
				  NET_GRAMMAR);
	if (!vs_ifname_is_valid(o->tap ? o->tap : o->bridge))
		return vs_err_set(err, -EINVAL, "virtio-net: '%.40s' is not an interface name",
				  o->tap ? o->tap : o->bridge);
	if (!mac)
		vs_virtio_net_random_mac(o->mac);
	return 0;
}

/* The link called name exists and is of kind (checked before use, so a
 * typo does not make a new tap or attach to something else). */
static int expect_link(struct vs_nl *nl, const char *name, const char *kind,
		       struct vs_link_info *out, struct vs_err **err)
{
	struct vs_link_info li;
	struct vs_err *e = NULL;
	int r = vs_link_get(nl, name, &li, &e);

	vs_err_free(e);
	if (r == -ENODEV)
		return vs_err_set(err, r, "virtio-net: there is no %s '%s'",
				  !strcmp(kind, "tun") ? "tap" : kind, name);
	if (r < 0)
		return vs_err_setsys(err, r, "virtio-net: looking up %s", name);
	if (strcmp(li.kind, kind))
		return vs_err_set(err, -EINVAL, "virtio-net: '%s' is a %s, not a %s", name,
				  li.kind[0] ? li.kind : "plain link",
				  !strcmp(kind, "tun") ? "tap" : kind);
	if (out)
		*out = li;
	return 0;
}

/* A name "vessel-XXXXXXXX" that no link has now (random: concurrent VMs). */
static int fresh_name(struct vs_nl *nl, char name[VS_IFNAME_MAX + 1])
{
	for (int i = 0; i < 16; i++) {
		struct vs_link_info li;
		struct vs_err *e = NULL;
		uint32_t v = 0;
		int r;

		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v ^= (uint32_t)getpid() * 2654435761u + (uint32_t)i;
		snprintf(name, VS_IFNAME_MAX + 1, "vessel-%08x", v);
		r = vs_link_get(nl, name, &li, &e);
		vs_err_free(e);
		if (r == -ENODEV)
			return 0;
	}
	return -EEXIST;
}

/* Makes the tap for bridge=: created, the bridge's MTU (a smaller port
 * would lower it), on the bridge, up. On failure it is gone. */
static int make_tap(struct vs_nl *nl, const struct net_opts *o, struct net_vm *nv, int *fd,
		    unsigned *offl, struct vs_err **err)
{
	struct vs_link_info br;
	int r = expect_link(nl, o->bridge, "bridge", &br, err);

	if (r == 0 && fresh_name(nl, nv->made) < 0)
		r = vs_err_set(err, -EEXIST, "virtio-net: no free tap name");
	if (r == 0)
		r = vs_tap_create(-1, nv->made, VS_TAP_VNET_HDR, fd, offl, err);
	if (r < 0) {
		nv->made[0] = 0;
		return r;
	}
	r = vs_link_set_mtu(nl, nv->made, br.mtu, err);
	memcpy(nv->mac, o->mac, sizeof(nv->mac));
	if (r == 0 && o->vlan && (r = vs_vlan_port(-1, o->vlan, nv->made, nv->mac, true, err)) == 0)
		nv->vlan = o->vlan;
	if (r == 0)
		r = vs_link_set_master(nl, nv->made, o->bridge, err);
	if (r == 0)
		r = vs_link_set_up(nl, nv->made, true, err);
	if (r < 0) {
		close(*fd);
		vs_link_del(nl, nv->made, NULL);
		if (nv->vlan)
			vs_vlan_port(-1, nv->vlan, nv->made, nv->mac, false, NULL);
		nv->made[0] = 0;
		nv->vlan = 0;
	}
	return r;
}

static void net_vm_free(struct net_vm *nv)
{
	struct vs_nl *nl = NULL;

	if (!nv)
		return;
	vs_virtio_net_free(nv->net); /* closes the tap fd: a tap we made goes with it */
	/* ... unless someone else holds it open: delete it by name to be sure. */
	if (nv->made[0] && vs_nl_open(-1, &nl, NULL) == 0) {
		struct vs_link_info li;

		if (vs_link_get(nl, nv->made, &li, NULL) == 0)
			vs_link_del(nl, nv->made, NULL);
		vs_nl_free(nl);
	}
	if (nv->made[0] && nv->vlan)
		vs_vlan_port(-1, nv->vlan, nv->made, nv->mac, false, NULL);
	free(nv);
}

static int realize(struct vs_vm *vm, const struct net_opts *o, struct net_vm *nv,
		   struct vs_err **err)
{
	struct vs_virtio_net_config cfg = { .fd = -1, .is_tap = true };
	struct vs_virtio_pci_env env;
	struct vs_dma dma;
	struct vs_nl *nl = NULL;
	int r = vs_nl_open(-1, &nl, err);

	if (r == 0 && o->tap)
		r = expect_link(nl, o->tap, "tun", NULL, err);
	if (r == 0 && o->tap)
		r = vs_tap_create(-1, o->tap, VS_TAP_VNET_HDR, &cfg.fd, &cfg.tap_offloads, err);
	else if (r == 0)
		r = make_tap(nl, o, nv, &cfg.fd, &cfg.tap_offloads, err);
	vs_nl_free(nl);
	if (r < 0)
		return r;
	memcpy(cfg.mac, o->mac, sizeof(cfg.mac));
	vs_virtio_vm_env(vm, &dma, &env);
	r = vs_virtio_net_new(&env, &cfg, &nv->net);
	if (r < 0)
		return vs_err_setsys(err, r, "virtio-net");
	return 0;
}

static int net_realize(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err)
{
	_cleanup_free_ char *copy = xstrdup(opts ? opts : "");
	struct net_opts o = { 0 };
	struct net_vm *nv;
	int r;

	if (!vm->pci)
		return vs_err_set(err, -ENODEV, "virtio-net: the VM has no PCI bus");
	r = parse(copy, &o, err);
	if (r < 0)
		return r;
	nv = xzalloc(sizeof(*nv));
	r = realize(vm, &o, nv, err);
	if (r < 0) {
		net_vm_free(nv);
		return r;
	}
	*state = nv;
	return 0;
}

static void net_unrealize(struct vs_vm *vm, void *state)
{
	(void)vm;
	net_vm_free(state);
}

const struct vs_device_ops vs_dev_virtio_net = {
	.name = "virtio-net",
	.realize = net_realize,
	.unrealize = net_unrealize,
};
