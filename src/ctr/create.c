/* `create`: load the bundle, make the state directory, exec.fifo and
 * cgroup, clone the init into its namespaces, map ids, run the create-time
 * hooks, and record the state once the init is READY. On any failure
 * nothing is left behind: no cgroup, no state directory, no process.
 *
 * Map: bundle | state dir | the init's parent side | vs_ctr_create. */
#include "ctr/container.h"
#include "ctr/container-internal.h"
#include "ctr/cgroup.h"
#include "ctr/hooks.h"
#include "ctr/lsm.h"
#include "ctr/ns.h"
#include "ctr/process.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "ctr/sync.h"
#include "ctr/sys.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct create {
	const struct vs_ctr_create_opts *o;
	struct vs_spec *spec;
	struct vs_ctr_state st;
	char *state_dir;
	struct vs_cgroup *cg;
	int state_dirfd;
	int lock_fd; /* flock on the state directory until create returns */
	int sync_fd; /* our end of the sync socket with the init */
	bool cg_made; /* we (may) have created cgroup directories */
	int console_fd;
	pid_t pid;
};

/* The parser accepts a namespaced sysctl when the config lists the
 * namespace; one joined by path must not be the runtime's own, which is
 * the host's (runc checks the network namespace the same way). */
static int check_sysctl_ns(const struct vs_spec *s, struct vs_err **err)
{
	for (size_t i = 0; i < s->sysctl.n; i++) {
		int type = vs_spec_sysctl_ns(s->sysctl.v[i]);
		const struct vs_spec_ns *ns = vs_spec_find_ns(s, type);

		if (ns && ns->path && vs_ns_is_runtimes(ns->path, type) == 1)
			return vs_err_set(err, -EINVAL,
					  "sysctl \"%.*s\" is not allowed in the host's %s "
					  "namespace",
					  (int)strcspn(s->sysctl.v[i], "="), s->sysctl.v[i],
					  vs_ns_type_name(type));
	}
	return 0;
}

static int load_bundle(struct create *c, struct vs_err **err)
{
	char bundle[PATH_MAX], rootfs[PATH_MAX];
	_cleanup_free_ char *root = NULL;
	int rc;

	if (!realpath(c->o->bundle ? c->o->bundle : ".", bundle))
		return vs_err_setsys(err, -errno, "bundle %s", c->o->bundle ? c->o->bundle : ".");
	if ((rc = vs_spec_load(bundle, &c->spec, err)) < 0)
		return rc;
	if (!c->spec->has_process)
		return vs_err_set(err, -EINVAL, "process not specified in config.json");
	if ((rc = check_sysctl_ns(c->spec, err)) < 0 || (rc = vs_lsm_check(c->spec, err)) < 0)
		return rc;
	/* In a new pid namespace no container process can see ours, and the
	 * init's final exec goes through the sealed trampoline; otherwise the
	 * whole runtime moves to a sealed copy first (CVE-2019-5736). */
	if (c->o->reexec_argv && !(vs_ns_clone_flags(c->spec) & CLONE_NEWPID) &&
	    (rc = vs_exec_sealed_copy(c->o->reexec_argv, err)) < 0)
		return rc;
	root = c->spec->root_path[0] == '/' ? xstrdup(c->spec->root_path) :
					      xasprintf("%s/%s", bundle, c->spec->root_path);
	if (!realpath(root, rootfs))
		return vs_err_setsys(err, -errno, "rootfs (%s) does not exist", root);
	/* a rootfs that is (a symlink to) the host's / would give the
	 * container the host: never what a bundle means */
	if (strcmp(rootfs, "/") == 0)
		return vs_err_set(err, -EINVAL, "rootfs (%s) resolves to the host's /", root);
	c->st.bundle = xstrdup(bundle);
	c->st.rootfs = xstrdup(rootfs);
	c->st.annotations = c->spec->annotations ? json_incref(c->spec->annotations) : NULL;
	return 0;
}

/* mkdir -p, as runc creates its --root. */
static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, mode) < 0 && errno != EEXIST ? -errno : 0;
}

/* Saves state.json as it stands; while creating, delete --force reads it
 * to finish a create that was killed (the pid, the cgroup path). */
static int save(struct create *c, bool creating, struct vs_err **err)
{
	c->st.pid = c->pid;
	c->st.creating = creating;
	c->st.pid_ns = vs_ns_clone_flags(c->spec) & CLONE_NEWPID;
	if (c->pid > 0 && vs_proc_start_time(c->pid, &c->st.start_time) < 0)
		return vs_err_set(err, -ESRCH, "container init exited during setup");
	return vs_state_save(c->o->root, &c->st, err);
}

/* /proc/self/cgroup into buf (procfs files have no size to read up to). */
static void read_self_cgroup(char *buf, size_t size)
{
	_cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r = 0;

	while (fd >= 0 && n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
}

/* Where the container's cgroup goes, checked before anything is made:
 * never the root or one of our own cgroups' ancestors (its limits and a
 * kill of everything in it would reach the host); a cgroup that already
 * has processes is shared with them, as runc 1.1 allows with a warning, and
 * is then never signalled as a whole. */
static bool has_limits(const struct vs_spec_resources *r)
{
	size_t n = r->n_hugetlb + r->n_weight_dev + r->n_rdma + r->n_unified + r->n_net_prio;

	for (int k = 0; k < VS_THROTTLE_NKINDS; k++)
		n += r->n_throttle[k];
	return n || r->memory_limit >= 0 || r->memory_reservation >= 0 || r->memory_swap >= 0 ||
	       r->memory_swappiness >= 0 || r->disable_oom_killer || r->cpu_shares >= 0 ||
	       r->cpu_quota >= 0 || r->cpu_period >= 0 || r->cpu_rt_runtime >= 0 ||
	       r->cpu_rt_period >= 0 || r->cpuset_cpus || r->cpuset_mems || r->pids_limit >= 0 ||
	       r->blkio_weight >= 0 || r->net_classid >= 0;
}

static int plan_cgroup(struct create *c, struct vs_err **err)
{
	char self[8192];
	int rc;

	/* rootless without a cgroupsPath: no cgroup at all, as runc (the
	 * hierarchies are root's; device rules are then the kernel's) */
	if (geteuid() != 0 && (!c->spec->cgroups_path || !*c->spec->cgroups_path)) {
		if (has_limits(&c->spec->resources))
			return vs_err_set(err, -EPERM,
					  "linux.resources need a cgroup: give a cgroupsPath the "
					  "caller may write to when running unprivileged");
		return 0;
	}
	read_self_cgroup(self, sizeof(self));
	if ((rc = vs_cgroup_resolve_path(c->spec->cgroups_path, c->o->id, &c->st.cgroup_path,
					 err)) < 0 ||
	    (rc = vs_cgroup_check_placement(c->st.cgroup_path, self, err)) < 0 ||
	    (rc = vs_cgroup_open(VS_CGROUP_FSROOT, c->st.cgroup_path, &c->cg, err)) < 0)
		return rc;
	if (vs_cgroup_is_populated(c->cg)) {
		c->st.cgroup_shared = true;
		vs_warn("cgroup %s already has processes: the container shares it with them, and "
			"kill --all and delete will not signal them",
			c->st.cgroup_path);
	}
	return 0;
}

/* The state directory, locked (delete --force waits for a live create and
 * finishes a dead one). state.json follows once the init is cloned, before
 * the cgroup is made (spawn_init): until then only this directory exists. */
static int make_state_dir(struct create *c, struct vs_err **err)
{
	_cleanup_free_ char *fifo = NULL;
	int rc;

	if ((rc = mkdir_p(c->o->root, 0711)) < 0)
		return vs_err_setsys(err, rc, "creating root %s", c->o->root);
	c->state_dir = vs_state_dir(c->o->root, c->o->id);
	if (mkdir(c->state_dir, 0711) < 0) {
		rc = -errno;
		free(c->state_dir);
		c->state_dir = NULL; /* not ours: do not remove it */
		if (rc == -EEXIST)
			return vs_err_set(err, rc, "container with id exists: %s", c->o->id);
		return vs_err_setsys(err, rc, "creating state directory");
	}
	c->lock_fd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0)
		return vs_err_setsys(err, -errno, "locking %s", c->state_dir);
	/* the cgroup path apart from state.json, for delete --force */
	if (c->st.cgroup_path && symlinkat(c->st.cgroup_path, c->lock_fd, VS_STATE_CGROUP_LINK) < 0)
		return vs_err_setsys(err, -errno, "recording the cgroup path");
	fifo = xasprintf("%s/%s", c->state_dir, VS_STATE_FIFO);
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
		return vs_err_setsys(err, -errno, "creating %s", fifo);
	c->state_dirfd = open(c->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->state_dirfd < 0)
		return vs_err_setsys(err, -errno, "opening %s", c->state_dir);
	return 0;
}

static int make_cgroup(struct create *c, struct vs_err **err)
{
	int rc;

	if (!c->cg)
		return 0; /* rootless, no cgroup (plan_cgroup) */
	c->cg_made = true;
	if ((rc = vs_cgroup_create(c->cg, err)) < 0 ||
	    (rc = vs_cgroup_apply(c->cg, &c->spec->resources, err)) < 0)
		return rc;
	return vs_cgroup_devices(c->cg, c->spec, err);
}

static int connect_console(struct create *c, struct vs_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	c->console_fd = -1;
	if (!c->o->console_socket) {
		if (c->o->console_fd >= 0 &&
		    (c->console_fd = fcntl(c->o->console_fd, F_DUPFD_CLOEXEC, 3)) < 0)
			return vs_err_setsys(err, -errno, "dup of the console socket");
		return 0;
	}
	if (strlen(c->o->console_socket) >= sizeof(sa.sun_path))
		return vs_err_set(err, -ENAMETOOLONG, "console socket path too long");
	strcpy(sa.sun_path, c->o->console_socket);
	c->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->console_fd < 0 || connect(c->console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return vs_err_setsys(err, -errno, "connecting to console socket %s",
				     c->o->console_socket);
	return 0;
}

static char *state_json_text(const struct create *c, enum vs_ctr_status status)
{
	json_t *j = vs_state_to_json(&c->st, status);
	char *s;

	json_object_set_new(j, "pid", json_integer(c->pid));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int run_create_hooks(struct create *c, struct vs_err **err)
{
	_cleanup_free_ char *js = state_json_text(c, VS_CTR_CREATING);
	int rc = vs_hooks_run(&c->spec->hooks[VS_HOOK_PRESTART], "prestart", js, err);

	if (rc == 0)
		rc = vs_hooks_run(&c->spec->hooks[VS_HOOK_CREATE_RUNTIME], "createRuntime", js,
				  err);
	return rc;
}

/* The parent's half of the protocol with the init: map ids, place it in
 * the cgroup, let it go, serve hook requests, wait for READY. */
static int drive_init(struct create *c, int fd, struct vs_err **err)
{
	char buf[32];
	struct vs_sync_msg m;
	int rc, ofd;

	if ((vs_ns_clone_flags(c->spec) & CLONE_NEWUSER) &&
	    (rc = vs_ns_write_idmaps(c->pid, c->spec, err)) < 0)
		return rc;
	if (c->cg && (rc = vs_cgroup_enter(c->cg, c->pid, err)) < 0)
		return rc;
	if (c->spec->process.has_oom_score_adj) {
		snprintf(buf, sizeof(buf), "/proc/%d/oom_score_adj", (int)c->pid);
		ofd = open(buf, O_WRONLY | O_CLOEXEC);
		snprintf(buf, sizeof(buf), "%d", c->spec->process.oom_score_adj);
		rc = ofd < 0 || write(ofd, buf, strlen(buf)) < 0 ? -errno : 0;
		if (ofd >= 0)
			close(ofd);
		if (rc < 0)
			return vs_err_setsys(err, rc, "setting oom_score_adj");
	}
	/* the init's host pid, for the state its own hooks receive */
	snprintf(buf, sizeof(buf), "%d", (int)c->pid);
	if ((rc = vs_sync_send(fd, VS_SYNC_GO, 0, buf)) < 0)
		return vs_err_setsys(err, rc, "starting the container init");
	for (;;) {
		if ((rc = vs_sync_recv(fd, &m)) < 0)
			return vs_err_set(err, rc, "container init exited during setup");
		if (m.type == VS_SYNC_READY)
			return 0;
		if (m.type == VS_SYNC_ERROR)
			return vs_err_set(err, m.code < 0 ? m.code : -EIO, "%s", m.msg);
		if (m.type != VS_SYNC_HOOKS)
			return vs_err_set(err, -EPROTO, "unexpected message from the init");
		rc = run_create_hooks(c, err);
		vs_sync_send(fd, rc < 0 ? VS_SYNC_ERROR : VS_SYNC_HOOKS_DONE, rc, NULL);
		if (rc < 0)
			return rc;
	}
}

static int spawn_init(struct create *c, struct vs_err **err)
{
	struct vs_init_ctx ic = { .spec = c->spec,
				  .opts = c->o,
				  .bundle = c->st.bundle,
				  .rootfs = c->st.rootfs,
				  .cgroup_path = c->st.cgroup_path,
				  .state_dirfd = c->state_dirfd,
				  .lock_fd = c->lock_fd,
				  .console_fd = c->console_fd,
				  .clone_flags = vs_ns_clone_flags(c->spec) };
	int sv[2], rc;

	/* a pid namespace given by path is joined for our children only */
	if ((rc = vs_ns_join(c->spec, CLONE_NEWPID, err)) < 0)
		return rc;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return vs_err_setsys(err, -errno, "socketpair");
	fflush(NULL);
	/* the cgroup namespace is unshared by the init once it sits in its
	 * cgroup, so that cgroup is its root (as runc does) */
	c->pid = (pid_t)vs_ctr_sys->clone((unsigned long)(ic.clone_flags & ~CLONE_NEWCGROUP) |
					  SIGCHLD);
	if (c->pid < 0) {
		rc = -errno;
		close(sv[0]);
		close(sv[1]);
		return vs_err_setsys(err, rc, "clone");
	}
	if (c->pid == 0) {
		close(sv[0]);
		ic.sync_fd = sv[1];
		vs_init_main(&ic);
	}
	close(sv[1]);
	c->sync_fd = sv[0];
	/* the pid and the cgroup path, before the cgroup is made: a create
	 * killed from here on is finished by delete --force */
	return save(c, true, err);
}

/* The final state, then RECORDED: until the init reads it, our death (the
 * socket's EOF) makes it exit. */
static int record(struct create *c, pid_t *pid, struct vs_err **err)
{
	int rc;

	if ((rc = save(c, false, err)) < 0)
		return rc;
	if (c->o->pid_file && (rc = vs_write_pid_file(c->o->pid_file, c->pid, err)) < 0)
		return rc;
	if ((rc = vs_sync_send(c->sync_fd, VS_SYNC_RECORDED, 0, NULL)) < 0)
		return vs_err_set(err, rc, "container init exited during setup");
	*pid = c->pid;
	return 0;
}

static void undo(struct create *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->cg_made)
		vs_cgroup_destroy(c->cg, vs_now_ns() + VS_CTR_DELETE_TIMEOUT_NS, NULL);
	if (c->state_dir) {
		_cleanup_free_ char *fifo = xasprintf("%s/%s", c->state_dir, VS_STATE_FIFO);
		_cleanup_free_ char *st = xasprintf("%s/%s", c->state_dir, VS_STATE_FILE);
		_cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp", c->state_dir, VS_STATE_FILE);
		_cleanup_free_ char *cg = xasprintf("%s/%s", c->state_dir, VS_STATE_CGROUP_LINK);

		unlink(fifo);
		unlink(st);
		unlink(tmp);
		unlink(cg);
		rmdir(c->state_dir);
	}
}

int vs_ctr_create(const struct vs_ctr_create_opts *o, pid_t *pid, struct vs_err **err)
{
	struct create c = {
		.o = o, .state_dirfd = -1, .lock_fd = -1, .sync_fd = -1, .console_fd = -1
	};
	int rc;

	if (!vs_ctr_id_is_valid(o->id))
		return vs_err_set(err, -EINVAL, "invalid container id format: %s", o->id);
	c.st.id = xstrdup(o->id);
	c.st.created = vs_rfc3339_now();
	if ((rc = load_bundle(&c, err)) == 0 && (rc = plan_cgroup(&c, err)) == 0 &&
	    (rc = make_state_dir(&c, err)) == 0 && (rc = connect_console(&c, err)) == 0 &&
	    (rc = spawn_init(&c, err)) == 0 && (rc = make_cgroup(&c, err)) == 0 &&
	    (rc = drive_init(&c, c.sync_fd, err)) == 0)
		rc = record(&c, pid, err);
	if (rc < 0)
		undo(&c);
	if (c.sync_fd >= 0)
		close(c.sync_fd);
	if (c.state_dirfd >= 0)
		close(c.state_dirfd);
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	if (c.console_fd >= 0)
		close(c.console_fd);
	vs_cgroup_free(c.cg);
	vs_spec_free(c.spec);
	free(c.st.id);
	free(c.st.bundle);
	free(c.st.rootfs);
	free(c.st.created);
	free(c.st.cgroup_path);
	json_decref(c.st.annotations);
	free(c.state_dir);
	return rc;
}
