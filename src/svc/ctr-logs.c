/* `logs` (ctr.h): a container's output from ctr.log.1 then ctr.log, whose
 * records (CRI format, ctr-mon-io.h) are turned back into its stdout and
 * stderr; with timestamps, each line with the time it was logged; tail:
 * only the last N lines (a partial last line counts); follow: then new
 * output (inotify on the container's directory, through rotations) until
 * the container no longer runs.
 *
 * Map: records - files - follow - vs_svc_ctr_logs. */
#include "svc/ctr.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 65536
#define FOLLOW_CHECK_MS 250 /* how often -f checks that the container still runs */

struct reader {
	const struct vs_ctr_logs_opts *o;
	bool stopped; /* the writer said stop */
	bool counting; /* the first --tail pass: count lines, print nothing */
	uint64_t lines; /* lines seen (a partial one too) */
	uint64_t skip; /* lines still to skip (--tail) */
	bool mid_line[2]; /* stdout, stderr: a partial record left a line open */
	bool skipping[2]; /* stdout, stderr: the open line is skipped */
	char *rest; /* an incomplete record at the end of what was read */
	size_t n_rest;
};

static void out(struct reader *r, int stream, const char *s, size_t n)
{
	if (!r->stopped && n > 0 && !r->o->write(r->o->ctx, stream, s, n))
		r->stopped = true;
}

/* One record (without its newline): "TIME STREAM F|P TEXT". A line that
 * is not a record (a log from before records) is printed as it is. */
static void record(struct reader *r, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *text;
	bool full, err, starts;
	int fd;

	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s)) : NULL;
	if (!sp2 || (size_t)(sp2 - s) + 3 > n || sp2[2] != ' ' ||
	    (sp2[1] != 'F' && sp2[1] != 'P')) {
		sp1 = sp2 = NULL;
	}
	full = !sp2 || sp2[1] == 'F';
	err = sp1 && sp2 - sp1 == 7 && !strncmp(sp1 + 1, "stderr", 6);
	text = sp2 ? sp2 + 3 : s;
	starts = !r->mid_line[err];
	r->mid_line[err] = !full;
	if (starts) { /* lines are counted, and skipped, from their first record */
		r->lines++;
		r->skipping[err] = r->skip > 0;
		r->skip -= r->skip > 0;
	}
	if (r->counting || r->skipping[err])
		return;
	fd = err ? 2 : 1;
	if (r->o->timestamps && sp1 && starts) {
		out(r, fd, s, (size_t)(sp1 - s));
		out(r, fd, " ", 1);
	}
	out(r, fd, text, n - (size_t)(text - s));
	if (full)
		out(r, fd, "\n", 1);
}

/* Reads fd to its end, handing complete records on; keeps the rest. */
static void drain(struct reader *r, int fd)
{
	char *buf = xmalloc(CHUNK);
	ssize_t n;

	while (!r->stopped && ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR))) {
		size_t start = 0;

		if (n < 0)
			continue;
		r->rest = xrealloc(r->rest, r->n_rest + (size_t)n);
		memcpy(r->rest + r->n_rest, buf, (size_t)n);
		r->n_rest += (size_t)n;
		for (char *nl; (nl = memchr(r->rest + start, '\n', r->n_rest - start));) {
			record(r, r->rest + start, (size_t)(nl - r->rest) - start);
			start = (size_t)(nl - r->rest) + 1;
		}
		memmove(r->rest, r->rest + start, r->n_rest - start);
		r->n_rest -= start;
	}
	free(buf);
}

/* ctr.log.1 then ctr.log; the fd of ctr.log stays open in *cur (or -1). */
static void read_both(struct reader *r, const char *log, const char *old, int *cur)
{
	_cleanup_close_ int fd = open(old, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		drain(r, fd);
	r->n_rest = 0; /* a torn record at the end of the rotated file */
	*cur = open(log, O_RDONLY | O_CLOEXEC);
	if (*cur >= 0)
		drain(r, *cur);
}

static bool running(struct vs_svc *svc, const char *name)
{
	struct vs_ctr_info info;
	bool yes;

	if (vs_svc_ctr_inspect(svc, name, &info, NULL) < 0)
		return false;
	yes = info.state == VS_CTR_ST_RUNNING;
	vs_ctr_info_clear(&info);
	return yes;
}

/* Has the log been rotated away from under fd? Then finish it, go on with
 * the new file. */
static void follow_rotation(struct reader *r, const char *log, int *fd)
{
	struct stat a, b;

	if (*fd >= 0 && fstat(*fd, &a) == 0 && stat(log, &b) == 0 && a.st_ino == b.st_ino)
		return;
	if (*fd >= 0) {
		drain(r, *fd);
		close(*fd);
	}
	r->n_rest = 0;
	*fd = open(log, O_RDONLY | O_CLOEXEC);
}

static void follow(struct reader *r, struct vs_svc *svc, const char *name, const char *log, int fd)
{
	_cleanup_free_ char *dir = xstrdup(log);
	_cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char ev[4096];

	*strrchr(dir, '/') = 0;
	if (in >= 0)
		inotify_add_watch(in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
	for (bool live = true; live && !r->stopped;) {
		struct pollfd p = { .fd = in, .events = POLLIN };

		/* the last look at the log comes after seeing the end */
		live = running(svc, name);
		if (poll(&p, 1, live ? FOLLOW_CHECK_MS : 0) > 0)
			while (read(in, ev, sizeof(ev)) > 0)
				;
		follow_rotation(r, log, &fd);
		if (fd >= 0)
			drain(r, fd);
	}
	if (fd >= 0)
		close(fd);
}

int vs_svc_ctr_logs(struct vs_svc *svc, const char *key, const struct vs_ctr_logs_opts *o,
		    struct vs_err **err)
{
	_cleanup_free_ char *log = NULL, *old = NULL;
	struct reader r = { .o = o };
	int fd = -1, rc = vs_svc_ctr_log_path(svc, key, &log, &old, err);

	if (rc < 0)
		return rc;
	if (o->tail >= 0) {
		r.counting = true;
		read_both(&r, log, old, &fd);
		if (fd >= 0)
			close(fd);
		free(r.rest);
		r = (struct reader){ .o = o,
				     .skip = r.lines > (uint64_t)o->tail ?
						     r.lines - (uint64_t)o->tail :
						     0 };
	}
	read_both(&r, log, old, &fd);
	if (o->follow)
		follow(&r, svc, key, log, fd);
	else if (fd >= 0)
		close(fd);
	free(r.rest);
	return 0;
}

/* vs_svc_ctr_log_decode's writer: appends to a growing buffer. */
struct plain {
	char *buf;
	size_t len, cap;
};

static bool plain_write(void *ctx, int stream, const char *buf, size_t n)
{
	struct plain *p = ctx;

	(void)stream;
	if (p->len + n + 1 > p->cap) {
		p->cap = (p->len + n + 1) * 2;
		p->buf = xrealloc(p->buf, p->cap);
	}
	memcpy(p->buf + p->len, buf, n);
	p->len += n;
	p->buf[p->len] = 0;
	return true;
}

char *vs_svc_ctr_log_decode(const char *buf, size_t n, size_t *used)
{
	struct plain p = { .buf = xzalloc(1), .cap = 1 };
	struct vs_ctr_logs_opts o = { .tail = -1, .write = plain_write, .ctx = &p };
	struct reader r = { .o = &o };
	size_t start = 0;

	for (const char *nl; (nl = memchr(buf + start, '\n', n - start));) {
		record(&r, buf + start, (size_t)(nl - buf) - start);
		start = (size_t)(nl - buf) + 1;
	}
	*used = start;
	return p.buf;
}
