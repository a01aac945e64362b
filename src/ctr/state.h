/* Container state kept on disk under the runtime root (runc's --root):
 * <root>/<id>/state.json plus <root>/<id>/exec.fifo while the container is
 * created but not started. The live status is derived, as in runc, from the
 * init pid (checked against its start time, so a recycled pid is not
 * mistaken for the container), the fifo and the freezer. */
#ifndef VS_CTR_STATE_H
#define VS_CTR_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_err;
struct json_t;

enum vs_ctr_status {
	VS_CTR_CREATING,
	VS_CTR_CREATED,
	VS_CTR_RUNNING,
	VS_CTR_PAUSED,
	VS_CTR_STOPPED,
};

struct vs_ctr_state {
	char *id;
	pid_t pid;
	uint64_t start_time; /* /proc/<pid>/stat field 22 */
	char *bundle; /* absolute */
	char *rootfs; /* absolute */
	char *created; /* RFC 3339 with nanoseconds, UTC */
	char *cgroup_path; /* resolved, e.g. "/vessel/<id>" */
	bool pid_ns; /* init is the pid-1 of its own namespace */
	bool creating; /* create has not finished (or was killed) */
	bool cgroup_shared; /* the cgroup held processes before the container */
	struct json_t *annotations; /* owned reference or NULL */
};

#define VS_STATE_FIFO "exec.fifo"
#define VS_STATE_FILE "state.json"
/* a symlink to the cgroup path, made before the cgroup (for delete --force
 * when state.json is unreadable) */
#define VS_STATE_CGROUP_LINK "cgroup"

/* True if id matches runc's rule ^[\w+-.]+$ and is not "." or "..". */
bool vs_ctr_id_is_valid(const char *id);

/* <root>/<id>, newly allocated. */
char *vs_state_dir(const char *root, const char *id);

/* Writes state.json atomically (temporary file + rename). 0 or -errno. */
int vs_state_save(const char *root, const struct vs_ctr_state *st, struct vs_err **err);

/* Loads <root>/<id>/state.json. -ENOENT (with runc's "container \"id\" does
 * not exist" in *err) when there is no such container. */
int vs_state_load(const char *root, const char *id, struct vs_ctr_state **out, struct vs_err **err);

void vs_state_free(struct vs_ctr_state *st);

/* For delete --force of a container whose state.json is missing or
 * corrupt: what can still be found. The pid, start time and cgroup path are
 * taken from whatever text is left of state.json (they are written first),
 * else the init is found as the process holding the state directory open
 * (a created container's init does, until start), and the cgroup path from
 * the VS_STATE_CGROUP_LINK symlink. Always returns a state (fields may be 0/NULL). */
struct vs_ctr_state *vs_state_salvage(const char *root, const char *id);

/* The live status of a loaded container. */
enum vs_ctr_status vs_state_status(const char *root, const struct vs_ctr_state *st);
const char *vs_ctr_status_name(enum vs_ctr_status s);

/* runtime-spec state JSON (what `state` prints). New reference. */
struct json_t *vs_state_to_json(const struct vs_ctr_state *st, enum vs_ctr_status status);

/* Waits until pid (checked against start_time) is gone or the deadline
 * (CLOCK_MONOTONIC ns) passes, on a pidfd. 0 or -ETIMEDOUT. */
int vs_proc_wait_gone(pid_t pid, uint64_t start_time, uint64_t deadline);

/* Reads the start time (clock ticks since boot) of pid. 0 or -errno. */
int vs_proc_start_time(pid_t pid, uint64_t *out);

/* True if pid is alive (not a zombie) and its start time is start_time. */
bool vs_proc_is_alive(pid_t pid, uint64_t start_time);

/* Writes pid to path atomically (path.tmp + rename), refusing a path.tmp
 * that is not a regular file. 0 or -errno with *err. */
int vs_write_pid_file(const char *path, pid_t pid, struct vs_err **err);

/* Current time in the format of the "created" field. */
char *vs_rfc3339_now(void);

#endif
