/* Server-Sent Events (sse.h). Locking: s->lock guards the list and each
 * stream's suspended flag; a stream is suspended and resumed only under it,
 * so the ticker never resumes a connection that is not suspended. Lock
 * order: s->lock, then MHD's own. */
#include "api/sse.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_NS 100000000L /* how often the ticker looks */

struct stream {
	struct api_sse *sse;
	struct MHD_Connection *conn;
	enum vs_api_stream kind;
	char *key;
	void *state; /* vs_api_stream_next's */
	char *ev; /* the event being sent, or NULL */
	size_t off, len;
	uint64_t due_ns; /* when the next event is due */
	bool suspended;
	struct stream *next;
};

struct api_sse {
	struct vs_api_ctx *ctx;
	pthread_mutex_t lock;
	pthread_t ticker;
	bool stopping;
	unsigned n;
	struct stream *list;
};

static void *ticker(void *arg)
{
	struct api_sse *s = arg;
	struct timespec ts = { .tv_nsec = TICK_NS };

	for (;;) {
		uint64_t now = vs_now_ns();
		bool stop;

		pthread_mutex_lock(&s->lock);
		stop = s->stopping;
		for (struct stream *st = s->list; st; st = st->next) {
			if (st->suspended && (stop || now >= st->due_ns)) {
				st->suspended = false;
				MHD_resume_connection(st->conn);
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (stop)
			return NULL;
		nanosleep(&ts, NULL);
	}
}

int api_sse_new(struct vs_api_ctx *ctx, struct api_sse **out)
{
	struct api_sse *s = xzalloc(sizeof(*s));
	int r;

	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	if ((r = pthread_create(&s->ticker, NULL, ticker, s)) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -r;
	}
	*out = s;
	return 0;
}

static ssize_t copy_out(struct stream *st, char *buf, size_t max)
{
	size_t n = st->len - st->off < max ? st->len - st->off : max;

	memcpy(buf, st->ev + st->off, n);
	st->off += n;
	if (st->off == st->len) {
		free(st->ev);
		st->ev = NULL;
	}
	return (ssize_t)n;
}

/* MHD's content reader: the rest of the current event, a new one when due,
 * else suspend until the ticker says it is due. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct api_sse *s = st->sse;
	uint64_t now = vs_now_ns();

	(void)pos;
	if (st->ev)
		return copy_out(st, buf, max);
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (now < st->due_ns) {
		st->suspended = true;
		MHD_suspend_connection(st->conn);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	if (!(st->ev = vs_api_stream_next(s->ctx, st->kind, st->key, &st->state)))
		return MHD_CONTENT_READER_END_OF_STREAM; /* the object is gone */
	st->off = 0;
	st->len = strlen(st->ev);
	/* on the grid, but never a burst to catch up after a slow sample */
	st->due_ns += VS_API_SSE_PERIOD_NS;
	if (st->due_ns < now)
		st->due_ns = now + VS_API_SSE_PERIOD_NS;
	return copy_out(st, buf, max);
}

/* MHD's free callback: the connection is done (client gone, end of stream). */
static void stream_free(void *cls)
{
	struct stream *st = cls;
	struct api_sse *s = st->sse;

	pthread_mutex_lock(&s->lock);
	for (struct stream **p = &s->list; *p; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	s->n--;
	pthread_mutex_unlock(&s->lock);
	vs_api_stream_free(st->kind, st->state);
	free(st->ev);
	free(st->key);
	free(st);
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *json)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result api_sse_start(struct api_sse *s, struct MHD_Connection *c, enum vs_api_stream kind,
			      char *key)
{
	struct stream *st;
	struct MHD_Response *r;
	enum MHD_Result ret;

	pthread_mutex_lock(&s->lock);
	if (s->n >= VS_API_SSE_MAX || s->stopping) {
		pthread_mutex_unlock(&s->lock);
		free(key);
		return refuse(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "{\"error\":\"too many streams open; retry later\"}");
	}
	st = xzalloc(sizeof(*st));
	*st = (struct stream){
		.sse = s, .conn = c, .kind = kind, .key = key, .due_ns = vs_now_ns(), .next = s->list
	};
	s->list = st;
	s->n++;
	pthread_mutex_unlock(&s->lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, st, stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

void api_sse_stop(struct api_sse *s)
{
	struct timespec ts = { .tv_nsec = TICK_NS };

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->ticker, NULL); /* its last round resumed every stream */
	/* let MHD's thread end them (a stream resumed is never suspended again) */
	for (int i = 0; i < 20; i++) {
		bool any;

		pthread_mutex_lock(&s->lock);
		any = s->list != NULL;
		pthread_mutex_unlock(&s->lock);
		if (!any)
			break;
		nanosleep(&ts, NULL);
	}
}

void api_sse_free(struct api_sse *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
