/* The container's init: runs in the new namespaces after clone, builds the
 * container from the spec, reports READY, then blocks on exec.fifo until
 * `start` and execs the user's process. Any failure before READY goes back
 * to the parent as one line over the sync socket.
 *
 * Nothing of the host stays reachable: the fd table is all close-on-exec
 * (CVE-2024-21626) and the process is not dumpable while it still runs our
 * code, so the container cannot open /proc/<pid>/exe (CVE-2019-5736). */
#include "ctr/container-internal.h"
#include "ctr/container.h"
#include "ctr/hooks.h"
#include "ctr/process.h"
#include "ctr/rootfs.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "ctr/sync.h"
#include "ctr/ns.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A session keyring of its own, named and permissioned as runc's ("_ses.<id>",
 * searchable by its possessor's uid), so the caller's keys are not the
 * container's. A kernel without keys (ENOSYS) has nothing to share. */
static int new_session_keyring(const char *id)
{
	char name[256], desc[512];
	unsigned long perm;
	long serial;
	char *semi;

	snprintf(name, sizeof(name), "_ses.%s", id);
	serial = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	if (serial < 0)
		return errno == ENOSYS ? 0 : -errno;
	/* "type;uid;gid;perm;description": perm is the fourth field, in hex */
	if (syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, desc, sizeof(desc)) < 0)
		return -errno;
	desc[sizeof(desc) - 1] = 0;
	semi = desc;
	for (int i = 0; i < 3 && semi; i++)
		semi = strchr(semi, ';') ? strchr(semi, ';') + 1 : NULL;
	if (!semi)
		return -EIO;
	perm = strtoul(semi, NULL, 16) | 0x080000; /* KEY_USR_SEARCH */
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, serial, perm) < 0)
		return -errno;
	return 0;
}

/* Until create has recorded us, we die with it (a SIGKILLed create must
 * not leave an init blocked on exec.fifo that nobody knows of): during
 * setup by the parent-death signal, armed, then the parent checked (if it
 * died before, our end of the sync socket has hung up), and armed again
 * after each credential change, which clears it; after READY by the sync
 * socket's EOF while we wait for RECORDED. */
static int arm_pdeathsig(const struct vs_init_ctx *c)
{
	struct pollfd p = { .fd = c->sync_fd, .events = POLLRDHUP };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return -errno;
	if (poll(&p, 1, 0) < 0)
		return -errno;
	return p.revents & (POLLHUP | POLLRDHUP | POLLERR) ? -EPIPE : 0;
}

static int set_names(const struct vs_spec *s, int flags, struct vs_err **err)
{
	if (s->hostname && *s->hostname) {
		if (!(flags & CLONE_NEWUTS) && !vs_spec_find_ns(s, CLONE_NEWUTS))
			return vs_err_set(err, -EINVAL,
					  "unable to set hostname without a private UTS namespace");
		if (sethostname(s->hostname, strlen(s->hostname)) < 0)
			return vs_err_setsys(err, -errno, "sethostname");
	}
	if (s->domainname && *s->domainname &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return vs_err_setsys(err, -errno, "setdomainname");
	return 0;
}

static int write_sysctls(const struct vs_spec *s, struct vs_err **err)
{
	for (size_t i = 0; i < s->sysctl.n; i++) {
		_cleanup_free_ char *kv = xstrdup(s->sysctl.v[i]);
		char *val = strchr(kv, '='), *path;
		int fd;

		*val++ = 0;
		for (char *p = kv; *p; p++)
			if (*p == '.')
				*p = '/';
		path = xasprintf("/proc/sys/%s", kv);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, val, strlen(val)) < 0) {
			int rc = vs_err_setsys(err, -errno, "writing sysctl %s", path);

			if (fd >= 0)
				close(fd);
			free(path);
			return rc;
		}
		close(fd);
		free(path);
	}
	return 0;
}

/* Runs hooks of kind from inside the container (createContainer before
 * pivot_root, startContainer after start), as runc does. */
static int own_hooks(const struct vs_init_ctx *c, enum vs_hook_kind kind, const char *name,
		     struct vs_err **err)
{
	struct vs_ctr_state st = { .id = (char *)c->opts->id,
				   .pid = c->host_pid,
				   .bundle = (char *)c->bundle,
				   .rootfs = (char *)c->rootfs,
				   .created = (char *)"",
				   .annotations = c->spec->annotations };
	json_t *j;
	char *text;
	int rc;

	if (!c->spec->hooks[kind].n)
		return 0;
	j = vs_state_to_json(&st,
			     kind == VS_HOOK_START_CONTAINER ? VS_CTR_CREATED : VS_CTR_CREATING);
	json_object_del(j, "created");
	text = json_dumps(j, JSON_COMPACT);
	rc = vs_hooks_run(&c->spec->hooks[kind], name, text, err);
	free(text);
	json_decref(j);
	return rc;
}

/* Lets the parent run the prestart/createRuntime hooks while we are in our
 * namespaces but before pivot_root, as the runtime spec orders them. */
static int parent_hooks(const struct vs_init_ctx *c, struct vs_err **err)
{
	struct vs_sync_msg m;
	int rc;

	if (!c->spec->hooks[VS_HOOK_PRESTART].n && !c->spec->hooks[VS_HOOK_CREATE_RUNTIME].n)
		return 0;
	if ((rc = vs_sync_send(c->sync_fd, VS_SYNC_HOOKS, 0, NULL)) < 0 ||
	    (rc = vs_sync_recv(c->sync_fd, &m)) < 0)
		return vs_err_setsys(err, rc, "waiting for hooks");
	if (m.type != VS_SYNC_HOOKS_DONE)
		return vs_err_set(err, -EPROTO, "hooks failed");
	return 0;
}

static int setup_fs(struct vs_init_ctx *c, struct vs_err **err)
{
	const struct vs_spec *s = c->spec;
	struct vs_rootfs_opts ro = {
		.rootfs = c->rootfs,
		.cgroup_path = c->cgroup_path,
		.no_pivot = c->opts->no_pivot,
		.userns = vs_spec_find_ns(s, CLONE_NEWUSER) != NULL,
	};
	int rc;

	if (!vs_spec_find_ns(s, CLONE_NEWNS)) /* the runtime's mount namespace: a chroot */
		return (rc = parent_hooks(c, err)) < 0 ||
				       (rc = own_hooks(c, VS_HOOK_CREATE_CONTAINER,
						       "createContainer", err)) < 0 ?
			       rc :
			       vs_rootfs_chroot(s, c->rootfs, err);
	if ((rc = vs_rootfs_prepare(s, &ro, err)) < 0 || (rc = parent_hooks(c, err)) < 0 ||
	    (rc = own_hooks(c, VS_HOOK_CREATE_CONTAINER, "createContainer", err)) < 0 ||
	    (rc = vs_rootfs_pivot(&ro, err)) < 0)
		return rc;
	if (s->process.terminal && c->console_fd >= 0 &&
	    (rc = vs_console_setup(c->console_fd, err)) < 0)
		return rc;
	/* sysctls before readonlyPaths makes /proc/sys read-only */
	if ((rc = write_sysctls(s, err)) < 0)
		return rc;
	/* the masks are binds, which an unbindable root would refuse */
	if ((rc = vs_rootfs_finish(s, err)) < 0)
		return rc;
	return vs_rootfs_propagate(s, err);
}

static int setup(struct vs_init_ctx *c, char **exe, struct vs_err **err)
{
	const struct vs_spec *s = c->spec;
	const struct vs_spec_process *p = &s->process;
	bool userns = vs_spec_find_ns(s, CLONE_NEWUSER) != NULL;
	int rc;

	if (chdir(c->bundle) < 0)
		return vs_err_setsys(err, -errno, "chdir to bundle %s", c->bundle);
	if ((rc = vs_ns_join(s, 0, err)) < 0)
		return rc;
	if ((c->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return vs_err_setsys(err, -errno, "unshare of the cgroup namespace");
	if (!c->opts->no_new_keyring && (rc = new_session_keyring(c->opts->id)) < 0)
		return vs_err_setsys(err, rc, "joining a new session keyring");
	if (userns) {
		/* best effort: fails only when 0 is not mapped, which is allowed */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			errno = 0;
		if ((rc = arm_pdeathsig(c)) < 0)
			return vs_err_setsys(err, rc, "parent-death signal");
	}
	/* Our own session: a kill(0, ...) in the container must not reach the
	 * runtime's process group (the console path makes its own session). */
	if (!p->terminal && setsid() < 0)
		return vs_err_setsys(err, -errno, "setsid");
	if (p->terminal && c->console_fd < 0)
		return vs_err_set(err, -EINVAL,
				  "cannot allocate tty if runc will detach without setting console "
				  "socket");
	if ((rc = set_names(s, c->clone_flags, err)) < 0 || (rc = setup_fs(c, err)) < 0 ||
	    (rc = vs_process_rlimits(p, err)) < 0)
		return rc;
	/* the trampoline and everything else the runtime needs happen
	 * before the filter is installed, right before execve */
	if ((c->tramp_fd = vs_trampoline_create()) < 0)
		return vs_err_setsys(err, c->tramp_fd, "creating the exec trampoline");
	if ((rc = vs_process_prepare(p, s->seccomp, c->opts->preserve_fds, &c->final, exe, err)) <
	    0)
		return rc;
	if ((rc = arm_pdeathsig(c)) < 0) /* the uid switch cleared it */
		return vs_err_setsys(err, rc, "parent-death signal");
	return 0;
}

/* Blocks until `start` opens the fifo for reading. The fifo is reached
 * through the O_PATH fd of the state directory taken before pivot_root. */
static int wait_start(struct vs_init_ctx *c)
{
	int fd = openat(c->state_dirfd, VS_STATE_FIFO, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1) {
		close(fd);
		return -EPIPE;
	}
	close(fd);
	close(c->state_dirfd);
	return 0;
}

void vs_init_main(struct vs_init_ctx *c)
{
	struct vs_err *err = NULL;
	struct vs_sync_msg m;
	char *exe = NULL, **env, **targv;
	int rc;

	close(c->lock_fd); /* the parent's lock: dies with the parent, not with us */
	if (arm_pdeathsig(c) < 0 || vs_sync_recv(c->sync_fd, &m) < 0 || m.type != VS_SYNC_GO)
		_exit(1);
	/* not dumpable from here on; until GO the parent (unprivileged when
	 * rootless) had to open our /proc files to write the id maps */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	c->host_pid = atoi(m.msg);
	rc = setup(c, &exe, &err);
	if (rc < 0) {
		vs_sync_send(c->sync_fd, VS_SYNC_ERROR, rc, err ? err->msg : "setup failed");
		_exit(1);
	}
	env = vs_process_env(&c->spec->process);
	/* From here on we wait on the sync socket, whose EOF tells us that
	 * create died before recording us: the parent-death signal (which
	 * would also fire when create exits normally) is no longer needed. */
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0 ||
	    vs_sync_send(c->sync_fd, VS_SYNC_READY, 0, NULL) < 0 ||
	    vs_sync_recv(c->sync_fd, &m) < 0 || m.type != VS_SYNC_RECORDED)
		_exit(1);
	close(c->sync_fd);
	if (wait_start(c) < 0)
		_exit(1);
	if (own_hooks(c, VS_HOOK_START_CONTAINER, "startContainer", &err) < 0) {
		dprintf(STDERR_FILENO, "%s\n", err->msg);
		_exit(1);
	}
	targv = vs_trampoline_argv(exe, c->spec->process.args.v);
	/* from here on the container's seccomp filter may be in force: only
	 * the uid switch (without no_new_privs) and the exec follow */
	if (vs_process_finish(&c->final, &err) < 0) {
		dprintf(STDERR_FILENO, "%s\n", err->msg);
		_exit(1);
	}
	vs_trampoline_exec(c->tramp_fd, targv, env);
	execve(exe, c->spec->process.args.v, env);
	dprintf(STDERR_FILENO, "exec %s: %s\n", exe, strerror(errno));
	_exit(127);
}
