/* Private to src/svc. */
#ifndef VS_SVC_INTERNAL_H
#define VS_SVC_INTERNAL_H

#include "svc/svc.h"
#include "svc/vm.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_store_vm;
struct vs_vm_result;

#define VS_SVC_LOCK_FILE "vmm.lock"
#define VS_SVC_SOCK_FILE "control.sock"
#define VS_SVC_LOG_FILE "console.log"
#define VS_SVC_VMM_LOG_FILE "vmm.log"
#define VS_SVC_SPEC_FILE "spec.json"
#define VS_SVC_VMM_LOCK_FD 3 /* in the VMM process */
#define VS_SVC_VMM_STATUS_FD 4

/* svc.c */
void vs_svc_step(const char *step);
/* <root>/vms/<name> (malloc'd). */
char *vs_svc_vm_dir(const struct vs_svc *svc, const char *name);
/* <root>/vms/<name>/<file> (malloc'd). */
char *vs_svc_vm_file(const struct vs_svc *svc, const char *name, const char *file);
/* The start time of pid (/proc/PID/stat field 22), 0 if it is gone or a zombie. */
uint64_t vs_svc_pid_start(pid_t pid);
int64_t vs_svc_now_ms(void);
/* Remembers pid, a child that lives on (a VMM's reaper), and reaps those of
 * the earlier ones that have ended, so that a long-lived caller (`vessel
 * serve`) keeps no zombies; a short-lived one leaves them to init. */
void vs_svc_child_add(struct vs_svc *svc, pid_t pid);
/* Removes a directory tree (a VM's directory). Returns 0 or -errno. */
int vs_svc_rmtree(const char *path);

/* lock.c: the VMM's OFD lock on <dir>/vmm.lock */
/* Takes the lock without waiting. Returns the fd holding it, -EBUSY when a
 * VMM holds it, or -errno. */
int vs_svc_lock_take(const char *lock_path);
/* True when some process holds the lock (the VMM runs). */
bool vs_svc_lock_held(const char *lock_path);
/* Waits up to ms for the lock to be free. Returns 0 or -ETIMEDOUT. */
int vs_svc_lock_wait_free(const char *lock_path, unsigned ms);

/* vm-state.c */
enum vs_vm_state vs_svc_state_parse(const char *s);
/* Checks a row's recorded state against its VMM's lock and records a
 * vanished VMM as stopped. Returns the effective state. */
enum vs_vm_state vs_svc_check_live(struct vs_svc *svc, struct vs_store_vm *row);
/* Reads and checks one row: 0, -ENOENT with *err ("no VM named"), -errno. */
int vs_svc_get_row(struct vs_svc *svc, const char *name, struct vs_store_vm **out,
		   struct vs_err **err);
/* How a VM ended, as the store keeps it: *status the `vm run` exit status. */
void vs_svc_result_text(const struct vs_vm_result *res, char *buf, size_t len, int *status);

/* vm-ctl.c: one request on the VM's control socket. On success *reply is
 * the "return" object (owned by the caller; may be NULL if not wanted). */
int vs_svc_ctl_call(struct vs_svc *svc, const char *name, const char *command, json_t *args,
		    json_t **reply, struct vs_err **err);

#endif

/* net-kernel.c: a network's objects in the kernel (this namespace). */
struct vs_nl;
struct vs_store_net;
/* Makes n's bridge (with fresh: it must not exist yet; else an existing one
 * is kept), the gateway address, up, and the nftables rules; *fwd (optional)
 * says whether IPv4 forwarding was turned on. Returns 0 or -errno; with
 * fresh, nothing is left on failure. */
int vs_svc_net_kernel_up(struct vs_nl *nl, const struct vs_store_net *n, bool fresh, bool *fwd,
			 struct vs_err **err);
/* Removes n's rules and its bridge (absent is fine; a VLAN network: its
 * VLAN and gateway address, and the shared bridge with the namespace's last
 * VLAN), then the table if nothing uses it any more. Returns 0 or -errno. */
int vs_svc_net_kernel_down(struct vs_nl *nl, const struct vs_store_net *n, struct vs_err **err);
/* True when a link named name exists in this namespace. */
bool vs_svc_net_link_exists(struct vs_nl *nl, const char *name);
