/* The events of the API's streams (api.h: vs_api_stream_next): one sample
 * each, as a Server-Sent Event; http.c paces them and writes them out. The
 * only state kept per stream is the previous sample (for rates). */
#include "api/internal.h"
#include "svc/ctr.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *event(json_t *j)
{
	char *text = j ? vs_json_dump(j) : NULL, *ev;

	json_decref(j);
	if (!text)
		return NULL;
	ev = xasprintf("data: %s\n\n", text);
	free(text);
	return ev;
}

static char *ctr_stats_next(struct vs_api_ctx *ctx, const char *id, void **state)
{
	struct vs_ctr_stats *prev = *state, cur = { 0 };
	char *ev;

	if (ctx->be->ctr_stats(ctx->svc, id, &cur, NULL) < 0)
		return NULL; /* removed */
	ev = event(vs_ctr_stats_to_json(prev, &cur));
	if (!prev)
		*state = prev = xzalloc(sizeof(*prev));
	vs_ctr_stats_clear(prev);
	*prev = cur;
	return ev;
}

static char *vm_stats_next(struct vs_api_ctx *ctx, const char *name, void **state)
{
	struct vs_vm_stats *prev = *state, cur = { 0 };
	char *ev;

	if (ctx->be->vm_stats(ctx->svc, name, &cur, NULL) < 0)
		return NULL; /* removed */
	ev = event(vs_vm_stats_to_json(prev, &cur));
	if (!prev)
		*state = prev = xzalloc(sizeof(*prev));
	vs_vm_stats_clear(prev);
	*prev = cur;
	return ev;
}

/* logs?follow=true: what the log gained since the last event. */
struct log_follow {
	uint64_t off; /* bytes of the current ctr.log already sent */
	uint64_t ino; /* its inode: another one means it was rotated */
	bool started;
};

#define FOLLOW_MAX (64u << 10) /* bytes per event at most: the rest next time */

/* Up to max bytes of path from off (advanced); NUL bytes become '?'. */
static size_t read_from(const char *path, uint64_t *off, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : pread(fd, buf, max, (off_t)*off);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	*off += (uint64_t)n;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = '?';
	return (size_t)n;
}

static char *ctr_logs_next(struct vs_api_ctx *ctx, const char *id, void **state)
{
	struct log_follow *f = *state;
	_cleanup_free_ char *path = NULL, *old = NULL, *buf = NULL;
	struct vs_ctr_info info = { 0 };
	struct stat st;
	size_t n = 0;
	bool running;

	if (ctx->be->ctr_log_path(ctx->svc, id, &path, &old, NULL) < 0 ||
	    ctx->be->ctr_inspect(ctx->svc, id, &info, NULL) < 0)
		return NULL; /* removed */
	running = info.state == VS_CTR_ST_RUNNING;
	vs_ctr_info_clear(&info);
	if (!f)
		*state = f = xzalloc(sizeof(*f));
	if (stat(path, &st) < 0)
		st = (struct stat){ 0 };
	if (!f->started) { /* only what comes after the request: GET logs has the rest */
		*f = (struct log_follow){ .off = (uint64_t)st.st_size,
					  .ino = st.st_ino,
					  .started = true };
		return xstrdup(": following\n\n");
	}
	buf = xmalloc(FOLLOW_MAX + 1);
	if (st.st_ino != f->ino) { /* rotated: the rest of the old one first */
		n = read_from(old, &f->off, buf, FOLLOW_MAX);
		if (n == 0)
			*f = (struct log_follow){ .ino = st.st_ino, .started = true };
	}
	if (n == 0)
		n = read_from(path, &f->off, buf, FOLLOW_MAX);
	if (n == 0) /* nothing new: a comment keeps the connection (and notices a gone client) */
		return running ? xstrdup(": \n\n") : NULL;
	{ /* whole records only (ctr-logs.c); a torn last one is read again next time */
		size_t used;
		_cleanup_free_ char *text = vs_svc_ctr_log_decode(buf, n, &used);

		f->off -= n - used;
		if (!used)
			return running ? xstrdup(": \n\n") : NULL;
		api_utf8_clean(text);
		return event(json_pack("{s:s}", "text", text));
	}
}

char *vs_api_stream_next(struct vs_api_ctx *ctx, enum vs_api_stream kind, const char *key,
			 void **state)
{
	switch (kind) {
	case VS_API_STREAM_CTR_STATS:
		return ctr_stats_next(ctx, key, state);
	case VS_API_STREAM_VM_STATS:
		return vm_stats_next(ctx, key, state);
	case VS_API_STREAM_CTR_LOGS:
		return ctr_logs_next(ctx, key, state);
	default:
		return NULL;
	}
}

void vs_api_stream_free(enum vs_api_stream kind, void *state)
{
	if (kind == VS_API_STREAM_CTR_STATS && state)
		vs_ctr_stats_clear(state);
	if (kind == VS_API_STREAM_VM_STATS && state)
		vs_vm_stats_clear(state);
	free(state);
}
