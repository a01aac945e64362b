/* Server-Sent Events for `vessel serve` (http.c): a reply that streams
 * one event a second (api.h: vs_api_stream_next) until the object goes,
 * the client goes or the server stops. Between events the connection is
 * suspended (MHD_suspend_connection); one ticker thread resumes the ones
 * that are due. Per stream: the previous sample and the event being sent. */
#ifndef VS_API_SSE_H
#define VS_API_SSE_H

#include "api/api.h"

#include <microhttpd.h>

/* At most this many streams at once (503 beyond). */
#define VS_API_SSE_MAX 32
/* One event per this many ns. */
#define VS_API_SSE_PERIOD_NS 1000000000ULL

struct api_sse;

/* Starts the ticker thread. ctx is used from MHD's thread only. */
int api_sse_new(struct vs_api_ctx *ctx, struct api_sse **out);
/* Queues the stream reply on c (takes key). */
enum MHD_Result api_sse_start(struct api_sse *s, struct MHD_Connection *c, enum vs_api_stream kind,
			      char *key);
/* Ends every stream (resumes them so they finish) and the ticker; call
 * before MHD_stop_daemon, then api_sse_free after it. */
void api_sse_stop(struct api_sse *s);
void api_sse_free(struct api_sse *s);

#endif
