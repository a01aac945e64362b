/* The monitor of a running container (ctr.h): a detached process, forked
 * by vs_svc_ctr_start, that holds the container's lock for its whole life.
 * In a private mount namespace of its own it mounts the overlay rootfs
 * (so the host never holds the mount, and the mount goes when the last of
 * the monitor and the container does), creates and starts the container
 * with src/ctr, copies the container's stdout and stderr to ctr.log (and
 * to the foreground CLI's), waits for the init and records how it ended.
 *
 * Its status pipe carries "ok" once the container runs (or "err <why>"),
 * then "exit <code>" once the end is recorded.
 *
 * Map: overlay - create - log pump - end - vs_svc_ctr_monitor. */
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
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
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FD_LOCK = 3, FD_STATUS, FD_OUT, FD_ERR, FD_IN, FD_FIRST_FREE };
#define MAX_LAYERS 500
#define PUMP_BUF 65536

struct monitor {
	struct vs_svc *svc;
	struct vs_store_ctr *row;
	char *dir, *oci;
	pid_t init;
	int pipes[2][2]; /* stdout, stderr of the container: [read, write] */
	int log_fd;
	uint64_t log_size, log_max;
	bool auto_remove;
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

/* Creates the container with FD_IN as its stdin (the CLI's with -i, else
 * /dev/null) and our pipes as its stdout and stderr, starts it. */
static int create_start(struct monitor *m, struct vs_err **err)
{
	struct vs_ctr_create_opts o = {
		.root = m->oci, .id = m->row->id, .bundle = m->dir, .console_fd = -1
	};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), r;

	for (int i = 0; i < 2; i++)
		if (pipe2(m->pipes[i], O_CLOEXEC) < 0)
			return vs_err_setsys(err, -errno, "pipe");
	if (dup2(FD_IN, 0) < 0 || dup2(m->pipes[0][1], 1) < 0 || dup2(m->pipes[1][1], 2) < 0)
		return vs_err_setsys(err, -errno, "dup2");
	r = vs_ctr_create(&o, &m->init, err);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	close(FD_IN); /* the container has it: EOF on it is the container's business */
	for (int i = 0; i < 2; i++) {
		close(m->pipes[i][1]);
		m->pipes[i][1] = -1;
	}
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

static void log_write(struct monitor *m, const char *buf, size_t n)
{
	if (m->log_size + n > m->log_max && m->log_size > 0) {
		_cleanup_free_ char *p = xasprintf("%s/" VS_CTR_LOG_FILE, m->dir);
		_cleanup_free_ char *old = xasprintf("%s.1", p);

		rename(p, old);
		close(m->log_fd);
		m->log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
		m->log_size = 0;
	}
	if (m->log_fd >= 0 && write(m->log_fd, buf, n) == (ssize_t)n)
		m->log_size += n;
}

/* Copies both pipes to the log (and the foreground's fds) until both close. */
static void pump(struct monitor *m)
{
	struct pollfd p[2] = { { .fd = m->pipes[0][0], .events = POLLIN },
			       { .fd = m->pipes[1][0], .events = POLLIN } };
	const int tee[2] = { FD_OUT, FD_ERR };
	char *buf = xmalloc(PUMP_BUF);

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, PUMP_BUF);
			if (n <= 0 && !(n < 0 && errno == EINTR)) {
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			if (n > 0) {
				log_write(m, buf, (size_t)n);
				if (write(tee[i], buf, (size_t)n) < 0) {
					/* the foreground CLI's output closed: the log has it */
				}
			}
		}
	}
	free(buf);
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

/* Waits for the init, records the end, removes what the run made. Returns
 * the exit code. */
static int finish(struct monitor *m)
{
	struct vs_store_ctr *row = m->row;
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", m->dir);
	int status = 0, code;
	int64_t me = row->pid;

	while (waitpid(m->init, &status, 0) < 0 && errno == EINTR)
		;
	code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	row->oom_killed = oom_kills(row->id) > 0;
	vs_ctr_delete(m->oci, row->id, true, NULL);
	umount2(rootfs, MNT_DETACH);
	vs_svc_ctr_net_release(m->svc, &m->net);
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

static int setup(struct monitor *m, const char *root, const char *id, struct vs_err **err)
{
	_cleanup_json_ json_t *spec = NULL;
	_cleanup_free_ char *log = NULL;
	struct stat st;
	int r;

	if ((r = vs_svc_open(root, &m->svc, err)) < 0)
		return r;
	if ((r = vs_store_ctr_get(m->svc->store, id, &m->row, err)) < 0)
		return r == -ENOENT ? vs_err_set(err, r, "container %s is gone", id) : r;
	spec = json_loads(m->row->spec, 0, NULL);
	m->auto_remove = vs_json_bool(spec, "auto_remove", false);
	m->log_max = (uint64_t)vs_json_int(spec, "log_max", VS_CTR_LOG_MAX);
	m->dir = vs_svc_ctr_path(m->svc, id, NULL);
	m->oci = vs_svc_ctr_oci_root(m->svc);
	log = xasprintf("%s/" VS_CTR_LOG_FILE, m->dir);
	m->log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (m->log_fd < 0)
		return vs_err_setsys(err, -errno, "cannot open %s", log);
	m->log_size = fstat(m->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
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
	struct monitor m = { .log_fd = -1, .pipes = { { -1, -1 }, { -1, -1 } } };
	_cleanup_free_ char *root = xstrdup(a->root), *id = xstrdup(a->id);
	struct vs_err *err = NULL;
	long long expect = a->expect_pid;
	char line[32];
	int code;

	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* a foreground CLI blocks some */
	arrange_fds(a);
	prctl(PR_SET_NAME, "vessel-ctr-mon");
	/* the container inherits our dispositions: SIGPIPE as a program expects */
	signal(SIGPIPE, SIG_DFL);
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
	pump(&m);
	code = finish(&m);
	snprintf(line, sizeof(line), "%d", code);
	status_line("exit", line);
	_exit(0);
}
