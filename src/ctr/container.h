/* Container lifecycle, runc's state machine: create (init waits on
 * exec.fifo) -> created -> start -> running -> stopped -> delete.
 * Every function returns 0 or -errno with a one-line runc-style *err. */
#ifndef VS_CTR_CONTAINER_H
#define VS_CTR_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

struct vs_err;

#define VS_OCI_ROOT_DEFAULT "/run/vessel-runc"

/* delete (and a failed create) waits at most this long, in all, for the
 * container's processes to die and its cgroup to go (runc: 10 s per step) */
#define VS_CTR_DELETE_TIMEOUT_NS (5ULL * 1000000000)

struct vs_ctr_create_opts {
	const char *root; /* runtime state root */
	const char *id;
	const char *bundle; /* NULL = current directory */
	const char *pid_file; /* may be NULL */
	const char *console_socket; /* may be NULL */
	int console_fd; /* else a connected socket for the pty master, or -1 */
	bool no_pivot;
	bool no_new_keyring; /* keep the caller's session keyring */
	int preserve_fds;
	/* the runtime's own argv, to re-execute from a sealed memfd when the
	 * container shares a pid namespace (NULL: never) */
	char **reexec_argv;
};

/* Sets up the container and leaves its init blocked on exec.fifo. On
 * success *pid is the init's pid (our child). */
int vs_ctr_create(const struct vs_ctr_create_opts *o, pid_t *pid, struct vs_err **err);

/* Releases the init of a created container (runs poststart hooks). */
int vs_ctr_start(const char *root, const char *id, struct vs_err **err);

/* Sends sig to the init, or with all to every process in its cgroup. */
int vs_ctr_kill(const char *root, const char *id, int sig, bool all, struct vs_err **err);

/* Removes a stopped (or, with force, any) container: kills it if needed,
 * runs poststop hooks, removes its cgroup and state. */
int vs_ctr_delete(const char *root, const char *id, bool force, struct vs_err **err);

/* Freezes / thaws a running container. */
int vs_ctr_pause(const char *root, const char *id, bool pause, struct vs_err **err);

/* Parses "KILL", "SIGKILL" or "9". Returns the number or -EINVAL. */
int vs_signal_parse(const char *s);

#endif
