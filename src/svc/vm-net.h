/* A VM on a vessel network (`vm run|create --network NAME`, issue 16):
 * the network made sure of, an address leased to the VM, and what the VMM
 * needs for it: a virtio-net device on the network's bridge (virtio/net-vm.c
 * makes the tap) and the guest init's vessel.ip (guest/init/cmdline-abi.h). */
#ifndef VS_SVC_VM_NET_H
#define VS_SVC_VM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_svc;

struct vs_svc_vm_net {
	char device[48]; /* "virtio-net,bridge=<bridge>[,vlan=N]", for vs_vm_config.devices */
	char ip[96]; /* "vessel.ip=eth0,<addr>/<prefix>,<gateway>", for the command line */
	uint32_t addr; /* the lease, host byte order */
	bool published; /* DNAT rules to addr exist (vs_svc_vm_net_unpublish) */
};

/* Ensures network (vs_svc_net_ensure) and leases it an address for VM
 * owner (kind "vm"), reusing the lease owner already holds on it (a named
 * VM keeps its address across starts). Returns 0 with *out filled, or
 * -errno with a one-line *err ("no network named X", "subnet X is full").
 * The lease is released by vs_svc_vm_net_release. Containers of the
 * network see the VM by name in their /etc/hosts from then on. */
int vs_svc_vm_net_attach(struct vs_svc *svc, const char *network, const char *owner,
			 struct vs_svc_vm_net *out, struct vs_err **err);

/* Publishes ports ("[HOSTIP:]HOSTPORT:PORT[/tcp|udp]", `-p`) to net's
 * address as DNAT rules in the `inet vessel` table, under the store's
 * write lock: a port published already (by anyone in this namespace) or
 * given twice is refused in one line and nothing is left. Returns 0 or -errno. */
int vs_svc_vm_net_publish(struct vs_svc *svc, char *const *ports, size_t n,
			  struct vs_svc_vm_net *net, struct vs_err **err);

/* Removes the rules publish made (when the VM stops; a named VM keeps its
 * lease). */
void vs_svc_vm_net_unpublish(struct vs_svc_vm_net *net);

/* Gives owner's lease back and drops it from the containers' /etc/hosts. */
void vs_svc_vm_net_release(struct vs_svc *svc, const char *network, const char *owner);

/* For vm create: network exists (or is the default one, made on first
 * use) and ports parse and do not repeat a host port. Returns 0 or
 * -ENOENT ("no network named X") or -errno. */
int vs_svc_vm_net_check(struct vs_svc *svc, const char *network, char *const *ports, size_t n,
			struct vs_err **err);

/* The lease owner of an unnamed foreground `vm run --network`:
 * "run-PID-START" (the calling process's pid and start time, as
 * /proc/PID/stat gives it), so that a sweep can tell the run is gone even
 * after its pid is reused. A new string. */
char *vs_svc_vm_net_run_owner(void);

/* Gives back what VMs that died without a word (SIGKILL, a crash) still
 * hold: the lease and DNAT rules of an unnamed foreground run whose process
 * is gone; the DNAT rules of a named VM whose VMM is gone (through the
 * liveness check: a named VM keeps its lease until `vm rm`). Taps need
 * nothing: a VMM's tap goes with its fd. Called before leasing to a VM or a
 * container and before `network rm`/`prune`. Errors are ignored (the
 * next sweep retries). */
void vs_svc_vm_net_sweep(struct vs_svc *svc);

/* Removes the DNAT rules to the addresses VM owner holds (its VMM died). */
void vs_svc_vm_net_ports_drop(struct vs_svc *svc, const char *owner);

/* Returns append + " " + net->ip as a new string (append may be NULL). */
char *vs_svc_vm_net_append(const char *append, const struct vs_svc_vm_net *net);

#endif
