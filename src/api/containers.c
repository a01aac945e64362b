/* /v1/containers: the container verbs of the service layer (svc/ctr.h) as
 * REST. The create body is the container spec (docs/api/container-spec.md),
 * parsed strictly by vs_ctr_spec_from_json. {name} is a name, an id or a
 * unique id prefix, as on the command line. */
#include "api/internal.h"
#include "ctr/container.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_TIMEOUT_MAX 86400

static const char *const no_args[] = { NULL };

static json_t *info_json(struct vs_api_ctx *ctx, const struct vs_ctr_info *info)
{
	json_t *j = vs_ctr_info_to_json(info);

	json_object_set_new(j, "paused",
			    json_boolean(info->state == VS_CTR_ST_RUNNING &&
					 ctx->be->ctr_is_paused(ctx->svc, info->id)));
	return j;
}

static void reply_info(struct vs_api_ctx *ctx, const char *key, unsigned status,
		       struct vs_api_resp *resp)
{
	struct vs_ctr_info info = { 0 };
	struct vs_err *err = NULL;
	int r = ctx->be->ctr_inspect(ctx->svc, key, &info, &err);

	if (r < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, status, info_json(ctx, &info));
	vs_ctr_info_clear(&info);
}

/* The container must run: else 409 "container X is not running" (the
 * service layer's own refusal, which it codes as a bad argument). */
static bool must_run(struct vs_api_ctx *ctx, const char *key, struct vs_api_resp *resp)
{
	struct vs_ctr_info info = { 0 };
	struct vs_err *err = NULL;
	char msg[320];
	int r = ctx->be->ctr_inspect(ctx->svc, key, &info, &err);

	if (r < 0) {
		api_reply_err(resp, r, err);
		return false;
	}
	if (info.state != VS_CTR_ST_RUNNING) {
		snprintf(msg, sizeof(msg), "container %s is not running", info.name);
		api_reply_error(resp, 409, msg);
	}
	vs_ctr_info_clear(&info);
	return resp->status != 409;
}

void api_ctrs_list(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_ctr_info *v = NULL;
	struct vs_err *err = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->ctr_list(ctx->svc, &v, &n, &err)) < 0)
		return api_reply_err(resp, r, err);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, info_json(ctx, &v[i]));
	vs_ctr_info_list_free(v, n);
	api_reply_json(resp, 200, a);
}

void api_ctrs_create(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *id = NULL;
	struct vs_err *err = NULL;
	struct vs_ctr_spec spec;
	int r;

	if (!api_args_check(req, no_args, resp) || !(j = api_body_object(req, resp)))
		return;
	if ((r = vs_ctr_spec_from_json(j, &spec, &err)) < 0 ||
	    (r = ctx->be->ctr_create(ctx->svc, &spec, &id, &err)) < 0)
		api_reply_err(resp, r, err);
	else
		reply_info(ctx, id, 201, resp);
	vs_ctr_spec_clear(&spec);
}

void api_ctrs_get(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	if (api_args_check(req, no_args, resp))
		reply_info(ctx, req->param, 200, resp);
}

void api_ctrs_delete(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "force", NULL };
	struct vs_err *err = NULL;
	bool force = false;
	int r;

	if (!api_args_check(req, known, resp) || !api_arg_bool(req, "force", &force, resp))
		return;
	if ((r = ctx->be->ctr_remove(ctx->svc, req->param, force, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 204, NULL);
}

void api_ctrs_start(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_err *err = NULL;
	int r;

	if (!api_no_body(req, resp) || !api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->ctr_start(ctx->svc, req->param, NULL, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

/* ?signal=SIG into *sig (def when absent); false after replying 400. */
static bool arg_signal(const struct vs_api_req *req, int def, int *sig, struct vs_api_resp *resp)
{
	const char *v = api_arg(req, "signal");
	char msg[128];

	*sig = v ? vs_signal_parse(v) : def;
	if (*sig > 0 && *sig < NSIG)
		return true;
	snprintf(msg, sizeof(msg), "query argument 'signal': unknown signal '%.32s'", v);
	api_reply_error(resp, 400, msg);
	return false;
}

/* stop and restart: ?timeout=SECS (10) and ?signal=SIG (the image's StopSignal). */
static bool stop_opts(const struct vs_api_req *req, int *sig, unsigned *timeout_s,
		      struct vs_api_resp *resp)
{
	static const char *const known[] = { "timeout", "signal", NULL };
	uint64_t t = VS_CTR_STOP_TIMEOUT_S;

	*sig = 0;
	if (!api_no_body(req, resp) || !api_args_check(req, known, resp) ||
	    !api_arg_uint(req, "timeout", STOP_TIMEOUT_MAX, &t, resp) ||
	    (api_arg(req, "signal") && !arg_signal(req, 0, sig, resp)))
		return false;
	*timeout_s = (unsigned)t;
	return true;
}

/* A paused container cannot handle its stop signal: thaw it first. */
static void thaw(struct vs_api_ctx *ctx, const char *key)
{
	ctx->be->ctr_pause(ctx->svc, key, false, NULL);
}

void api_ctrs_stop(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_err *err = NULL;
	unsigned t;
	int sig, r;

	if (!stop_opts(req, &sig, &t, resp) || !must_run(ctx, req->param, resp))
		return;
	thaw(ctx, req->param);
	if ((r = ctx->be->ctr_stop(ctx->svc, req->param, sig, t, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

void api_ctrs_restart(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_ctr_info info = { 0 };
	struct vs_err *err = NULL;
	unsigned t;
	int sig, r;

	if (!stop_opts(req, &sig, &t, resp))
		return;
	if ((r = ctx->be->ctr_inspect(ctx->svc, req->param, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	if (info.state == VS_CTR_ST_RUNNING) {
		thaw(ctx, info.id);
		r = ctx->be->ctr_stop(ctx->svc, info.id, sig, t, &err);
	}
	if (r == 0)
		r = ctx->be->ctr_start(ctx->svc, info.id, NULL, &err);
	if (r < 0)
		api_reply_err(resp, r, err);
	else
		reply_info(ctx, info.id, 200, resp);
	vs_ctr_info_clear(&info);
}

void api_ctrs_kill(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "signal", NULL };
	struct vs_err *err = NULL;
	int sig, r;

	if (!api_no_body(req, resp) || !api_args_check(req, known, resp) ||
	    !arg_signal(req, SIGKILL, &sig, resp) || !must_run(ctx, req->param, resp))
		return;
	if (sig == SIGKILL)
		thaw(ctx, req->param);
	if ((r = ctx->be->ctr_kill(ctx->svc, req->param, sig, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

static void pause_verb(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp,
		       bool pause)
{
	struct vs_err *err = NULL;
	int r;

	if (!api_no_body(req, resp) || !api_args_check(req, no_args, resp) ||
	    !must_run(ctx, req->param, resp))
		return;
	if ((r = ctx->be->ctr_pause(ctx->svc, req->param, pause, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

void api_ctrs_pause(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	pause_verb(ctx, req, resp, true);
}

void api_ctrs_resume(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	pause_verb(ctx, req, resp, false);
}

/* ?follow=true: Server-Sent Events of the new output (stream.c). */
static void follow_logs(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_ctr_info info = { 0 };
	struct vs_err *err = NULL;
	int r = ctx->be->ctr_inspect(ctx->svc, req->param, &info, &err);

	if (r < 0)
		return api_reply_err(resp, r, err);
	resp->status = 200;
	resp->stream = VS_API_STREAM_CTR_LOGS;
	resp->stream_key = xstrdup(info.id);
	vs_ctr_info_clear(&info);
}

void api_ctrs_logs(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_free_ char *path = NULL, *old = NULL;
	struct vs_err *err = NULL;
	uint64_t tail = 0;
	bool has_tail, follow = false;
	int r;

	if (!api_log_args(req, &tail, &has_tail, &follow, resp))
		return;
	if ((r = ctx->be->ctr_log_path(ctx->svc, req->param, &path, &old, &err)) < 0)
		return api_reply_err(resp, r, err);
	if (follow)
		return follow_logs(ctx, req, resp);
	api_reply_log(resp, old, path, has_tail ? &tail : NULL, true);
}

void api_ctrs_stats(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "stream", NULL };
	struct vs_ctr_stats s = { 0 };
	struct vs_err *err = NULL;
	bool stream = false;
	int r;

	if (!api_args_check(req, known, resp) || !api_arg_bool(req, "stream", &stream, resp))
		return;
	if ((r = ctx->be->ctr_stats(ctx->svc, req->param, &s, &err)) < 0)
		return api_reply_err(resp, r, err);
	if (stream) {
		resp->status = 200;
		resp->stream = VS_API_STREAM_CTR_STATS;
		resp->stream_key = xstrdup(s.id);
	} else {
		api_reply_json(resp, 200, vs_ctr_stats_to_json(NULL, &s));
	}
	vs_ctr_stats_clear(&s);
}

/* A WebSocket to a running container's pty (`run -t`): the upgrade in
 * http.c, the relay in console.c. A container without one, or not
 * running, is a 409 in one line. */
void api_ctrs_attach(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_ctr_info info = { 0 };
	struct vs_err *err = NULL;
	char msg[320];
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->ctr_inspect(ctx->svc, req->param, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	if (!vs_json_bool(info.spec, "tty", false)) {
		snprintf(msg, sizeof(msg), "container %s has no terminal (run it with -t)",
			 info.name);
		api_reply_error(resp, 409, msg);
	} else if (info.state != VS_CTR_ST_RUNNING) {
		snprintf(msg, sizeof(msg), "container %s is not running", info.name);
		api_reply_error(resp, 409, msg);
	} else {
		resp->status = 200;
		resp->stream = VS_API_STREAM_CTR_ATTACH;
		resp->stream_key = xstrdup(info.id);
	}
	vs_ctr_info_clear(&info);
}
