/* start, kill, delete, pause/resume: the state machine after create. */
#include "ctr/container.h"
#include "ctr/cgroup.h"
#include "ctr/hooks.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

VS_DEFINE_CLEANUP(struct vs_ctr_state, vs_state_free)
VS_DEFINE_CLEANUP(struct vs_spec, vs_spec_free)

static int kill_and_wait(const struct vs_ctr_state *st, uint64_t deadline, struct vs_err **err);

static char *state_text(const struct vs_ctr_state *st, enum vs_ctr_status status)
{
	json_t *j = vs_state_to_json(st, status);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static int load_hooks(const struct vs_ctr_state *st, enum vs_hook_kind kind, struct vs_spec **out)
{
	if (vs_spec_load(st->bundle, out, NULL) < 0)
		return -ENOENT;
	if (!(*out)->hooks[kind].n) {
		vs_spec_free(*out);
		*out = NULL;
		return -ENOENT;
	}
	return 0;
}

/* Hooks of the bundle's config; a bundle that is gone has none to run. */
static int run_hooks(const struct vs_ctr_state *st, enum vs_hook_kind kind, const char *name,
		     enum vs_ctr_status status, struct vs_err **err)
{
	_cleanup_(vs_spec_freep) struct vs_spec *spec = NULL;
	_cleanup_free_ char *js = NULL;

	if (load_hooks(st, kind, &spec) < 0)
		return 0;
	js = state_text(st, status);
	return vs_hooks_run(&spec->hooks[kind], name, js, err);
}

/* poststop: every hook runs; each failure is a warning. */
static void run_poststop(const struct vs_ctr_state *st)
{
	_cleanup_(vs_spec_freep) struct vs_spec *spec = NULL;
	_cleanup_free_ char *js = NULL;

	if (load_hooks(st, VS_HOOK_POSTSTOP, &spec) < 0)
		return;
	js = state_text(st, VS_CTR_STOPPED);
	vs_hooks_run_all(&spec->hooks[VS_HOOK_POSTSTOP], "poststop", js);
}

/* Reads the init's byte from exec.fifo; a pidfd on the init wakes us if it
 * dies first (no polling). */
static int release_init(const char *fifo, const struct vs_ctr_state *st, struct vs_err **err)
{
	/* the pidfd before the fifo: once the fifo is open the init may exec
	 * and exit at once, having written its byte */
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	_cleanup_close_ int fd = -1;
	char b;

	if (pfd < 0 || !vs_proc_is_alive(st->pid, st->start_time))
		return vs_err_set(err, -ESRCH, "container init exited before start");
	if ((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return vs_err_setsys(err, -errno, "opening %s", fifo);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = pfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return vs_err_setsys(err, -errno, "waiting for the container init");
		if ((p[0].revents & POLLIN) && read(fd, &b, 1) == 1)
			return 0;
		if (p[0].revents & POLLHUP)
			return vs_err_set(err, -EPIPE, "container init closed exec.fifo");
		if (p[1].revents && read(fd, &b, 1) != 1) /* its byte may still be there */
			return vs_err_set(err, -ESRCH, "container init exited before start");
		if (p[1].revents)
			return 0;
	}
}

/* Serialises start, delete and pause/resume of one container: an flock on
 * its state directory, released when the returned fd is closed. Returns -1
 * (no lock, the caller's state load reports the missing container). */
static int lock_container(const char *root, const char *id)
{
	_cleanup_free_ char *dir = NULL;
	int fd;

	if (!vs_ctr_id_is_valid(id))
		return -1;
	dir = vs_state_dir(root, id);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int vs_ctr_start(const char *root, const char *id, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_close_ int lock = lock_container(root, id);
	_cleanup_free_ char *fifo = NULL;
	int rc;

	if ((rc = vs_state_load(root, id, &st, err)) < 0)
		return rc;
	switch (vs_state_status(root, st)) {
	case VS_CTR_CREATED:
		break;
	case VS_CTR_STOPPED:
		return vs_err_set(err, -EINVAL, "cannot start a container that has stopped");
	case VS_CTR_CREATING:
		return vs_err_set(err, -EINVAL, "cannot start a container that is being created");
	default:
		return vs_err_set(err, -EINVAL, "cannot start an already running container");
	}
	fifo = xasprintf("%s/%s/%s", root, id, VS_STATE_FIFO);
	if ((rc = release_init(fifo, st, err)) < 0)
		return rc;
	unlink(fifo);
	/* runtime spec 1.1+: a failing poststart hook is an error, and the
	 * container is stopped (delete then runs the poststop hooks) */
	if ((rc = run_hooks(st, VS_HOOK_POSTSTART, "poststart", VS_CTR_RUNNING, err)) < 0)
		kill_and_wait(st, vs_now_ns() + VS_CTR_DELETE_TIMEOUT_NS, NULL);
	return rc;
}

int vs_signal_parse(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} t[] = { { "HUP", SIGHUP },	   { "INT", SIGINT },	{ "QUIT", SIGQUIT },
		  { "ILL", SIGILL },	   { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
		  { "BUS", SIGBUS },	   { "FPE", SIGFPE },	{ "KILL", SIGKILL },
		  { "USR1", SIGUSR1 },	   { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		  { "PIPE", SIGPIPE },	   { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		  { "CHLD", SIGCHLD },	   { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		  { "TSTP", SIGTSTP },	   { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
		  { "URG", SIGURG },	   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		  { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
		  { "IO", SIGIO },	   { "PWR", SIGPWR },	{ "SYS", SIGSYS } };
	char *end;
	long n;

	if (isdigit((unsigned char)*s)) {
		n = strtol(s, &end, 10);
		return *end || n <= 0 || n >= NSIG ? -EINVAL : (int)n;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < VS_ARRAY_SIZE(t); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].sig;
	return -EINVAL;
}

static int signal_all(const struct vs_ctr_state *st, int sig, struct vs_err **err)
{
	struct vs_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int rc;

	if (!st->cgroup_path)
		return vs_err_set(err, -ENOENT, "container has no cgroup");
	/* processes that were in the cgroup before the container are not its */
	if (st->cgroup_shared)
		return vs_err_set(err, -EPERM,
				  "cgroup %s held processes before the container: not signalling "
				  "all of them",
				  st->cgroup_path);
	if ((rc = vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, err)) < 0)
		return rc;
	/* freeze so that nothing forks away between listing and signalling */
	bool frozen = vs_cgroup_freeze(cg, true, NULL) == 0;

	if (vs_cgroup_pids(cg, &pids, &n) == 0)
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
	if (frozen)
		vs_cgroup_freeze(cg, false, NULL);
	vs_cgroup_free(cg);
	return 0;
}

int vs_ctr_kill(const char *root, const char *id, int sig, bool all, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	int rc;

	if ((rc = vs_state_load(root, id, &st, err)) < 0)
		return rc;
	if (vs_state_status(root, st) == VS_CTR_STOPPED)
		return vs_err_set(err, -ESRCH, "container not running");
	if (all)
		return signal_all(st, sig, err);
	if (kill(st->pid, sig) < 0)
		return vs_err_setsys(err, -errno, "kill %d", (int)st->pid);
	return 0;
}

/* Kills the container and waits, on a pidfd, until its init is gone. */
static int kill_and_wait(const struct vs_ctr_state *st, uint64_t deadline, struct vs_err **err)
{
	if (!st->pid_ns)
		signal_all(st, SIGKILL, NULL);
	kill(st->pid, SIGKILL);
	if (vs_proc_wait_gone(st->pid, st->start_time, deadline) < 0)
		return vs_err_set(err, -ETIMEDOUT, "container init %d did not die", (int)st->pid);
	return 0;
}

/* The state directory and what create may have left in it. */
static void remove_state_dir(const char *root, const char *id)
{
	static const char *const files[] = { VS_STATE_FIFO, VS_STATE_FILE, "." VS_STATE_FILE ".tmp",
					     VS_STATE_CGROUP_LINK };
	_cleanup_free_ char *dir = vs_state_dir(root, id);

	for (size_t i = 0; i < VS_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *f = xasprintf("%s/%s", dir, files[i]);

		unlink(f);
	}
	rmdir(dir);
}

/* Removes the cgroup (what is left of it is a warning, as in runc) and the
 * state, then runs the poststop hooks: a failing one is reported as a
 * warning and the rest still run (runtime spec: "poststop ... errors MUST
 * be logged, and the remaining hooks executed"). */
static int destroy(const char *root, const struct vs_ctr_state *st, uint64_t deadline)
{
	struct vs_cgroup *cg = NULL;
	struct vs_err *e = NULL;

	if (st->cgroup_path && vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, NULL) == 0) {
		/* without a pid namespace, children may outlive the init: the
		 * cgroup cannot go while they are in it (runc kills them too) */
		if (!st->pid_ns && !st->cgroup_shared && vs_cgroup_is_populated(cg)) {
			signal_all(st, SIGKILL, NULL);
			vs_cgroup_wait_empty(cg, deadline);
		}
		if (vs_cgroup_destroy(cg, deadline, &e) < 0)
			vs_warn("%s", e->msg);
		vs_err_free(e);
		vs_cgroup_free(cg);
	}
	remove_state_dir(root, st->id);
	if (!st->creating)
		run_poststop(st);
	return 0;
}

/* delete --force of a container without a usable state.json: kill the init
 * that can still be found, remove the cgroup if it is empty, remove the
 * directory. */
static int salvage(const char *root, const char *id, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = vs_state_salvage(root, id);
	uint64_t deadline = vs_now_ns() + VS_CTR_DELETE_TIMEOUT_NS;
	_cleanup_free_ char *dir = vs_state_dir(root, id);
	struct stat sb;

	if (!vs_ctr_id_is_valid(id))
		return vs_err_set(err, -EINVAL, "invalid container id format: %s", id);
	if (stat(dir, &sb) < 0)
		return 0; /* nothing to delete: done, as runc */
	if (st->pid > 0 && vs_proc_is_alive(st->pid, st->start_time)) {
		kill(st->pid, SIGKILL);
		vs_proc_wait_gone(st->pid, st->start_time, deadline);
	}
	return destroy(root, st, deadline);
}

int vs_ctr_delete(const char *root, const char *id, bool force, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_close_ int lock = lock_container(root, id);
	uint64_t deadline = vs_now_ns() + VS_CTR_DELETE_TIMEOUT_NS;
	enum vs_ctr_status status;
	int rc;

	if ((rc = vs_state_load(root, id, &st, force ? NULL : err)) < 0)
		return force ? salvage(root, id, err) : rc;
	status = vs_state_status(root, st);
	if ((status == VS_CTR_RUNNING || status == VS_CTR_PAUSED) && !force)
		return vs_err_set(err, -EBUSY, "cannot delete container %s that is not stopped: %s",
				  id, vs_ctr_status_name(status));
	if (status == VS_CTR_CREATING && !force)
		return vs_err_set(err, -EBUSY, "cannot delete container %s that is being created",
				  id);
	if (status != VS_CTR_STOPPED) {
		if (status == VS_CTR_PAUSED)
			vs_ctr_pause(root, id, false, NULL);
		if ((rc = kill_and_wait(st, deadline, err)) < 0)
			return rc;
	}
	return destroy(root, st, deadline);
}

int vs_ctr_pause(const char *root, const char *id, bool pause, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_close_ int lock = lock_container(root, id);
	struct vs_cgroup *cg = NULL;
	enum vs_ctr_status status;
	int rc;

	if ((rc = vs_state_load(root, id, &st, err)) < 0)
		return rc;
	status = vs_state_status(root, st);
	if (pause && status != VS_CTR_RUNNING && status != VS_CTR_CREATED)
		return vs_err_set(err, -EINVAL, "container not running");
	if (!pause && status != VS_CTR_PAUSED)
		return vs_err_set(err, -EINVAL, "container not paused");
	if ((rc = vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, err)) < 0)
		return rc;
	rc = vs_cgroup_freeze(cg, pause, err);
	vs_cgroup_free(cg);
	return rc;
}
