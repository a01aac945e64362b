/* `exec`: a new process inside a running container's namespaces and
 * cgroup, with its own process spec (args, env, user, caps, ...). */
#ifndef VS_CTR_EXEC_H
#define VS_CTR_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

struct vs_err;
struct vs_spec_process;

struct vs_exec_opts {
	const char *root;
	const char *id;
	bool detach;
	const char *pid_file; /* may be NULL */
	const char *console_socket; /* may be NULL */
	int preserve_fds;
	unsigned short ws_row, ws_col; /* terminal: the pty's size before the execve (0: unset) */
};

/* Loads the container's config.json as the base of an exec process:
 * env, user, caps, rlimits, noNewPrivileges and cwd of process. Returns 0 or
 * -errno with *err; *p must be cleared with vs_spec_process_clear. */
int vs_exec_base_process(const char *root, const char *id, struct vs_spec_process *p,
			 struct vs_err **err);

/* Starts p in the container. Detached: returns once it runs, *status = 0.
 * Otherwise waits and sets *status to its exit status (128+N if killed). */
int vs_ctr_exec(const struct vs_exec_opts *o, const struct vs_spec_process *p, int *status,
		struct vs_err **err);

#endif
