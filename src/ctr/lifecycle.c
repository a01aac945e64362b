/* start, kill, delete, pause/resume: the state machine after create. */
#include "ctr/container.h"
#include "ctr/cgroup.h"
#include "ctr/hooks.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "common/cleanup.h"
#include "common/err.h"
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
#include <unistd.h>

VS_DEFINE_CLEANUP(struct vs_ctr_state, vs_state_free)
VS_DEFINE_CLEANUP(struct vs_spec, vs_spec_free)

static char *state_text(const struct vs_ctr_state *st, enum vs_ctr_status status)
{
	json_t *j = vs_state_to_json(st, status);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

/* Hooks of the bundle's config; a bundle that is gone has none to run. */
static int run_hooks(const struct vs_ctr_state *st, enum vs_hook_kind kind, const char *name,
		     enum vs_ctr_status status, struct vs_err **err)
{
	_cleanup_(vs_spec_freep) struct vs_spec *spec = NULL;
	_cleanup_free_ char *js = NULL;

	if (vs_spec_load(st->bundle, &spec, NULL) < 0 || !spec->hooks[kind].n)
		return 0;
	js = state_text(st, status);
	return vs_hooks_run(&spec->hooks[kind], name, js, err);
}

/* Reads the init's byte from exec.fifo, watching that the init is alive. */
static int release_init(const char *fifo, const struct vs_ctr_state *st, struct vs_err **err)
{
	_cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char b;

	if (fd < 0)
		return vs_err_setsys(err, -errno, "opening %s", fifo);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, 50);

		if (n > 0 && read(fd, &b, 1) == 1)
			return 0;
		if (n > 0 && (p.revents & POLLHUP))
			return vs_err_set(err, -EPIPE, "container init closed exec.fifo");
		if (!vs_proc_is_alive(st->pid, st->start_time))
			return vs_err_set(err, -ESRCH, "container init exited before start");
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
	default:
		return vs_err_set(err, -EINVAL, "cannot start an already running container");
	}
	fifo = xasprintf("%s/%s/%s", root, id, VS_STATE_FIFO);
	if ((rc = release_init(fifo, st, err)) < 0)
		return rc;
	unlink(fifo);
	return run_hooks(st, VS_HOOK_POSTSTART, "poststart", VS_CTR_RUNNING, err);
}

int vs_signal_parse(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} t[] = {{"HUP", SIGHUP},	{"INT", SIGINT},   {"QUIT", SIGQUIT},	{"ILL", SIGILL},
		 {"TRAP", SIGTRAP},	{"ABRT", SIGABRT}, {"BUS", SIGBUS},	{"FPE", SIGFPE},
		 {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},	{"USR2", SIGUSR2},
		 {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},	{"CHLD", SIGCHLD},
		 {"CONT", SIGCONT},	{"STOP", SIGSTOP}, {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN},
		 {"TTOU", SIGTTOU},	{"URG", SIGURG},   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ},
		 {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
		 {"PWR", SIGPWR},	{"SYS", SIGSYS}};
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

/* Kills the container and waits (up to 10 s) until its init is gone. */
static int kill_and_wait(const struct vs_ctr_state *st, struct vs_err **err)
{
	if (!st->pid_ns)
		signal_all(st, SIGKILL, NULL);
	kill(st->pid, SIGKILL);
	for (int i = 0; i < 10000; i++) {
		if (!vs_proc_is_alive(st->pid, st->start_time))
			return 0;
		usleep(1000);
	}
	return vs_err_set(err, -ETIMEDOUT, "container init %d did not die", (int)st->pid);
}

static void remove_state_dir(const char *root, const char *id)
{
	_cleanup_free_ char *dir = vs_state_dir(root, id);
	_cleanup_free_ char *fifo = xasprintf("%s/%s", dir, VS_STATE_FIFO);
	_cleanup_free_ char *file = xasprintf("%s/%s", dir, VS_STATE_FILE);

	unlink(fifo);
	unlink(file);
	rmdir(dir);
}

static int destroy(const char *root, const struct vs_ctr_state *st, struct vs_err **err)
{
	struct vs_cgroup *cg = NULL;
	int rc = 0;

	if (st->cgroup_path && vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, NULL) == 0) {
		/* without a pid namespace, children may outlive the init: the
		 * cgroup cannot go while they are in it (runc kills them too) */
		if (!st->pid_ns && vs_cgroup_is_populated(cg))
			signal_all(st, SIGKILL, NULL);
		rc = vs_cgroup_destroy(cg, err);
		vs_cgroup_free(cg);
	}
	remove_state_dir(root, st->id);
	if (rc == 0)
		rc = run_hooks(st, VS_HOOK_POSTSTOP, "poststop", VS_CTR_STOPPED, err);
	return rc;
}

int vs_ctr_delete(const char *root, const char *id, bool force, struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_close_ int lock = lock_container(root, id);
	enum vs_ctr_status status;
	int rc;

	if ((rc = vs_state_load(root, id, &st, force ? NULL : err)) < 0) {
		if (force && rc == -ENOENT)
			return 0;
		if (force) /* corrupt state: remove what is there */
			return vs_state_load(root, id, &st, err);
		return rc;
	}
	status = vs_state_status(root, st);
	if ((status == VS_CTR_RUNNING || status == VS_CTR_PAUSED) && !force)
		return vs_err_set(err, -EBUSY, "cannot delete container %s that is not stopped: %s",
				  id, vs_ctr_status_name(status));
	if (status != VS_CTR_STOPPED) {
		if (status == VS_CTR_PAUSED)
			vs_ctr_pause(root, id, false, NULL);
		if ((rc = kill_and_wait(st, err)) < 0)
			return rc;
	}
	return destroy(root, st, err);
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
