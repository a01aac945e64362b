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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static json_t *state_to_disk_json(const struct vs_ctr_state *st)
{
	json_t *j =
	    json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:b}", "id", st->id, "pid", (int)st->pid,
		      "start_time", (json_int_t)st->start_time, "bundle", st->bundle, "rootfs",
		      st->rootfs, "created", st->created, "cgroup_path",
		      st->cgroup_path ? st->cgroup_path : "", "pid_ns", st->pid_ns);

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
	int pid = 0, pid_ns = 0;
	json_t *ann = NULL;

	if (json_unpack(j, "{s:s, s:i, s:I, s:s, s:s, s:s, s?s, s?b, s?o}", "id", &id, "pid", &pid,
			"start_time", &start, "bundle", &bundle, "rootfs", &rootfs, "created",
			&created, "cgroup_path", &cg, "pid_ns", &pid_ns, "annotations", &ann) < 0)
		return -EINVAL;
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
	fifo = xasprintf("%s/%s/%s", root, st->id, VS_STATE_FIFO);
	if (stat(fifo, &sb) == 0)
		return VS_CTR_CREATED;
	if (st->cgroup_path && vs_cgroup_path_is_frozen(st->cgroup_path))
		return VS_CTR_PAUSED;
	return VS_CTR_RUNNING;
}

const char *vs_ctr_status_name(enum vs_ctr_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};

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
