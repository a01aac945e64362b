/* Serving a VM in the background: the VMM's main thread for a named VM.
 * Instead of a terminal (run.c), the console goes to a ring buffer, a log
 * file and the clients attached through the control socket, and the VM is
 * driven by requests on that socket (docs/api/control.md): status, pause,
 * resume, stop (power button, then a hard stop after a timeout), quit, and
 * console. Signals SIGTERM, SIGINT and SIGHUP stop the VM as in run.c. */
#ifndef VS_VMM_SERVE_H
#define VS_VMM_SERVE_H

#include <stdint.h>

struct vs_err;
struct vs_vm;
struct vs_vm_result;

struct vs_vm_serve_hooks {
	/* The vCPUs run and the control socket is watched: the VM is up. */
	void (*ready)(void *ctx);
	/* The VM changed state: "running" or "paused". Called on the main thread. */
	void (*state_changed)(void *ctx, const char *state);
};

struct vs_vm_serve_opts {
	int control_fd; /* a listening AF_UNIX stream socket (not owned) */
	int console_fd; /* read end of the pipe the VM's serial writes to (cfg.out_fd) */
	const char *log_path; /* console log, appended to; rotated to <path>.1 past 4 MiB */
	const struct vs_vm_serve_hooks *hooks; /* may be NULL */
	void *hook_ctx;
};

/* Starts the vCPUs and serves until the VM stops; fills *res as vs_vm_run()
 * does. Returns 0, or -errno with *err set if serving could not start. */
int vs_vm_serve(struct vs_vm *vm, const struct vs_vm_serve_opts *opts, struct vs_vm_result *res,
		struct vs_err **err);

#endif
