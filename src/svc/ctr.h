/* The container verbs of the service layer (svc.h). A container is a row
 * in the store (containers.h) plus a directory <root>/containers/<id>/:
 *   config.json   the OCI runtime config, generated at create from the
 *                 image config and the spec (the directory is the bundle)
 *   lower         the image's layer directories, top first, one a line
 *   upper/ work/  the container's own overlay layer
 *   rootfs/       where the overlay is mounted, in the monitor's private
 *                 mount namespace only (the host never sees the mount)
 *   monitor.lock  held (OFD write lock) by the monitor for its whole life
 *   ctr.log       the container's stdout and stderr (ctr.log.1 once rotated)
 * The runtime state (src/ctr, runc's layout) is under <root>/containers/.oci.
 *
 * A running container has one monitor process (a detached fork of the CLI)
 * that creates and starts it with src/ctr in-process, holds its stdio,
 * appends the log, waits for it and records its exit status and any OOM
 * kill. The monitor's lock, not the recorded state, says whether it runs:
 * a monitor killed with SIGKILL leaves the container "exited" at the next
 * look, and its processes are killed then. docs/api/container-spec.md. */
#ifndef VS_SVC_CTR_H
#define VS_SVC_CTR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_err;
struct vs_port_spec;
struct vs_svc;

/* NONE: a network namespace with loopback only; HOST: the host's;
 * BRIDGE: its own namespace with eth0 on a virtual network (the default,
 * as for podman and docker run as root). */
enum vs_ctr_network { VS_CTR_NET_BRIDGE, VS_CTR_NET_NONE, VS_CTR_NET_HOST };
enum vs_ctr_restart { VS_CTR_RESTART_NO, VS_CTR_RESTART_ON_FAILURE, VS_CTR_RESTART_ALWAYS };

struct vs_ctr_volume {
	char *source; /* absolute host path */
	char *destination; /* absolute path in the container */
	bool readonly;
};

/* What `vessel run`/`create` asks for. Arrays are NULL-terminated. */
struct vs_ctr_spec {
	char *name; /* NULL: generated */
	char *image; /* NAME[:TAG] or a digest prefix */
	char **command; /* NULL: the image's Cmd */
	char **entrypoint; /* NULL: the image's; replaces it (and its Cmd) when set */
	char **env; /* "K=V", over the image's Env */
	char *workdir; /* NULL: the image's WorkingDir, else / */
	char *user; /* UID[:GID] or a name in the image's /etc/passwd; NULL: image's */
	char *hostname; /* NULL: the first 12 digits of the id */
	uint64_t memory; /* bytes, 0: no limit (swap is not allowed beyond it) */
	uint64_t cpu_millis; /* 1000 = one CPU, 0: no limit */
	int64_t pids_limit; /* 0: no limit */
	struct vs_ctr_volume *volumes;
	size_t n_volumes;
	char **tmpfs; /* destinations of tmpfs mounts */
	enum vs_ctr_network network;
	char *network_name; /* BRIDGE: the network, NULL: the default one (vessel0) */
	struct vs_port_spec *ports; /* BRIDGE: published ports (-p) */
	size_t n_ports;
	bool publish_all; /* -P: the image's ExposedPorts on free host ports, chosen at create */
	bool read_only; /* the rootfs */
	bool auto_remove; /* --rm: removed once it exits */
	uint64_t log_max; /* ctr.log rotates past this; 0: VS_CTR_LOG_MAX */
	bool tty; /* -t: a pty, held by the monitor, as the container's stdio */
	enum vs_ctr_restart restart; /* --restart: what the monitor does when it ends */
	unsigned restart_max; /* on-failure:N: at most N restarts; 0: no limit */
};

#define VS_CTR_LOG_MAX (16ULL << 20)
#define VS_CTR_STOP_TIMEOUT_S 10

enum vs_ctr_state { VS_CTR_ST_CREATED, VS_CTR_ST_RUNNING, VS_CTR_ST_EXITED };

/* What `inspect` and `ps` return for one container. */
struct vs_ctr_info {
	char *id, *name, *image, *image_digest;
	json_t *spec; /* the spec's JSON (owned reference) */
	enum vs_ctr_state state;
	pid_t pid; /* the container's init while running */
	pid_t monitor_pid; /* while running */
	int64_t created_at; /* Unix milliseconds */
	int64_t started_at, finished_at; /* 0: not yet */
	int exit_code; /* 128+N: killed by signal N */
	bool oom_killed;
	char *exit_reason; /* NULL until it exits */
	/* its addresses while it runs on a network: [{"network", "address"}]
	 * (owned reference; an empty array when it has none) */
	json_t *addresses;
	unsigned restart_count; /* restarts by the policy since the last start */
};

void vs_ctr_spec_clear(struct vs_ctr_spec *s);
json_t *vs_ctr_spec_to_json(const struct vs_ctr_spec *s);
/* "none", "host", or the network's name (the default one when unset). */
const char *vs_ctr_spec_network(const struct vs_ctr_spec *s);
const char *vs_ctr_state_name(enum vs_ctr_state s);

/* Checks the spec and the image, writes the container's directory and
 * config.json and adds its row. All or nothing: a failure leaves no row
 * and no directory. On success *id is the new container's id (malloc'd). */
int vs_svc_ctr_create(struct vs_svc *svc, const struct vs_ctr_spec *spec, char **id,
		      struct vs_err **err);

/* How start hands the container's output over. */
struct vs_ctr_start_opts {
	int out_fd, err_fd; /* also copy stdout/stderr here (foreground), or -1 */
	int in_fd; /* the container's stdin (-i), or -1: /dev/null */
	int *exit_fd; /* if not NULL: set to a pipe that gives vs_svc_ctr_wait_fd its end */
};

/* Starts the container's monitor, which starts the container; returns
 * once the container runs or has failed to start (-errno with *err). */
int vs_svc_ctr_start(struct vs_svc *svc, const char *key, const struct vs_ctr_start_opts *o,
		     struct vs_err **err);

/* Reads the end of a run from the pipe start gave (exit_fd) and closes it:
 * the exit code, or -errno with *err when the monitor died before
 * reporting (the container is then recorded as exited). */
int vs_svc_ctr_wait_fd(struct vs_svc *svc, const char *key, int fd, struct vs_err **err);

/* Sends sig (0: the image's StopSignal, else SIGTERM), then SIGKILL after
 * timeout_s; returns once the monitor has recorded the exit. */
int vs_svc_ctr_stop(struct vs_svc *svc, const char *key, int sig, unsigned timeout_s,
		    struct vs_err **err);

/* Stops the container if it runs (as stop), then starts it (detached). */
int vs_svc_ctr_restart(struct vs_svc *svc, const char *key, unsigned timeout_s,
		       struct vs_err **err);

/* What `exec` runs in a container. Arrays are NULL-terminated. */
struct vs_ctr_exec_opts {
	char **argv; /* the command */
	char **env; /* "K=V" over the container's environment */
	const char *workdir; /* NULL: the container's */
	const char *user; /* UID[:GID] or a name in the container's /etc/passwd; NULL: its own */
	bool tty; /* a pty of its own, proxied to our stdio (raw, resizes passed on) */
};

/* Runs o->argv in the running container (all its namespaces and its
 * cgroup) with our stdio, waits for it; *status is its exit code (128+N
 * for signal N). -EINVAL with *err when the container does not run. */
int vs_svc_ctr_exec(struct vs_svc *svc, const char *key, const struct vs_ctr_exec_opts *o,
		    int *status, struct vs_err **err);

/* The host pids of the running container's processes (its cgroup's), in
 * *pids (malloc'd). */
int vs_svc_ctr_top(struct vs_svc *svc, const char *key, pid_t **pids, size_t *n,
		   struct vs_err **err);

/* A connected attach socket of a running container with a pty
 * (ctr-mon-io.h's protocol) in *fd; -EINVAL with *err without a pty. */
int vs_svc_ctr_attach(struct vs_svc *svc, const char *key, int *fd, struct vs_err **err);

/* Sends sig to the container's init; -EINVAL when it does not run. */
int vs_svc_ctr_kill(struct vs_svc *svc, const char *key, int sig, struct vs_err **err);

/* Removes a container that does not run (force: kills it first). */
int vs_svc_ctr_remove(struct vs_svc *svc, const char *key, bool force, struct vs_err **err);

/* Waits until the container is not running; returns its exit code. */
int vs_svc_ctr_wait(struct vs_svc *svc, const char *key, struct vs_err **err);

/* Every container, oldest first, with states checked against the monitors' locks. */
int vs_svc_ctr_list(struct vs_svc *svc, struct vs_ctr_info **out, size_t *n, struct vs_err **err);
int vs_svc_ctr_inspect(struct vs_svc *svc, const char *key, struct vs_ctr_info *out,
		       struct vs_err **err);
void vs_ctr_info_clear(struct vs_ctr_info *info);
void vs_ctr_info_list_free(struct vs_ctr_info *v, size_t n);
json_t *vs_ctr_info_to_json(const struct vs_ctr_info *info);

/* What `logs` asks for. Output goes through write: stream 1 (the
 * container's stdout) or 2 (stderr); write returns false to stop. */
struct vs_ctr_logs_opts {
	bool timestamps; /* each line after the time it was logged (RFC 3339, ns, UTC) */
	bool follow; /* then new output, until the container no longer runs */
	int64_t tail; /* only the last N lines; -1: all */
	bool (*write)(void *ctx, int stream, const char *buf, size_t n);
	void *ctx;
};

/* The container's output (ctr-logs.c): 0, or -ENOENT with *err. */
int vs_svc_ctr_logs(struct vs_svc *svc, const char *key, const struct vs_ctr_logs_opts *o,
		    struct vs_err **err);

/* The complete records of buf (a part of a log, up to its last newline)
 * as the container's output, stdout and stderr as they were interleaved
 * (malloc'd, NUL-terminated); *used: the bytes of buf they took. */
char *vs_svc_ctr_log_decode(const char *buf, size_t n, size_t *used);

/* The path of the container's log (malloc'd) and its rotated predecessor. */
int vs_svc_ctr_log_path(struct vs_svc *svc, const char *key, char **out, char **old,
			struct vs_err **err);

/* `vessel VS_MON_RESUME_VERB ...` (ctr-mon-io.h): a container's monitor
 * back from its idle phase (vessel-ctr-mon) once the container ended. */
__attribute__((noreturn)) void vs_svc_ctr_monitor_resume(int argc, char **argv);

/* For vs_image_rm: true when a container uses the image (vs_image_users). */
bool vs_svc_ctr_image_in_use(void *svc, const char *name, const char *digest, char **who);

#endif
