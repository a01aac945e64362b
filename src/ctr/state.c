/* Container state on disk (state.json) and the derived live status. */
#include "ctr/state.h"
#include "ctr/cgroup.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX_SIZE (4 * VS_MIB)

bool vs_ctr_id_is_valid(const char *id)
{
	if (!id || !*id || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
			return false;
	return true;
}

char *vs_state_dir(const char *root, const char *id)
{
	return xasprintf("%s/%s", root, id);
}

/* pid, start_time and cgroup_path come first, so that a truncated file
 * still tells delete --force what to clean up (vs_state_salvage). */
static json_t *state_to_disk_json(const struct vs_ctr_state *st)
{
	json_t *j = json_pack("{s:i, s:I, s:s, s:b, s:b, s:b, s:s, s:s, s:s, s:s}", "pid",
			      (int)st->pid, "start_time", (json_int_t)st->start_time, "cgroup_path",
			      st->cgroup_path ? st->cgroup_path : "", "pid_ns", st->pid_ns,
			      "creating", st->creating, "cgroup_shared", st->cgroup_shared, "id",
			      st->id, "bundle", st->bundle, "rootfs", st->rootfs, "created",
			      st->created);

	if (!j)
		xoom();
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	return j;
}

int vs_state_save(const char *root, const struct vs_ctr_state *st, struct vs_err **err)
{
	_cleanup_free_ char *dir = vs_state_dir(root, st->id);
	_cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp", dir, VS_STATE_FILE);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, VS_STATE_FILE);
	json_t *j = state_to_disk_json(st);
	int rc = json_dump_file(j, tmp, JSON_COMPACT);

	json_decref(j);
	if (rc < 0) {
		unlink(tmp);
		return vs_err_set(err, -EIO, "writing %s failed", tmp);
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
		return vs_err_setsys(err, rc, "renaming %s", tmp);
	}
	return 0;
}

static int state_from_json(json_t *j, struct vs_ctr_state *st)
{
	const char *id = NULL, *bundle = NULL, *rootfs = NULL, *created = NULL, *cg = NULL;
	json_int_t start = 0;
	int pid = 0, pid_ns = 0, creating = 0, shared = 0;
	json_t *ann = NULL;

	if (json_unpack(j, "{s:s, s:i, s:I, s:s, s:s, s:s, s?s, s?b, s?b, s?b, s?o}", "id", &id,
			"pid", &pid, "start_time", &start, "bundle", &bundle, "rootfs", &rootfs,
			"created", &created, "cgroup_path", &cg, "pid_ns", &pid_ns, "creating",
			&creating, "cgroup_shared", &shared, "annotations", &ann) < 0)
		return -EINVAL;
	st->creating = creating;
	st->cgroup_shared = shared;
	st->id = xstrdup(id);
	st->pid = pid;
	st->start_time = (uint64_t)start;
	st->bundle = xstrdup(bundle);
	st->rootfs = xstrdup(rootfs);
	st->created = xstrdup(created);
	st->cgroup_path = cg && *cg ? xstrdup(cg) : NULL;
	st->pid_ns = pid_ns;
	st->annotations = ann ? json_incref(ann) : NULL;
	return 0;
}

int vs_state_load(const char *root, const char *id, struct vs_ctr_state **out, struct vs_err **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct vs_ctr_state *st;
	size_t len;
	json_t *j;
	int rc;

	if (!vs_ctr_id_is_valid(id))
		return vs_err_set(err, -EINVAL, "invalid container id format: %s", id);
	path = xasprintf("%s/%s/%s", root, id, VS_STATE_FILE);
	rc = vs_read_file(path, STATE_MAX_SIZE, &buf, &len);
	if (rc == -ENOENT)
		return vs_err_set(err, rc, "container \"%s\" does not exist", id);
	if (rc < 0)
		return vs_err_setsys(err, rc, "reading %s", path);
	j = json_loadb((const char *)buf, len, 0, NULL);
	st = xzalloc(sizeof(*st));
	rc = j ? state_from_json(j, st) : -EINVAL;
	json_decref(j);
	if (rc < 0) {
		vs_state_free(st);
		return vs_err_set(err, rc, "%s: corrupt state file", path);
	}
	*out = st;
	return 0;
}

void vs_state_free(struct vs_ctr_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->cgroup_path);
	json_decref(st->annotations);
	free(st);
}

/* Field 3 (state) and 22 (starttime) of /proc/<pid>/stat; the command name
 * (field 2) may contain spaces and parentheses, so parse after the last ')'. */
static int read_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int field = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	*state = *p;
	while (field < 22 && (p = strchr(p, ' ')))
		p++, field++;
	if (!p)
		return -EIO;
	*start = strtoull(p, NULL, 10);
	return 0;
}

int vs_proc_start_time(pid_t pid, uint64_t *out)
{
	char state;

	return read_stat(pid, &state, out);
}

bool vs_proc_is_alive(pid_t pid, uint64_t start_time)
{
	uint64_t start = 0;
	char state = 0;

	if (pid <= 0 || read_stat(pid, &state, &start) < 0)
		return false;
	return state != 'Z' && state != 'X' && start == start_time;
}

enum vs_ctr_status vs_state_status(const char *root, const struct vs_ctr_state *st)
{
	_cleanup_free_ char *fifo = NULL;
	struct stat sb;

	if (!vs_proc_is_alive(st->pid, st->start_time))
		return VS_CTR_STOPPED;
	if (st->creating)
		return VS_CTR_CREATING;
	fifo = xasprintf("%s/%s/%s", root, st->id, VS_STATE_FIFO);
	if (stat(fifo, &sb) == 0)
		return VS_CTR_CREATED;
	if (st->cgroup_path && vs_cgroup_path_is_frozen(st->cgroup_path))
		return VS_CTR_PAUSED;
	return VS_CTR_RUNNING;
}

const char *vs_ctr_status_name(enum vs_ctr_status s)
{
	static const char *const names[] = { "creating", "created", "running", "paused",
					     "stopped" };

	return names[s];
}

json_t *vs_state_to_json(const struct vs_ctr_state *st, enum vs_ctr_status status)
{
	json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion", "1.0.2-dev",
			      "id", st->id, "pid", status == VS_CTR_STOPPED ? 0 : (int)st->pid,
			      "status", vs_ctr_status_name(status), "bundle", st->bundle, "rootfs",
			      st->rootfs, "created", st->created, "owner", "");

	if (!j)
		xoom();
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	return j;
}

char *vs_rfc3339_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

int vs_write_pid_file(const char *path, pid_t pid, struct vs_err **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	_cleanup_close_ int fd = -1;
	struct stat sb;
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);

	/* never block on (or write into) a FIFO or device someone left there */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return vs_err_setsys(err, -errno, "writing pid file %s", path);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return vs_err_set(err, -EINVAL, "writing pid file %s: %s is not a regular file",
				  path, tmp);
	if (write(fd, buf, (size_t)len) != len || rename(tmp, path) < 0)
		return vs_err_setsys(err, -errno, "writing pid file %s", path);
	return 0;
}

int vs_proc_wait_gone(pid_t pid, uint64_t start_time, uint64_t deadline)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* the pidfd is taken before the identity check: from then on it
	 * cannot name a recycled pid */
	while (fd >= 0 && vs_proc_is_alive(pid, start_time)) {
		uint64_t now = vs_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)VS_MIN((deadline - now) / 1000000 + 1, 60000)) > 0)
			return 0;
	}
	return 0;
}

static char *dupn(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

/* The number after "key": in text, or -1. */
static long long find_number(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ')
		p++;
	return isdigit((unsigned char)*p) ? strtoll(p, NULL, 10) : -1;
}

/* The string after "key":" in text (no escapes: ours never has any), or NULL. */
static char *find_string(const char *text, const char *key)
{
	const char *p = strstr(text, key), *e;

	if (!p)
		return NULL;
	p += strlen(key);
	e = strchr(p, '"');
	return e && e > p ? dupn(p, (size_t)(e - p)) : NULL;
}

/* True if /proc/<pid>/fdinfo/<fd> says O_PATH: the init's state directory
 * fd is one; the lock fds other runtime commands hold are not. */
static bool fd_is_opath(const char *pid, const char *fd)
{
	char p[600], buf[256], *f;
	_cleanup_close_ int in = -1;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%s/fdinfo/%s", pid, fd);
	if ((in = open(p, O_RDONLY | O_CLOEXEC)) < 0 || (n = read(in, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = 0;
	f = strstr(buf, "flags:");
	return f && (strtoul(f + 6, NULL, 8) & O_PATH);
}

/* A process with an O_PATH fd open on dir (same device and inode). */
static pid_t find_holder(const char *dir)
{
	struct stat want, sb;
	DIR *proc;
	struct dirent *de;
	pid_t found = 0;

	if (stat(dir, &want) < 0 || !(proc = opendir("/proc")))
		return 0;
	while (!found && (de = readdir(proc))) {
		char fds[300], link[600];
		DIR *d;
		struct dirent *f;

		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == getpid())
			continue;
		snprintf(fds, sizeof(fds), "/proc/%s/fd", de->d_name);
		if (!(d = opendir(fds)))
			continue;
		while (!found && (f = readdir(d))) {
			snprintf(link, sizeof(link), "%s/%s", fds, f->d_name);
			if (f->d_name[0] != '.' && stat(link, &sb) == 0 &&
			    sb.st_dev == want.st_dev && sb.st_ino == want.st_ino &&
			    fd_is_opath(de->d_name, f->d_name))
				found = atoi(de->d_name);
		}
		closedir(d);
	}
	closedir(proc);
	return found;
}

/* The cgroup path create recorded as the target of <dir>/VS_STATE_CGROUP_LINK
 * (a symlink: written once, atomically, apart from state.json). Never
 * taken from the init's /proc/<pid>/cgroup: before create moves it there,
 * that is create's own cgroup, which is not the container's to remove. */
static char *cgroup_link(const char *dir)
{
	char buf[PATH_MAX];
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, VS_STATE_CGROUP_LINK);
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

struct vs_ctr_state *vs_state_salvage(const char *root, const char *id)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", root, id, VS_STATE_FILE);
	_cleanup_free_ char *dir = vs_state_dir(root, id);
	_cleanup_free_ uint8_t *buf = NULL;
	struct vs_ctr_state *st = xzalloc(sizeof(*st));
	size_t len = 0;
	long long pid, start;

	st->id = xstrdup(id);
	if (vs_read_file(path, STATE_MAX_SIZE, &buf, &len) == 0) {
		char *text = dupn((const char *)buf, len);

		pid = find_number(text, "\"pid\":");
		start = find_number(text, "\"start_time\":");
		if (pid > 0 && start > 0 && vs_proc_is_alive((pid_t)pid, (uint64_t)start)) {
			st->pid = (pid_t)pid;
			st->start_time = (uint64_t)start;
		}
		st->cgroup_path = find_string(text, "\"cgroup_path\":\"");
		st->pid_ns = strstr(text, "\"pid_ns\":true") != NULL;
		free(text);
	}
	if (!st->pid && (pid = find_holder(dir)) > 0 &&
	    vs_proc_start_time((pid_t)pid, &st->start_time) == 0)
		st->pid = (pid_t)pid;
	if (!st->cgroup_path)
		st->cgroup_path = cgroup_link(dir);
	/* what else is in that cgroup is unknown: never signal all of it */
	st->cgroup_shared = true;
	st->creating = true; /* no poststop hooks: the bundle is unknown */
	return st;
}
