/* The monitor of a running container (ctr.h): a detached process, forked
 * by vs_svc_ctr_start, that holds the container's lock for its whole life.
 * In a private mount namespace of its own it mounts the overlay rootfs
 * (so the host never holds the mount, and the mount goes when the last of
 * the monitor and the container does), creates and starts the container
 * with src/ctr, copies the container's stdout and stderr (or its pty) to
 * ctr.log, to the foreground CLI and to attached clients (ctr-mon-io.c),
 * waits for the init, restarts it as the restart policy says and records
 * how it ended. While the container runs, the monitor is the small
 * vessel-ctr-mon (ctr-mon-main.c), exec'd in place; it execs vessel back
 * (vs_svc_ctr_monitor_resume) once the init has ended.
 *
 * Its status pipe carries "ok" once the container runs (or "err <why>"),
 * then "exit <code>" once the end is recorded.
 *
 * Map: overlay - create - restart policy - idle handover - end - setup -
 * vs_svc_ctr_monitor - vs_svc_ctr_monitor_resume. */
#include "svc/ctr-internal.h"
#include "svc/ctr-mon-io.h"
#include "svc/internal.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/oci-cli.h"
#include "image/image.h"
#include "store/containers.h"
#include "store/store.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FD_LOCK = 3, FD_STATUS, FD_OUT, FD_ERR, FD_IN, FD_FIRST_FREE };
#define MAX_LAYERS 500
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define BACKOFF_RESET_MS 10000 /* a run this long starts the backoff over */
#define STOP_POLL_MS 50
#define IDLE_AFTER_MS 1000 /* a container running this long gets the small monitor */

struct monitor {
	struct vs_svc *svc;
	char *root;
	struct vs_store_ctr *row;
	char *dir, *oci;
	pid_t init;
	struct vs_mon_io io;
	char *log_path;
	bool auto_remove, tty;
	enum vs_ctr_restart restart;
	unsigned restart_max; /* on-failure:N; 0: no limit */
	unsigned restarts;
	struct vs_ctr_net net; /* its network, if on one (ctr-net.c) */
};

static void status_line(const char *word, const char *arg)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%s%s%s\n", word, arg ? " " : "", arg ? arg : "");

	if (write(FD_STATUS, buf, (size_t)VS_MIN(n, (int)sizeof(buf) - 1)) < 0) {
		/* the CLI went away: nobody to tell */
	}
}

/* Docker creates a working directory the image lacks: so do we, inside
 * the rootfs (symlinks resolved within it), before the runtime chdirs. */
static int make_cwd(struct monitor *m, const char *rootfs, struct vs_err **err)
{
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", m->dir);
	_cleanup_json_ json_t *j = json_load_file(cfg, 0, NULL);
	const char *cwd = vs_json_str(json_object_get(j, "process"), "cwd");
	_cleanup_close_ int fd = -1;
	int r;

	if (!cwd || !strcmp(cwd, "/"))
		return 0;
	if ((fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return vs_err_setsys(err, -errno, "cannot open %s", rootfs);
	if ((r = vs_mkdir_in_root(fd, cwd, 0755)) < 0 && r != -EEXIST)
		return vs_err_setsys(err, r, "cannot create the working directory %s", cwd);
	return 0;
}

/* The overlay of the image's layers (the "lower" file, top first). */
static int mount_rootfs(struct monitor *m, struct vs_err **err)
{
	_cleanup_free_ char *low = xasprintf("%s/" VS_CTR_LOWER_FILE, m->dir);
	_cleanup_free_ char *up = xasprintf("%s/upper", m->dir), *wk = xasprintf("%s/work", m->dir);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", m->dir);
	_cleanup_free_ uint8_t *raw = NULL;
	_cleanup_free_ char *text = NULL;
	struct vs_image_layer layers[MAX_LAYERS];
	struct vs_image_info img = { .name = m->row->image, .layers = layers };
	size_t len, n = 0;
	char *save = NULL;
	int r;

	if ((r = vs_read_file(low, 1 << 20, &raw, &len)) < 0)
		return vs_err_setsys(err, r, "cannot read %s", low);
	text = xmalloc(len + 1);
	memcpy(text, raw, len);
	text[len] = 0;
	for (char *t = strtok_r(text, "\n", &save); t && n < MAX_LAYERS;
	     t = strtok_r(NULL, "\n", &save))
		layers[n++] = (struct vs_image_layer){ .dir = t };
	/* the file lists the top layer first; vs_image_info wants the bottom first */
	for (size_t i = 0; i < n / 2; i++) {
		struct vs_image_layer t = layers[i];

		layers[i] = layers[n - 1 - i];
		layers[n - 1 - i] = t;
	}
	img.n_layers = n;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return vs_err_setsys(err, -errno, "cannot make the monitor's mount namespace");
	if ((r = vs_image_overlay_mount(&img, up, wk, rootfs, err)) < 0)
		return r;
	return make_cwd(m, rootfs, err);
}

/* The pty: the init sends its master back over a socket pair (runc's
 * console-socket protocol); the monitor keeps it, the container has the slave. */
static int create_tty(struct monitor *m, struct vs_ctr_create_opts *o, struct vs_err **err)
{
	int sv[2], master = -1, r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return vs_err_setsys(err, -errno, "socketpair");
	o->console_fd = sv[1];
	r = vs_ctr_create(o, &m->init, err);
	close(sv[1]);
	if (r == 0 && (master = vs_oci_recv_master(sv[0])) < 0) {
		r = vs_err_set(err, -EIO, "the container's init sent no pty");
		vs_ctr_delete(m->oci, m->row->id, true, NULL);
		waitpid(m->init, NULL, 0);
	}
	close(sv[0]);
	if (r == 0)
		vs_mon_io_set_master(&m->io, master);
	return r;
}

/* FD_IN as the container's stdin (the CLI's with -i, else /dev/null) and
 * two pipes as its stdout and stderr. */
static int create_pipes(struct monitor *m, struct vs_ctr_create_opts *o, struct vs_err **err)
{
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, null, r = 0;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0)
		r = vs_err_setsys(err, -errno, "pipe");
	else if (dup2(FD_IN, 0) < 0 || dup2(out[1], 1) < 0 || dup2(er[1], 2) < 0)
		r = vs_err_setsys(err, -errno, "dup2");
	if (r == 0)
		r = vs_ctr_create(o, &m->init, err);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	/* the container has it: EOF on it is the container's business, and
	 * a restarted container gets /dev/null */
	dup3(null, FD_IN, O_CLOEXEC);
	close(null);
	for (int i = 0; i < 2; i++) {
		int *p = i ? er : out;

		if (p[1] >= 0)
			close(p[1]);
		if (r < 0 && p[0] >= 0)
			close(p[0]);
	}
	if (r == 0) {
		m->io.out = out[0];
		m->io.err = er[0];
	}
	return r;
}

/* Creates the container and starts it. */
static int create_start(struct monitor *m, struct vs_err **err)
{
	struct vs_ctr_create_opts o = {
		.root = m->oci, .id = m->row->id, .bundle = m->dir, .console_fd = -1
	};
	int r;

	/* the container inherits our dispositions: SIGPIPE as a program expects */
	signal(SIGPIPE, SIG_DFL);
	r = m->tty ? create_tty(m, &o, err) : create_pipes(m, &o, err);
	signal(SIGPIPE, SIG_IGN);
	if (r < 0)
		return r;
	/* the init waits on exec.fifo in its new namespaces: eth0 goes in now */
	if ((r = vs_svc_ctr_net_attach(&m->net, m->init, err)) < 0 ||
	    (r = vs_ctr_start(m->oci, m->row->id, err)) < 0) {
		vs_ctr_delete(m->oci, m->row->id, true, NULL);
		waitpid(m->init, NULL, 0);
	}
	return r;
}

static int record_running(struct monitor *m, long long expect_pid, struct vs_err **err)
{
	struct vs_store_ctr *row = m->row;
	int r;

	snprintf(row->state, sizeof(row->state), "running");
	row->pid = getpid();
	row->pid_start = vs_svc_pid_start(getpid());
	row->init_pid = m->init;
	row->started_at = vs_svc_now_ms();
	row->finished_at = 0;
	row->exit_code = 0;
	row->oom_killed = false;
	free(row->exit_reason);
	row->exit_reason = NULL;
	r = vs_store_ctr_update(m->svc->store, row, expect_pid, err);
	if (r == 0)
		return vs_err_set(err, -ESTALE, "container %s changed while starting", row->name);
	return r < 0 ? r : 0;
}

static unsigned long long oom_kills(const char *id)
{
	_cleanup_free_ char *path = xasprintf(VS_CTR_CGROUP_PARENT "/%s", id);
	struct vs_cgroup *cg = NULL;
	unsigned long long n;

	if (vs_cgroup_open(VS_CGROUP_FSROOT, path, &cg, NULL) < 0)
		return 0;
	n = vs_cgroup_oom_kills(cg);
	vs_cgroup_free(cg);
	return n;
}

/* Copies the output for up to IDLE_AFTER_MS; true when the container has
 * ended by then (its output closed and its init exited). */
static bool ends_soon(struct monitor *m)
{
	int64_t deadline = vs_mon_io_now_ms() + IDLE_AFTER_MS;
	struct pollfd p = { .fd = -1, .events = POLLIN };
	bool done;

	if (!vs_mon_io_pump_until(&m->io, deadline))
		return false;
	/* EOF comes a moment before the init is a zombie: wait for that too */
	if ((p.fd = (int)syscall(SYS_pidfd_open, m->init, 0)) < 0)
		return true; /* no pidfd: wait in-process */
	done = poll(&p, 1, (int)VS_MAX(deadline - vs_mon_io_now_ms(), 0)) > 0;
	close(p.fd);
	return done;
}

static bool stop_requested(const struct monitor *m)
{
	_cleanup_free_ char *p = xasprintf("%s/" VS_CTR_STOP_FILE, m->dir);

	return access(p, F_OK) == 0;
}

static bool should_restart(const struct monitor *m, int status)
{
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	if (m->restart == VS_CTR_RESTART_NO || stop_requested(m))
		return false;
	if (m->restart == VS_CTR_RESTART_ON_FAILURE)
		return failed && (!m->restart_max || m->restarts < m->restart_max);
	return true;
}

/* Sleeps ms; false as soon as a stop is requested. */
static bool backoff(const struct monitor *m, unsigned ms)
{
	struct timespec ts = { .tv_nsec = STOP_POLL_MS * 1000000L };

	for (unsigned t = 0; t < ms; t += STOP_POLL_MS) {
		if (stop_requested(m))
			return false;
		nanosleep(&ts, NULL);
	}
	return !stop_requested(m);
}

static void write_restarts(const struct monitor *m)
{
	_cleanup_free_ char *p = xasprintf("%s/" VS_CTR_RESTARTS_FILE, m->dir);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", p);
	FILE *f = fopen(tmp, "we");

	if (!f)
		return;
	fprintf(f, "%u\n", m->restarts);
	if (fclose(f) == 0)
		rename(tmp, p);
}

/* The network state of the run that ended: what this monitor holds, or,
 * after the idle phase's exec (which carries none), what the store says
 * the container leased (ctr-net.c). */
static void net_release(struct monitor *m)
{
	if (m->net.network)
		vs_svc_ctr_net_release(m->svc, &m->net);
	else
		vs_svc_ctr_net_cleanup(m->svc, m->row->id, m->row->name);
	vs_ctr_net_clear(&m->net);
}

static int net_prepare(struct monitor *m, struct vs_err **err);

/* When the current run started, and the next backoff. */
struct run_clock {
	int64_t start_ms;
	unsigned delay_ms;
};

/* After a run that ended with status: restarts the container if the
 * policy says so (after a doubling backoff, reset after a long run).
 * True when it runs again. */
static bool restart(struct monitor *m, int status, struct run_clock *c)
{
	struct vs_err *err = NULL;

	if (!should_restart(m, status))
		return false;
	vs_ctr_delete(m->oci, m->row->id, true, NULL);
	if (vs_svc_now_ms() - c->start_ms >= BACKOFF_RESET_MS)
		c->delay_ms = BACKOFF_FIRST_MS;
	if (!backoff(m, c->delay_ms))
		return false;
	c->delay_ms = VS_MIN(c->delay_ms * 2, BACKOFF_MAX_MS);
	m->restarts++;
	write_restarts(m);
	net_release(m); /* each run gets its lease, ports and eth0 afresh */
	if (net_prepare(m, &err) < 0 || create_start(m, &err) < 0 ||
	    record_running(m, m->row->pid, &err) < 0) {
		net_release(m);
		vs_err_free(err);
		return false;
	}
	c->start_ms = vs_svc_now_ms();
	return true;
}

static void fd_cloexec(int fd, bool on)
{
	int f = fcntl(fd, F_GETFD);

	if (f >= 0)
		fcntl(fd, F_SETFD, on ? f | FD_CLOEXEC : f & ~FD_CLOEXEC);
}

/* Execs the idle phase (ctr-mon-main.c) with what it needs. Returns only
 * when there is none or the exec failed: the monitor then idles as it is. */
static void go_idle(struct monitor *m, const struct run_clock *c)
{
	char exe[PATH_MAX], mon[PATH_MAX + 32], io[VS_MON_IO_STR_MAX], init[24], rs[16], dl[16],
		st[24];
	char *args[] = { mon, exe, m->root, m->row->id, m->log_path, io, init, rs, dl, st, NULL };

	if (vs_exe_sibling(VS_MON_IDLE_EXE, exe, sizeof(exe), mon, sizeof(mon)) < 0)
		return;
	vs_mon_io_encode(&m->io, io, sizeof(io));
	snprintf(init, sizeof(init), "%d", (int)m->init);
	snprintf(rs, sizeof(rs), "%u", m->restarts);
	snprintf(dl, sizeof(dl), "%u", c->delay_ms);
	snprintf(st, sizeof(st), "%lld", (long long)c->start_ms);
	vs_mon_io_cloexec(&m->io, false);
	fd_cloexec(FD_LOCK, false);
	fd_cloexec(FD_STATUS, false);
	vs_store_close(m->svc->store); /* no SQLite connection crosses the exec */
	m->svc->store = NULL;
	execv(mon, args);
	vs_mon_io_cloexec(&m->io, true);
	fd_cloexec(FD_LOCK, true);
	fd_cloexec(FD_STATUS, true);
	if (vs_store_open(m->root, &m->svc->store, NULL) < 0)
		_exit(1); /* no store to record in: the next look records "monitor died" */
}

/* Copies the output until it closes, then reaps the init: its wait status.
 * A container still running after IDLE_AFTER_MS is left to vessel-ctr-mon
 * (a short one does not pay for the two execs). */
static int reap(struct monitor *m, const struct run_clock *c)
{
	int status = 0;

	if (!ends_soon(m)) {
		go_idle(m, c);
		vs_mon_io_pump(&m->io);
	}
	while (waitpid(m->init, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Runs the container until it ends for good. Returns the wait status of
 * the last run. */
static int run_loop(struct monitor *m, struct run_clock *c)
{
	int status;

	do
		status = reap(m, c);
	while (restart(m, status, c));
	return status;
}

/* Records the end of the last run (wait status), removes what the run
 * made. Returns the exit code. */
static int finish(struct monitor *m, int status)
{
	struct vs_store_ctr *row = m->row;
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", m->dir);
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	int64_t me = row->pid;

	vs_mon_io_close_clients(&m->io);
	row->oom_killed = oom_kills(row->id) > 0;
	vs_ctr_delete(m->oci, row->id, true, NULL);
	umount2(rootfs, MNT_DETACH);
	net_release(m);
	snprintf(row->state, sizeof(row->state), "exited");
	row->pid = 0;
	row->pid_start = 0;
	row->init_pid = 0;
	row->finished_at = vs_svc_now_ms();
	row->exit_code = code;
	free(row->exit_reason);
	row->exit_reason = xstrdup(row->oom_killed     ? "oom-killed" :
				   WIFSIGNALED(status) ? "killed by a signal" :
							 "exited");
	vs_store_ctr_update(m->svc->store, row, me, NULL);
	if (m->io.listen >= 0) {
		_cleanup_free_ char *sock = xasprintf("%s/" VS_CTR_ATTACH_SOCK, m->dir);

		unlink(sock);
	}
	if (m->auto_remove && vs_store_ctr_delete(m->svc->store, row->id, NULL) == 0)
		vs_svc_rmtree(m->dir);
	return code;
}

/* The network part of the start, with the hostname config.json gives. */
static int net_prepare(struct monitor *m, struct vs_err **err)
{
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", m->dir);
	_cleanup_json_ json_t *j = json_load_file(cfg, 0, NULL);
	const char *host = vs_json_str(j, "hostname");

	return vs_svc_ctr_net_prepare(m->svc, m->row, m->dir, host ? host : m->row->name, &m->net,
				      err);
}

/* The attach socket <dir>/attach.sock, bound through /proc/self/fd: the
 * full path may be longer than sun_path. */
static int listen_attach(struct monitor *m, struct vs_err **err)
{
	_cleanup_close_ int dir = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (dir < 0)
		return vs_err_setsys(err, -errno, "cannot open %s", m->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" VS_CTR_ATTACH_SOCK, dir);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return vs_err_setsys(err, r, "cannot make the attach socket");
	}
	m->io.listen = fd;
	return 0;
}

static void read_policy(struct monitor *m, json_t *spec)
{
	const char *p = vs_json_str(spec, "restart");

	m->restart = !p || !strcmp(p, "no") ? VS_CTR_RESTART_NO :
		     !strcmp(p, "always")   ? VS_CTR_RESTART_ALWAYS :
					      VS_CTR_RESTART_ON_FAILURE;
	m->restart_max = (unsigned)vs_json_int(spec, "restart_max", 0);
}

/* The store, the row and what the spec says of the monitor's work. */
static int load(struct monitor *m, const char *root, const char *id, struct vs_err **err)
{
	_cleanup_json_ json_t *spec = NULL;
	int r;

	m->root = xstrdup(root);
	if ((r = vs_svc_open(root, &m->svc, err)) < 0)
		return r;
	if ((r = vs_store_ctr_get(m->svc->store, id, &m->row, err)) < 0)
		return r == -ENOENT ? vs_err_set(err, r, "container %s is gone", id) : r;
	spec = json_loads(m->row->spec, 0, NULL);
	m->auto_remove = vs_json_bool(spec, "auto_remove", false);
	m->tty = vs_json_bool(spec, "tty", false);
	read_policy(m, spec);
	m->io.tty = m->tty;
	m->io.log_max = (uint64_t)vs_json_int(spec, "log_max", VS_CTR_LOG_MAX);
	m->dir = vs_svc_ctr_path(m->svc, id, NULL);
	m->oci = vs_svc_ctr_oci_root(m->svc);
	return 0;
}

static int setup(struct monitor *m, const char *root, const char *id, struct vs_err **err)
{
	_cleanup_free_ char *stop = NULL, *restarts = NULL;
	struct stat st;
	int r;

	if ((r = load(m, root, id, err)) < 0)
		return r;
	stop = xasprintf("%s/" VS_CTR_STOP_FILE, m->dir);
	restarts = xasprintf("%s/" VS_CTR_RESTARTS_FILE, m->dir);
	unlink(stop); /* a new start: a former stop no longer holds */
	unlink(restarts);
	m->log_path = xasprintf("%s/" VS_CTR_LOG_FILE, m->dir);
	m->io.log_path = m->log_path;
	if ((r = vs_mon_io_open_log(&m->io)) < 0)
		return vs_err_setsys(err, r, "cannot open %s", m->log_path);
	if (m->tty && (r = listen_attach(m, err)) < 0)
		return r;
	if (!m->tty) {
		m->io.tee_out = FD_OUT;
		m->io.tee_err = FD_ERR;
	} else if (fstat(FD_OUT, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* a foreground `run -t`: its socket is the first client */
		vs_mon_io_early_winsize(&m->io, FD_OUT);
		vs_mon_io_add_client(&m->io, fcntl(FD_OUT, F_DUPFD_CLOEXEC, FD_FIRST_FREE));
	}
	if ((r = mount_rootfs(m, err)) < 0)
		return r;
	return net_prepare(m, err);
}

/* fds 3..6 as the enum says, stdio on /dev/null, nothing else of the CLI's. */
static void arrange_fds(const struct vs_ctr_monitor_args *a)
{
	/* above the numbers dup3 fills below, or it would replace it */
	int null = fcntl(open("/dev/null", O_RDWR | O_CLOEXEC), F_DUPFD_CLOEXEC, 64);
	int src[5] = { a->lock_fd, a->status_fd, a->out_fd >= 0 ? a->out_fd : null,
		       a->err_fd >= 0 ? a->err_fd : null, a->in_fd >= 0 ? a->in_fd : null };
	int tmp[5];

	if (null < 0)
		_exit(127);
	for (int i = 0; i < 5; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) < 0)
			_exit(127);
	for (int i = 0; i < 5; i++)
		if (dup3(tmp[i], FD_LOCK + i, O_CLOEXEC) < 0)
			_exit(127);
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	close_range(FD_FIRST_FREE, ~0U, 0);
}

void vs_svc_ctr_monitor(const struct vs_ctr_monitor_args *a)
{
	struct monitor m = { 0 };
	_cleanup_free_ char *root = xstrdup(a->root), *id = xstrdup(a->id);
	struct vs_err *err = NULL;
	long long expect = a->expect_pid;
	char line[32];
	sigset_t none;
	struct run_clock c;
	int code;

	vs_mon_io_init(&m.io);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* a foreground CLI blocks some */
	arrange_fds(a);
	prctl(PR_SET_NAME, "vessel-ctr-mon");
	if (setup(&m, root, id, &err) < 0 || create_start(&m, &err) < 0 ||
	    (signal(SIGPIPE, SIG_IGN), record_running(&m, expect, &err)) < 0) {
		/* undone before the CLI hears of it: it returns to a clean state */
		if (m.init > 0) {
			vs_ctr_delete(m.oci, id, true, NULL);
			waitpid(m.init, NULL, 0);
		}
		vs_svc_ctr_net_release(m.svc, &m.net);
		status_line("err", err ? err->msg : "failed");
		_exit(1);
	}
	status_line("ok", NULL);
	c = (struct run_clock){ .start_ms = vs_svc_now_ms(), .delay_ms = BACKOFF_FIRST_MS };
	code = finish(&m, run_loop(&m, &c));
	snprintf(line, sizeof(line), "%d", code);
	status_line("exit", line);
	_exit(0);
}

void vs_svc_ctr_monitor_resume(int argc, char **argv)
{
	struct monitor m = { 0 };
	struct run_clock c = { 0 };
	struct vs_err *err = NULL;
	int status, code, null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char line[32];

	vs_mon_io_init(&m.io);
	/* argv: vessel VERB ROOT ID LOG IO STATUS RESTARTS DELAY START (ctr-mon-main.c) */
	if (argc != 10 || vs_mon_io_decode(&m.io, argv[5]) < 0 || null < 0) {
		fprintf(stderr, "vessel: " VS_MON_RESUME_VERB " is vessel's own\n");
		_exit(2);
	}
	dup3(null, FD_IN, O_CLOEXEC); /* a restarted container's stdin */
	close(null);
	status = atoi(argv[6]);
	m.restarts = (unsigned)atoi(argv[7]);
	c = (struct run_clock){ .delay_ms = (unsigned)atoi(argv[8]), .start_ms = atoll(argv[9]) };
	vs_mon_io_cloexec(&m.io, true);
	fd_cloexec(FD_LOCK, true);
	fd_cloexec(FD_STATUS, true);
	m.log_path = xstrdup(argv[4]);
	m.io.log_path = m.log_path;
	if (load(&m, argv[2], argv[3], &err) < 0)
		_exit(1); /* our lock goes: the next look records the container exited */
	if (restart(&m, status, &c))
		status = run_loop(&m, &c);
	code = finish(&m, status);
	snprintf(line, sizeof(line), "%d", code);
	status_line("exit", line);
	_exit(0);
}
