/* Starting a container's monitor, and the verbs on a running container:
 * stop, kill, wait (ctr.h). The CLI takes the monitor's lock before the
 * fork and hands it over, so the container counts as running (or
 * starting) from the first moment to the monitor's end.
 *
 * Map: spawn - start - wait - kill/stop/restart. */
#include "svc/ctr-internal.h"
#include "svc/ctr-mon-io.h"
#include "svc/internal.h"
#include "ctr/container.h"
#include "store/containers.h"
#include "store/store.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATUS_LINE_MAX 600
#define WAIT_POLL_NS 2000000L
#define KILL_GRACE_MS 10000

/* Forks the monitor (double fork, setsid: detached, never our zombie).
 * Returns the read end of its status pipe, or -errno. */
static int spawn(struct vs_svc *svc, const struct vs_store_ctr *row, int lock,
		 const struct vs_ctr_start_opts *o)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct vs_ctr_monitor_args a = { .root = svc->root,
						 .id = row->id,
						 .lock_fd = lock,
						 .status_fd = p[1],
						 .out_fd = o ? o->out_fd : -1,
						 .err_fd = o ? o->err_fd : -1,
						 .in_fd = o ? o->in_fd : -1,
						 .expect_pid = row->pid };

		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		vs_svc_ctr_monitor(&a);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -EAGAIN;
	}
	waitpid(pid, NULL, 0);
	return p[0];
}

/* Reads one line (up to '\n') from fd. Returns its length, 0 at EOF. */
static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

int vs_svc_ctr_start(struct vs_svc *svc, const char *key, const struct vs_ctr_start_opts *o,
		     struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *lock_path = NULL;
	_cleanup_close_ int lock = -1, status = -1;
	char line[STATUS_LINE_MAX];
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	lock_path = vs_svc_ctr_path(svc, row->id, VS_CTR_LOCK_FILE);
	if (strcmp(row->state, "running") == 0 || (lock = vs_svc_lock_take(lock_path)) == -EBUSY) {
		r = vs_err_set(err, -EBUSY, "container %s is already running", row->name);
		goto out;
	}
	if (lock < 0) {
		r = vs_err_setsys(err, lock, "cannot lock %s", lock_path);
		goto out;
	}
	/* SQLite connections must not cross fork: close, reopen after */
	vs_store_close(svc->store);
	svc->store = NULL;
	status = spawn(svc, row, lock, o);
	r = status < 0 ? status : 0;
	if (r < 0)
		vs_err_setsys(err, r, "cannot start the container's monitor");
	else if (read_line(status, line, sizeof(line)) <= 0)
		r = vs_err_set(err, -EIO, "the monitor of %s died while starting it", row->name);
	else if (strcmp(line, "ok") != 0)
		r = vs_err_set(err, -EIO, "%s", strncmp(line, "err ", 4) ? line : line + 4);
	close(steal_fd(lock));
	if (vs_store_open(svc->root, &svc->store, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	if (r == 0 && o && o->exit_fd)
		*o->exit_fd = steal_fd(status);
out:
	vs_store_ctr_free(row);
	return r;
}

int vs_svc_ctr_wait_fd(struct vs_svc *svc, const char *key, int fd, struct vs_err **err)
{
	char line[STATUS_LINE_MAX];
	int code;
	ssize_t n = read_line(fd, line, sizeof(line));

	close(fd);
	if (n > 0 && sscanf(line, "exit %d", &code) == 1)
		return code;
	/* the monitor died: what the store says after the liveness check */
	return vs_svc_ctr_wait(svc, key, err);
}

int vs_svc_ctr_wait(struct vs_svc *svc, const char *key, struct vs_err **err)
{
	struct timespec ts = { .tv_nsec = WAIT_POLL_NS };
	struct vs_store_ctr *row = NULL;
	int r;

	for (;;) {
		if ((r = vs_svc_ctr_get_row(svc, key, &row, err)) < 0)
			return r;
		if (strcmp(row->state, "running") != 0)
			break;
		vs_store_ctr_free(row);
		row = NULL;
		nanosleep(&ts, NULL);
	}
	r = strcmp(row->state, "exited") == 0 ? row->exit_code : 0;
	vs_store_ctr_free(row);
	return r;
}

/* The running container's row, or -EINVAL "is not running". */
static int running_row(struct vs_svc *svc, const char *key, struct vs_store_ctr **row,
		       struct vs_err **err)
{
	int r = vs_svc_ctr_get_row(svc, key, row, err);

	if (r < 0)
		return r;
	if (strcmp((*row)->state, "running") != 0) {
		r = vs_err_set(err, -EINVAL, "container %s is not running", (*row)->name);
		vs_store_ctr_free(*row);
		*row = NULL;
	}
	return r;
}

int vs_svc_ctr_kill(struct vs_svc *svc, const char *key, int sig, struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *oci = vs_svc_ctr_oci_root(svc);
	int r = running_row(svc, key, &row, err);

	if (r < 0)
		return r;
	r = vs_ctr_kill(oci, row->id, sig, sig == SIGKILL, err);
	vs_store_ctr_free(row);
	return r;
}

static int stop_signal(const struct vs_store_ctr *row)
{
	_cleanup_json_ json_t *spec = json_loads(row->spec, 0, NULL);
	const char *s = vs_json_str(spec, "stop_signal");
	int sig = s ? vs_signal_parse(s) : -EINVAL;

	return sig > 0 ? sig : SIGTERM;
}

int vs_svc_ctr_stop(struct vs_svc *svc, const char *key, int sig, unsigned timeout_s,
		    struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *lock = NULL, *oci = vs_svc_ctr_oci_root(svc);
	int r = running_row(svc, key, &row, err);

	if (r < 0)
		return r;
	lock = vs_svc_ctr_path(svc, row->id, VS_CTR_LOCK_FILE);
	vs_svc_ctr_mark_stop(svc, row->id);
	r = vs_ctr_kill(oci, row->id, sig ? sig : stop_signal(row), false, NULL);
	if (r < 0 || vs_svc_lock_wait_free(lock, timeout_s * 1000) < 0) {
		vs_ctr_kill(oci, row->id, SIGKILL, true, NULL);
		if (vs_svc_lock_wait_free(lock, KILL_GRACE_MS) < 0)
			r = vs_err_set(err, -ETIMEDOUT, "container %s did not stop", row->name);
		else
			r = 0;
	}
	vs_store_ctr_free(row);
	return r;
}

void vs_svc_ctr_mark_stop(const struct vs_svc *svc, const char *id)
{
	_cleanup_free_ char *p = vs_svc_ctr_path(svc, id, VS_CTR_STOP_FILE);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

int vs_svc_ctr_restart(struct vs_svc *svc, const char *key, unsigned timeout_s, struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	if (strcmp(row->state, "running") == 0)
		r = vs_svc_ctr_stop(svc, row->id, 0, timeout_s, err);
	if (r == 0)
		r = vs_svc_ctr_start(svc, row->id, NULL, err);
	vs_store_ctr_free(row);
	return r;
}

int vs_svc_ctr_attach(struct vs_svc *svc, const char *key, int *fd, struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_json_ json_t *spec = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1, s = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r = running_row(svc, key, &row, err);

	if (r < 0)
		return r;
	spec = json_loads(row->spec, 0, NULL);
	dir = vs_svc_ctr_path(svc, row->id, NULL);
	if (!vs_json_bool(spec, "tty", false)) {
		r = vs_err_set(err, -EINVAL, "container %s has no terminal (run it with -t)",
			       row->name);
		goto out;
	}
	/* through /proc/self/fd: the full path may not fit in sun_path */
	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0)
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" VS_CTR_ATTACH_SOCK,
			 dfd);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (dfd < 0 || s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = vs_err_setsys(err, -errno, "cannot attach to %s", row->name);
		goto out;
	}
	*fd = steal_fd(s);
out:
	vs_store_ctr_free(row);
	return r;
}
