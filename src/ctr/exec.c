/* exec: the runtime forks a helper that joins the container's cgroup and
 * namespaces (opened as fds first, the mount namespace last) and forks the
 * process itself, which is then a member of the container's pid namespace.
 * The helper reports the process's host pid; the process reports setup
 * errors over the sync socket, whose close-on-exec end gives EOF once the
 * execve succeeded.
 *
 * Map: base process | namespaces | the process | the helper | vs_ctr_exec. */
#include "ctr/exec.h"
#include "ctr/cgroup.h"
#include "ctr/container-internal.h"
#include "ctr/oci-cli.h"
#include "ctr/process.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "ctr/sync.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

VS_DEFINE_CLEANUP(struct vs_ctr_state, vs_state_free)
VS_DEFINE_CLEANUP(struct vs_spec, vs_spec_free)

struct exec_ctx {
	const struct vs_exec_opts *o;
	const struct vs_spec_process *p;
	struct vs_ctr_state *st;
	struct vs_spec *spec; /* the container's config, for seccomp; may be NULL */
	int ns_fds[7];
	int root_fd; /* the init's root when it shares our mount namespace, else -1 */
	int console_fd;
	int proxy_fd; /* our end when we proxy the pty ourselves (no --console-socket) */
};

static const int ns_order[] = { CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWUTS,
				CLONE_NEWNET,  CLONE_NEWPID,	CLONE_NEWNS };

int vs_exec_base_process(const char *root, const char *id, struct vs_spec_process *p,
			 struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_(vs_spec_freep) struct vs_spec *spec = NULL;
	int rc;

	if ((rc = vs_state_load(root, id, &st, err)) < 0 ||
	    (rc = vs_spec_load(st->bundle, &spec, err)) < 0)
		return rc;
	*p = spec->process;
	memset(&spec->process, 0, sizeof(spec->process));
	vs_strv_free(&p->args);
	p->terminal = false;
	return 0;
}

/* Opens /proc/<pid>/ns/<x> for each namespace that differs from ours. */
static int open_namespaces(struct exec_ctx *c, struct vs_err **err)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns_order); i++) {
		char theirs[64], mine[64];
		struct stat a, b;
		const char *name = vs_ns_type_name(ns_order[i]);
		const char *f = strcmp(name, "network") == 0 ? "net" :
				strcmp(name, "mount") == 0   ? "mnt" :
							       name;

		c->ns_fds[i] = -1;
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)c->st->pid, f);
		snprintf(mine, sizeof(mine), "/proc/self/ns/%s", f);
		if (stat(theirs, &a) < 0)
			return vs_err_setsys(err, -errno, "container namespace %s", theirs);
		if (stat(mine, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		c->ns_fds[i] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (c->ns_fds[i] < 0)
			return vs_err_setsys(err, -errno, "opening %s", theirs);
	}
	return 0;
}

/* A container without a mount namespace of its own is a chroot (rootfs.c):
 * the exec'd process goes into the init's root too. */
static int open_root(struct exec_ctx *c, struct vs_err **err)
{
	char path[64];

	c->root_fd = -1;
	if (c->ns_fds[VS_ARRAY_SIZE(ns_order) - 1] >= 0)
		return 0; /* its own mount namespace: setns gives its root */
	snprintf(path, sizeof(path), "/proc/%d/root", (int)c->st->pid);
	c->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return c->root_fd < 0 ? vs_err_setsys(err, -errno, "opening %s", path) : 0;
}

static int join_namespaces(struct exec_ctx *c, struct vs_err **err)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(ns_order); i++) {
		if (c->ns_fds[i] < 0)
			continue;
		if (setns(c->ns_fds[i], ns_order[i]) < 0)
			return vs_err_setsys(err, -errno, "joining the %s namespace",
					     vs_ns_type_name(ns_order[i]));
		close(c->ns_fds[i]);
		c->ns_fds[i] = -1;
	}
	if (c->root_fd >= 0 && (fchdir(c->root_fd) < 0 || chroot(".") < 0))
		return vs_err_setsys(err, -errno, "chroot to the container's root");
	return 0;
}

static int process_setup(struct exec_ctx *c, struct vs_process_final *final, char **exe,
			 struct vs_err **err)
{
	const struct vs_spec_process *p = c->p;
	const struct vs_spec_seccomp *sc = c->spec ? c->spec->seccomp : NULL;
	int rc;

	if (p->terminal && c->console_fd >= 0 && (rc = vs_console_setup(c->console_fd, err)) < 0)
		return rc;
	if (p->terminal && c->o->ws_row && c->o->ws_col) {
		/* the size the process sees first: set before its execve */
		struct winsize ws = { .ws_row = c->o->ws_row, .ws_col = c->o->ws_col };

		ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
	}
	if ((rc = vs_process_rlimits(p, err)) < 0)
		return rc;
	return vs_process_prepare(p, sc, c->o->preserve_fds, final, exe, err);
}

__attribute__((noreturn)) static void process_main(struct exec_ctx *c, int sync_fd)
{
	struct vs_process_final final;
	struct vs_err *err = NULL;
	char *exe = NULL, **env;

	if (process_setup(c, &final, &exe, &err) < 0 || (env = vs_process_env(c->p)) == NULL ||
	    vs_process_finish(&final, &err) < 0) {
		vs_sync_send(sync_fd, VS_SYNC_ERROR, err ? err->code : -EIO,
			     err ? err->msg : "exec setup failed");
		_exit(127);
	}
	execve(exe, c->p->args.v, env);
	vs_sync_send(sync_fd, VS_SYNC_ERROR, -errno, "exec failed");
	_exit(127);
}

/* The helper: joins, forks the process, reports its pid, then relays its
 * exit status (or leaves it to the container's init when detached). */
__attribute__((noreturn)) static void helper_main(struct exec_ctx *c, int sync_fd)
{
	struct vs_err *err = NULL;
	struct vs_cgroup *cg = NULL;
	char msg[32];
	int status = 0;
	pid_t pid;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (c->st->cgroup_path &&
	    (vs_cgroup_open(VS_CGROUP_FSROOT, c->st->cgroup_path, &cg, &err) < 0 ||
	     vs_cgroup_enter(cg, getpid(), &err) < 0)) {
		vs_sync_send(sync_fd, VS_SYNC_ERROR, err->code, err->msg);
		_exit(1);
	}
	if (join_namespaces(c, &err) < 0) {
		vs_sync_send(sync_fd, VS_SYNC_ERROR, err->code, err->msg);
		_exit(1);
	}
	pid = fork();
	if (pid == 0)
		process_main(c, sync_fd);
	snprintf(msg, sizeof(msg), "%d", (int)pid);
	vs_sync_send(sync_fd, pid < 0 ? VS_SYNC_ERROR : VS_SYNC_READY, pid < 0 ? -errno : 0,
		     pid < 0 ? "fork failed" : msg);
	close(sync_fd);
	if (pid < 0 || c->o->detach)
		_exit(pid < 0);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

static int connect_console(const char *path, struct vs_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return vs_err_set(err, -ENAMETOOLONG, "console socket path too long");
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		if (fd >= 0)
			close(fd);
		return vs_err_setsys(err, rc, "connecting to console socket %s", path);
	}
	return fd;
}

/* Runtime side: spawn the helper, collect the pid, wait for the exec. */
static int drive(struct exec_ctx *c, int *status, struct vs_err **err)
{
	struct vs_sync_msg m;
	pid_t helper, pid = 0;
	int sv[2], rc, ws = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return vs_err_setsys(err, -errno, "socketpair");
	fflush(NULL);
	helper = fork();
	if (helper < 0)
		return vs_err_setsys(err, -errno, "fork");
	if (helper == 0) {
		close(sv[0]);
		helper_main(c, sv[1]);
	}
	close(sv[1]);
	rc = 0;
	while (rc == 0 && vs_sync_recv(sv[0], &m) == 0) {
		if (m.type == VS_SYNC_READY)
			pid = atoi(m.msg);
		else if (m.type == VS_SYNC_ERROR)
			rc = vs_err_set(err, m.code < 0 ? m.code : -EIO, "%s", m.msg);
	}
	close(sv[0]);
	if (rc == 0 && pid <= 0)
		rc = vs_err_set(err, -EIO, "exec helper died");
	if (rc == 0 && c->o->pid_file)
		rc = vs_write_pid_file(c->o->pid_file, pid, err);
	if (rc == 0 && c->proxy_fd >= 0) {
		/* the master was sent before the execve we just saw succeed */
		int master = vs_oci_recv_master(c->proxy_fd);

		if (master >= 0)
			vs_oci_console_proxy(master);
	}
	while (waitpid(helper, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return rc;
}

int vs_ctr_exec(const struct vs_exec_opts *o, const struct vs_spec_process *p, int *status,
		struct vs_err **err)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	struct exec_ctx c = { .o = o,
			      .p = p,
			      .console_fd = -1,
			      .proxy_fd = -1,
			      .root_fd = -1,
			      .ns_fds = { -1, -1, -1, -1, -1, -1, -1 } };
	enum vs_ctr_status s;
	int rc;

	if ((rc = vs_state_load(o->root, o->id, &st, err)) < 0)
		return rc;
	s = vs_state_status(o->root, st);
	if (s == VS_CTR_STOPPED)
		return vs_err_set(err, -EINVAL, "cannot exec in a stopped container");
	if (s == VS_CTR_PAUSED)
		return vs_err_set(err, -EINVAL, "cannot exec in a paused container");
	if (p->terminal && !o->console_socket && o->detach)
		return vs_err_set(err, -EINVAL, "cannot allocate tty without --console-socket");
	c.st = st;
	vs_spec_load(st->bundle, &c.spec, NULL);
	rc = open_namespaces(&c, err);
	if (rc == 0)
		rc = open_root(&c, err);
	if (rc == 0 && o->console_socket &&
	    (c.console_fd = connect_console(o->console_socket, err)) < 0)
		rc = c.console_fd;
	if (rc == 0 && p->terminal && !o->console_socket) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			rc = vs_err_setsys(err, -errno, "socketpair");
		else
			c.proxy_fd = sv[0], c.console_fd = sv[1];
	}
	if (rc == 0)
		rc = drive(&c, status, err);
	for (size_t i = 0; i < VS_ARRAY_SIZE(c.ns_fds); i++)
		if (c.ns_fds[i] >= 0)
			close(c.ns_fds[i]);
	if (c.console_fd >= 0)
		close(c.console_fd);
	if (c.root_fd >= 0)
		close(c.root_fd);
	if (c.proxy_fd >= 0)
		close(c.proxy_fd);
	vs_spec_free(c.spec);
	return rc;
}
