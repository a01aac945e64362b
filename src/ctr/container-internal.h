/* Private to the container lifecycle files (create.c, init.c, exec.c,
 * console.c): the init's context and the console setup. */
#ifndef VS_CTR_CONTAINER_INTERNAL_H
#define VS_CTR_CONTAINER_INTERNAL_H

#include "ctr/process.h"

#include <stdbool.h>
#include <sys/types.h>

struct vs_spec;
struct vs_ctr_create_opts;

/* What the container's init needs; built by the parent before clone. */
struct vs_init_ctx {
	const struct vs_spec *spec;
	const struct vs_ctr_create_opts *opts;
	const char *bundle; /* absolute; relative bind sources start here */
	const char *rootfs; /* absolute */
	const char *cgroup_path; /* resolved */
	int sync_fd; /* child's end of the sync socketpair */
	int state_dirfd; /* O_PATH fd of <root>/<id>, for exec.fifo */
	int lock_fd; /* the parent's flock on <root>/<id>: closed at once */
	int console_fd; /* connected --console-socket, or -1 */
	int clone_flags;
	int host_pid; /* our pid as the host sees it (from GO) */
	int tramp_fd; /* sealed exec trampoline (trampoline.c) */
	struct vs_process_final final; /* what vs_process_finish does before exec */
};

/* The init's body: never returns (execs the process or _exits). */
__attribute__((noreturn)) void vs_init_main(struct vs_init_ctx *c);

/* Sets up a pty (terminal mode): sends the master to console_fd, makes the
 * slave our controlling terminal and stdio. 0 or -errno with *err. */
struct vs_err;
int vs_console_setup(int console_fd, struct vs_err **err);

#endif
