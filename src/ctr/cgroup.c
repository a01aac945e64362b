/* cgroups: layout detection, placement, creation, pids, freeze, removal.
 * The per-controller limit files are written by cgroup-limits.c.
 *
 * Map: path resolution | detection (open/free) | create | enter/pids |
 * freeze | destroy. */
#include "ctr/cgroup.h"
#include "ctr/cgroup-internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool has_dotdot(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, ".."))) {
		if ((s == p || s[-1] == '/') && (s[2] == 0 || s[2] == '/'))
			return true;
		s += 2;
	}
	return false;
}

/* "/a//b/./c/" -> "/a/b/c"; "/", "//" and "/." -> "/" (so that the root
 * cgroup is recognised however it is spelt). */
static char *canonical(const char *p)
{
	char *out = xmalloc(strlen(p) + 2), *o = out;

	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n && !(n == 1 && p[0] == '.')) {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == out)
		*o++ = '/';
	*o = 0;
	return out;
}

/* True if a is b or one of its ancestors (both canonical). */
static bool is_ancestor(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == 0 || b[n] == '/');
}

int vs_cgroup_check_placement(const char *path, const char *self_cgroup, struct vs_err **err)
{
	_cleanup_free_ char *copy = xstrdup(self_cgroup ? self_cgroup : "");
	char *save = NULL;

	if (strcmp(path, "/") == 0)
		return vs_err_set(err, -EINVAL,
				  "cgroupsPath \"/\" is the host's root cgroup: refusing to place "
				  "a container there");
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *mine = strchr(l, ':');
		_cleanup_free_ char *c = NULL;

		mine = mine ? strchr(mine + 1, ':') : NULL;
		if (!mine)
			continue;
		c = canonical(mine + 1);
		if (is_ancestor(path, c))
			return vs_err_set(err, -EINVAL,
					  "cgroupsPath %s holds the runtime's own cgroup (%s): "
					  "refusing to place a container there",
					  path, c);
	}
	return 0;
}

int vs_cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
			   struct vs_err **err)
{
	const char *c1, *c2;

	if (!cgroups_path || !*cgroups_path) {
		*out = xasprintf("/vessel/%s", id);
		return 0;
	}
	if (has_dotdot(cgroups_path))
		return vs_err_set(err, -EINVAL, "invalid cgroupsPath %s: contains ..",
				  cgroups_path);
	if (cgroups_path[0] == '/') {
		*out = canonical(cgroups_path);
		return 0;
	}
	c1 = strchr(cgroups_path, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2) /* systemd "slice:prefix:name", accepted and mapped to cgroupfs */
		*out = xasprintf("/vessel/%.*s/%.*s-%s", (int)(c1 - cgroups_path), cgroups_path,
				 (int)(c2 - c1 - 1), c1 + 1, c2 + 1);
	else
		*out = xasprintf("/vessel/%s", cgroups_path);
	return 0;
}

bool cg_exists(const char *dir, const char *file)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

static void add_hier(struct vs_cgroup *cg, const char *name, const char *mnt, bool v2)
{
	struct vs_cgroup_hier *h;

	cg->h = xrealloc(cg->h, (cg->n + 1) * sizeof(*cg->h));
	h = &cg->h[cg->n++];
	h->name = xstrdup(name);
	h->mnt = xstrdup(mnt);
	h->dir = xasprintf("%s%s", mnt, cg->path);
	h->v2 = v2;
}

/* Each directory under fsroot with a cgroup.procs is a hierarchy; symlinks
 * such as cpu -> cpu,cpuacct are recognised by inode and kept once. This
 * runs on every command, so it stays at one fstatat per entry. */
static int scan_v1(struct vs_cgroup *cg, const char *fsroot)
{
	DIR *d = opendir(fsroot);
	struct dirent *de;
	struct stat seen[32], sb;
	size_t nseen = 0;
	char p[PATH_MAX];

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		bool dup = false;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &sb, 0) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		for (size_t i = 0; i < nseen; i++)
			dup |= seen[i].st_ino == sb.st_ino && seen[i].st_dev == sb.st_dev;
		snprintf(p, sizeof(p), "%s/%s", fsroot, de->d_name);
		if (dup || nseen == VS_ARRAY_SIZE(seen) || !cg_exists(p, "cgroup.procs"))
			continue;
		seen[nseen++] = sb;
		add_hier(cg, de->d_name, p, cg_exists(p, "cgroup.controllers"));
	}
	closedir(d);
	return 0;
}

int vs_cgroup_open(const char *fsroot, const char *path, struct vs_cgroup **out,
		   struct vs_err **err)
{
	struct vs_cgroup *cg;
	int rc = 0;

	if (path[0] != '/' || has_dotdot(path))
		return vs_err_set(err, -EINVAL, "invalid cgroup path %s", path);
	cg = xzalloc(sizeof(*cg));
	cg->path = xstrdup(path);
	if (cg_exists(fsroot, "cgroup.controllers")) {
		cg->v2 = true;
		add_hier(cg, "unified", fsroot, true);
	} else {
		rc = scan_v1(cg, fsroot);
	}
	if (rc == 0 && cg->n == 0)
		rc = -ENOENT;
	if (rc < 0) {
		vs_cgroup_free(cg);
		return vs_err_setsys(err, rc, "no cgroup hierarchy found under %s", fsroot);
	}
	*out = cg;
	return 0;
}

void vs_cgroup_free(struct vs_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].name);
		free(cg->h[i].mnt);
		free(cg->h[i].dir);
	}
	free(cg->h);
	free(cg->path);
	free(cg);
}

bool vs_cgroup_is_v2(const struct vs_cgroup *cg)
{
	return cg->v2;
}

size_t vs_cgroup_n_hier(const struct vs_cgroup *cg)
{
	return cg->n;
}

const char *vs_cgroup_hier_name(const struct vs_cgroup *cg, size_t i)
{
	return cg->h[i].name;
}

const char *vs_cgroup_hier_dir(const struct vs_cgroup *cg, size_t i)
{
	return cg->h[i].dir;
}

int cg_write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		return -errno ? -errno : -EIO;
	return 0;
}

int cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char p[PATH_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks:
 * copy the parent's values into each level we pass. */
static void cpuset_init(const char *dir)
{
	_cleanup_free_ char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	char buf[4096];

	if (!slash)
		return;
	*slash = 0;
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "cpuset.mems" : "cpuset.cpus";

		if (cg_read(dir, f, buf, sizeof(buf)) == 0 && buf[0])
			continue;
		if (cg_read(parent, f, buf, sizeof(buf)) == 0)
			cg_write(dir, f, buf);
	}
}

/* Enables the controllers available at dir in its subtree_control (v2). */
static void enable_controllers(const char *dir)
{
	char buf[1024], one[64], *save = NULL, *tok;

	if (cg_read(dir, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		snprintf(one, sizeof(one), "+%s", tok);
		cg_write(dir, "cgroup.subtree_control", one);
	}
}

/* In hybrid mode the unified hierarchy is the host's: we only place tasks
 * there and never change its subtree_control. */
static int mkdir_levels(const struct vs_cgroup_hier *h, bool pure_v2, struct vs_err **err)
{
	_cleanup_free_ char *p = xstrdup(h->dir);
	size_t base = strlen(h->mnt);

	for (char *s = p + base + 1;; s++) {
		bool end = *s == 0;

		if (*s != '/' && !end)
			continue;
		*s = 0;
		if (pure_v2) {
			char *slash = strrchr(p, '/');

			*slash = 0;
			enable_controllers(p);
			*slash = '/';
		}
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vs_err_setsys(err, -errno, "creating cgroup %s", p);
		if (cg_exists(p, "cpuset.cpus") && !h->v2)
			cpuset_init(p);
		if (end)
			return 0;
		*s = '/';
	}
}

int vs_cgroup_create(struct vs_cgroup *cg, struct vs_err **err)
{
	int rc;

	for (size_t i = 0; i < cg->n; i++)
		if ((rc = mkdir_levels(&cg->h[i], cg->v2, err)) < 0)
			return rc;
	return 0;
}

int vs_cgroup_enter(struct vs_cgroup *cg, pid_t pid, struct vs_err **err)
{
	char buf[32];
	int rc;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++)
		if ((rc = cg_write(cg->h[i].dir, "cgroup.procs", buf)) < 0)
			return vs_err_setsys(err, rc, "adding %d to cgroup %s", (int)pid,
					     cg->h[i].dir);
	return 0;
}

int vs_cgroup_pids(struct vs_cgroup *cg, pid_t **out, size_t *n)
{
	char p[PATH_MAX], line[32];
	pid_t *v = NULL;
	size_t cnt = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/cgroup.procs", cg->h[0].dir);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = (pid_t)atoi(line);
	}
	fclose(f);
	*out = v;
	*n = cnt;
	return 0;
}

static const struct vs_cgroup_hier *find_file(struct vs_cgroup *cg, const char *file)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg_exists(cg->h[i].dir, file))
			return &cg->h[i];
	return NULL;
}

int vs_cgroup_read_u64(struct vs_cgroup *cg, const char *file, unsigned long long *out)
{
	const struct vs_cgroup_hier *h = find_file(cg, file);
	char buf[64];
	int rc;

	if (!h)
		return -ENOENT;
	if ((rc = cg_read(h->dir, file, buf, sizeof(buf))) < 0)
		return rc;
	*out = strcmp(buf, "max") == 0 ? ~0ULL : strtoull(buf, NULL, 10);
	return 0;
}

bool vs_cgroup_is_frozen(struct vs_cgroup *cg)
{
	const struct vs_cgroup_hier *h;
	char buf[64];

	if ((h = find_file(cg, "freezer.state")) && !h->v2)
		return cg_read(h->dir, "freezer.state", buf, sizeof(buf)) == 0 &&
		       strcmp(buf, "THAWED") != 0;
	if ((h = find_file(cg, "cgroup.freeze")))
		return cg_read(h->dir, "cgroup.freeze", buf, sizeof(buf)) == 0 &&
		       strcmp(buf, "1") == 0;
	return false;
}

bool vs_cgroup_path_is_frozen(const char *path)
{
	char dir[PATH_MAX], buf[64];

	/* called by every status check: look at the one file that matters
	 * instead of scanning the hierarchies */
	if (has_dotdot(path))
		return false;
	snprintf(dir, sizeof(dir), "%s/freezer%s", VS_CGROUP_FSROOT, path);
	if (cg_read(dir, "freezer.state", buf, sizeof(buf)) == 0)
		return strcmp(buf, "THAWED") != 0;
	snprintf(dir, sizeof(dir), "%s%s", VS_CGROUP_FSROOT, path);
	return cg_read(dir, "cgroup.freeze", buf, sizeof(buf)) == 0 && strcmp(buf, "1") == 0;
}

static bool hier_populated(const struct vs_cgroup_hier *h)
{
	char buf[64];

	/* cgroup.procs has a line per process; one byte tells */
	return cg_read(h->dir, "cgroup.procs", buf, sizeof(buf)) == 0 && buf[0];
}

bool vs_cgroup_is_populated(struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (hier_populated(&cg->h[i]))
			return true;
	return false;
}

#define VS_CGROUP_FREEZE_TIMEOUT_NS (1000ULL * 1000000)

/* The cgroup2 hierarchy's cgroup.events of our cgroup (pure v2, or the
 * unified one of a hybrid host), which the kernel updates (and notifies
 * through inotify) when "populated" or "frozen" change; NULL on v1. */
static const struct vs_cgroup_hier *events_hier(struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2 && cg_exists(cg->h[i].dir, "cgroup.events"))
			return &cg->h[i];
	return NULL;
}

static bool events_has(const struct vs_cgroup_hier *h, const char *line)
{
	char buf[256], *p;
	size_t n = strlen(line);

	if (cg_read(h->dir, "cgroup.events", buf, sizeof(buf)) < 0)
		return true; /* gone: nothing left to wait for */
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == 0))
			return true;
	return false;
}

/* Waits until done(cg) or the deadline (CLOCK_MONOTONIC ns): with events,
 * woken by inotify on cgroup.events where a cgroup2 hierarchy has it;
 * otherwise (v1 has no notification for emptiness or the freezer state) by
 * a backoff from 1 to 20 ms. */
static int wait_until(struct vs_cgroup *cg, bool (*done)(struct vs_cgroup *), bool events,
		      uint64_t deadline)
{
	const struct vs_cgroup_hier *h = events ? events_hier(cg) : NULL;
	_cleanup_close_ int in = h ? inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
	char p[PATH_MAX], ev[4096];
	int backoff = 1;

	if (in >= 0) {
		snprintf(p, sizeof(p), "%s/cgroup.events", h->dir);
		if (inotify_add_watch(in, p, IN_MODIFY) < 0) {
			close(in);
			in = -1;
		}
	}
	while (!done(cg)) {
		uint64_t now = vs_now_ns();
		int ms = now >= deadline ? 0 : (int)VS_MIN((deadline - now) / 1000000 + 1, 60000);

		if (ms == 0)
			return -ETIMEDOUT;
		if (in >= 0) {
			struct pollfd pf = { .fd = in, .events = POLLIN };

			if (poll(&pf, 1, ms) > 0 && read(in, ev, sizeof(ev)) < 0 && errno != EAGAIN)
				return -errno;
			continue;
		}
		poll(NULL, 0, VS_MIN(backoff, ms));
		backoff = VS_MIN(backoff * 2, 20);
	}
	return 0;
}

static bool is_empty(struct vs_cgroup *cg)
{
	const struct vs_cgroup_hier *h = events_hier(cg);

	return h ? events_has(h, "populated 0") && !vs_cgroup_is_populated(cg) :
		   !vs_cgroup_is_populated(cg);
}

int vs_cgroup_wait_empty(struct vs_cgroup *cg, uint64_t deadline)
{
	return wait_until(cg, is_empty, true, deadline);
}

static bool reached(struct vs_cgroup *cg, bool v2, bool frozen)
{
	const struct vs_cgroup_hier *h = v2 ? events_hier(cg) : find_file(cg, "freezer.state");
	char buf[64];

	if (v2)
		return h && events_has(h, frozen ? "frozen 1" : "frozen 0");
	return h && cg_read(h->dir, "freezer.state", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, frozen ? "FROZEN" : "THAWED") == 0;
}

static bool v1_frozen(struct vs_cgroup *cg)
{
	return reached(cg, false, true);
}

static bool v1_thawed(struct vs_cgroup *cg)
{
	return reached(cg, false, false);
}

static bool v2_frozen(struct vs_cgroup *cg)
{
	return reached(cg, true, true);
}

static bool v2_thawed(struct vs_cgroup *cg)
{
	return reached(cg, true, false);
}

int vs_cgroup_freeze(struct vs_cgroup *cg, bool freeze, struct vs_err **err)
{
	const struct vs_cgroup_hier *h = find_file(cg, "freezer.state");
	const char *file = "freezer.state", *val = freeze ? "FROZEN" : "THAWED";
	bool (*done)(struct vs_cgroup *) = freeze ? v1_frozen : v1_thawed;
	int rc;

	if (!h || h->v2) {
		h = find_file(cg, "cgroup.freeze");
		file = "cgroup.freeze";
		val = freeze ? "1" : "0";
		done = freeze ? v2_frozen : v2_thawed;
	}
	if (!h)
		return vs_err_set(err, -ENOTSUP, "no freezer cgroup for %s", cg->path);
	if ((rc = cg_write(h->dir, file, val)) < 0)
		return vs_err_setsys(err, rc, "writing %s/%s", h->dir, file);
	/* v1 passes through FREEZING; v2 reports "frozen 1" in cgroup.events */
	if (wait_until(cg, done, h->v2, vs_now_ns() + VS_CGROUP_FREEZE_TIMEOUT_NS) < 0)
		return vs_err_set(err, -ETIMEDOUT, "cgroup %s did not reach %s", h->dir, val);
	return 0;
}

/* rmdir in every hierarchy; 0 when all are gone, -EBUSY while some is not */
static int rmdir_all(struct vs_cgroup *cg, const struct vs_cgroup_hier **busy, struct vs_err **err)
{
	int rc = 0;

	*busy = NULL;
	for (size_t i = 0; i < cg->n; i++) {
		if (rmdir(cg->h[i].dir) == 0 || errno == ENOENT)
			continue;
		if (errno != EBUSY)
			return vs_err_setsys(err, -errno, "removing cgroup %s", cg->h[i].dir);
		if (!*busy)
			*busy = &cg->h[i];
		rc = -EBUSY;
	}
	return rc;
}

int vs_cgroup_destroy(struct vs_cgroup *cg, uint64_t deadline, struct vs_err **err)
{
	const struct vs_cgroup_hier *busy;
	int rc;

	/* EBUSY on an empty cgroup is the kernel still releasing exiting
	 * tasks: wait for it (one deadline for all hierarchies). A cgroup that
	 * still has processes keeps them: they are not ours to remove. */
	while ((rc = rmdir_all(cg, &busy, err)) == -EBUSY) {
		if (hier_populated(busy))
			return vs_err_set(err, -EBUSY,
					  "cgroup %s still has processes that are not the "
					  "container's: left in place",
					  busy->dir);
		if (wait_until(cg, is_empty, true, deadline) < 0 || vs_now_ns() >= deadline)
			return vs_err_set(err, -EBUSY, "cgroup %s is still busy: left in place",
					  busy->dir);
		/* empty but not yet removable: no event says when, back off */
		poll(NULL, 0, 1);
	}
	return rc;
}

unsigned long long vs_cgroup_oom_kills(struct vs_cgroup *cg)
{
	const char *file = cg->v2 ? "memory.events" : "memory.oom_control";
	const struct vs_cgroup_hier *h = find_file(cg, file);
	char buf[1024], *p;

	if (!h || cg_read(h->dir, file, buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "oom_kill ");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

/* What `events` waits on: inotify on cgroup.events (population) and v2
 * memory.events (OOM), and a v1 memory.oom_control eventfd, in one epoll. */
struct vs_cgroup_events {
	int ep;
	int fds[3]; /* inotify, eventfd, memory.oom_control; -1 when unused */
};

static void events_add(struct vs_cgroup_events *ev, int slot, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	ev->fds[slot] = fd;
	epoll_ctl(ev->ep, EPOLL_CTL_ADD, fd, &e);
}

/* v1: an eventfd signalled at each OOM (and when the cgroup goes),
 * registered through cgroup.event_control. */
static void events_v1_oom(struct vs_cgroup_events *ev, struct vs_cgroup *cg)
{
	const struct vs_cgroup_hier *h = find_file(cg, "memory.oom_control");
	char p[PATH_MAX], line[64];
	int efd, ofd;

	if (!h || h->v2)
		return;
	snprintf(p, sizeof(p), "%s/memory.oom_control", h->dir);
	if ((ofd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		close(ofd);
		return;
	}
	snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (cg_write(h->dir, "cgroup.event_control", line) < 0) {
		close(efd);
		close(ofd);
		return;
	}
	ev->fds[2] = ofd;
	events_add(ev, 1, efd);
}

int vs_cgroup_events_open(struct vs_cgroup *cg, struct vs_cgroup_events **out)
{
	struct vs_cgroup_events *ev = xzalloc(sizeof(*ev));
	const struct vs_cgroup_hier *h = events_hier(cg);
	char p[PATH_MAX];
	int in;

	ev->fds[0] = ev->fds[1] = ev->fds[2] = -1;
	if ((ev->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(ev);
		return -errno;
	}
	if (h && (in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) >= 0) {
		snprintf(p, sizeof(p), "%s/cgroup.events", h->dir);
		inotify_add_watch(in, p, IN_MODIFY);
		snprintf(p, sizeof(p), "%s/memory.events", h->dir);
		inotify_add_watch(in, p, IN_MODIFY); /* absent on hybrid: fine */
		events_add(ev, 0, in);
	}
	events_v1_oom(ev, cg);
	if (ev->fds[0] < 0 && ev->fds[1] < 0) {
		vs_cgroup_events_close(ev);
		return -ENOTSUP;
	}
	*out = ev;
	return 0;
}

int vs_cgroup_events_fd(const struct vs_cgroup_events *ev)
{
	return ev->ep;
}

void vs_cgroup_events_drain(struct vs_cgroup_events *ev)
{
	char buf[4096];

	for (int i = 0; i < 2; i++)
		if (ev->fds[i] >= 0)
			while (read(ev->fds[i], buf, sizeof(buf)) > 0)
				;
}

void vs_cgroup_events_close(struct vs_cgroup_events *ev)
{
	if (!ev)
		return;
	for (int i = 0; i < 3; i++)
		if (ev->fds[i] >= 0)
			close(ev->fds[i]);
	close(ev->ep);
	free(ev);
}
