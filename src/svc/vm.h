/* The VM verbs of the service layer (svc.h). A named VM is a row in the
 * store plus a directory <root>/vms/<name>/ holding spec.json, vmm.lock,
 * control.sock (while running), console.log and vmm.log. A running VM is
 * one VMM process (a fork of the starting CLI), detached from the terminal, holding
 * an OFD write lock on vmm.lock for its whole life: the lock, not the
 * recorded state, says whether it runs, so a VMM killed with SIGKILL is
 * seen as stopped at once and leaves nothing that blocks the next start. */
#ifndef VS_SVC_VM_H
#define VS_SVC_VM_H

#include "vmm/spec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_err;
struct vs_svc;
struct vs_vm_result;

enum vs_vm_state {
	VS_VM_CREATED, /* never started */
	VS_VM_STARTING,
	VS_VM_RUNNING,
	VS_VM_PAUSED,
	VS_VM_STOPPED,
};

/* What `inspect` and `ls` return for one VM. */
struct vs_vm_info {
	struct vs_vm_spec spec;
	enum vs_vm_state state;
	pid_t pid; /* the VMM, while starting/running/paused */
	int64_t created_at; /* Unix seconds */
	int64_t started_at, stopped_at; /* Unix milliseconds, 0: never */
	char *exit_reason; /* last stop, NULL: never stopped */
	int exit_status; /* as `vm run` would have exited; -1: unknown */
	bool foreground; /* a `vm run --name`: no control socket */
};

struct vs_vm_start_opts {
	bool overcommit; /* ignore the host-memory rule for this start */
};

struct vs_vm_stop_opts {
	unsigned timeout_s; /* power button, then a hard stop after this long; 0: at once */
};

struct vs_vm_remove_opts {
	bool force; /* kill a running VM first */
};

const char *vs_vm_state_name(enum vs_vm_state s);

/* Registers a VM (spec->name required). Refuses a taken name (-EEXIST),
 * missing kernel/initrd/kit files, more vCPUs than host CPUs without
 * overcommit. All or nothing: a process killed at any point leaves either
 * the whole VM or no trace that `ls` shows or that blocks a new create. */
int vs_svc_vm_create(struct vs_svc *svc, const struct vs_vm_spec *spec, struct vs_err **err);

/* Starts the VM's VMM in the background and returns once it runs (its
 * control socket listening) or has failed (-errno, *err says why). */
int vs_svc_vm_start(struct vs_svc *svc, const char *name, const struct vs_vm_start_opts *opts,
		    struct vs_err **err);

/* Asks the guest to power off (power button), stops it hard after the
 * timeout, and returns when the VMM is gone. */
int vs_svc_vm_stop(struct vs_svc *svc, const char *name, const struct vs_vm_stop_opts *opts,
		   struct vs_err **err);

/* Stops the VM at once and returns when the VMM is gone. */
int vs_svc_vm_kill(struct vs_svc *svc, const char *name, struct vs_err **err);

int vs_svc_vm_pause(struct vs_svc *svc, const char *name, struct vs_err **err);
int vs_svc_vm_resume(struct vs_svc *svc, const char *name, struct vs_err **err);

/* Deletes the VM (refused while it runs unless opts->force). */
int vs_svc_vm_remove(struct vs_svc *svc, const char *name, const struct vs_vm_remove_opts *opts,
		     struct vs_err **err);

/* Every VM, by name, with its state checked against its VMM's lock. */
int vs_svc_vm_list(struct vs_svc *svc, struct vs_vm_info **out, size_t *n, struct vs_err **err);
int vs_svc_vm_inspect(struct vs_svc *svc, const char *name, struct vs_vm_info *out,
		      struct vs_err **err);
void vs_vm_info_clear(struct vs_vm_info *info);
void vs_vm_info_list_free(struct vs_vm_info *v, size_t n);
/* The info as the JSON of `ls --format json` / `inspect` (docs/api/vm-spec.md). */
json_t *vs_vm_info_to_json(const struct vs_vm_info *info);

/* Starts every VM with autostart set that is not running; returns the
 * number that failed (each reported through report(name, err)). */
int vs_svc_vm_autostart(struct vs_svc *svc,
			void (*report)(const char *name, const struct vs_err *e));

/* Connects to the VM's console: on success *fd is a socket carrying the raw
 * console (guest output in, keyboard bytes out); replay sends the recent
 * output (up to 64 KiB) first. */
int vs_svc_vm_console(struct vs_svc *svc, const char *name, bool replay, int *fd,
		      struct vs_err **err);

enum vs_vm_snapshot_op { VS_VM_SNAPSHOT_CREATE, VS_VM_SNAPSHOT_APPLY, VS_VM_SNAPSHOT_DELETE };

/* qcow2 internal snapshot snap of every writable disk of a stopped VM, all
 * or nothing (vm-snapshot.c). Refused while the VM runs (-EBUSY), for raw
 * writable disks (-EOPNOTSUPP), a name taken (create: -EEXIST) or missing
 * on any disk (apply, delete: -ENOENT). */
int vs_svc_vm_snapshot(struct vs_svc *svc, const char *name, enum vs_vm_snapshot_op op,
		       const char *snap, struct vs_err **err);

/* The names of the snapshots every writable disk has (NULL-terminated
 * array and its strings malloc'd). */
int vs_svc_vm_snapshot_list(struct vs_svc *svc, const char *name, char ***out, size_t *n,
			    struct vs_err **err);

/* The path of the VM's console log (malloc'd), which exists once it has run. */
int vs_svc_vm_log_path(struct vs_svc *svc, const char *name, char **out, struct vs_err **err);

/* `vm run --name`: registers spec as a VM running in this process (the
 * caller runs it in the foreground). On success *token identifies the run
 * for vs_svc_vm_run_end(), which records how the VM ended. */
struct vs_svc_run;
int vs_svc_vm_run_begin(struct vs_svc *svc, const struct vs_vm_spec *spec,
			struct vs_svc_run **token, struct vs_err **err);
void vs_svc_vm_run_end(struct vs_svc_run *token, const struct vs_vm_result *res);

/* The body of the background VMM process (forked by vs_svc_vm_start):
 * fd 3 holds the VM's lock, fd 4 is the start-up status pipe; root is the
 * absolute state root and row the run's row (begun by the starting CLI),
 * which the VMM owns and frees. Returns the process exit status. */
struct vs_store_vm;
int vs_svc_vmm_main(const char *root, struct vs_store_vm *row);

#endif
