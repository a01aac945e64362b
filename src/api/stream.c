/* The events of the API's streams (api.h: vs_api_stream_next): one sample
 * each, as a Server-Sent Event; http.c paces them and writes them out. The
 * only state kept per stream is the previous sample (for rates). */
#include "api/internal.h"
#include "common/json.h"
#include "common/util.h"

#include <stdlib.h>

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

char *vs_api_stream_next(struct vs_api_ctx *ctx, enum vs_api_stream kind, const char *key,
			 void **state)
{
	switch (kind) {
	case VS_API_STREAM_CTR_STATS:
		return ctr_stats_next(ctx, key, state);
	case VS_API_STREAM_VM_STATS:
		return vm_stats_next(ctx, key, state);
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
