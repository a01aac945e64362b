/* /v1/vms: the VM verbs of the service layer (svc/vm.h) as REST, with the
 * bodies of docs/api/vm-spec.md. A body is checked here for what the spec
 * parser forgives (unknown fields, wrong JSON types); the values
 * themselves are judged by vs_vm_spec_from_json and the service layer. */
#include "api/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* JSON types a field may take: a mask of 1 << json_type. */
#define T(t) (1u << (t))
#define T_STR T(JSON_STRING)
#define T_NULL T(JSON_NULL)
#define T_INT T(JSON_INTEGER)
#define T_BOOL (T(JSON_TRUE) | T(JSON_FALSE))
#define T_ARRAY T(JSON_ARRAY)

struct field {
	const char *key;
	unsigned types;
	const char *what; /* for the message */
};

static const struct field spec_fields[] = {
	{ "name", T_STR, "a string" },
	{ "kernel", T_STR | T_NULL, "a string or null" },
	{ "initrd", T_STR | T_NULL, "a string or null" },
	{ "append", T_STR | T_NULL, "a string or null" },
	{ "command", T_ARRAY | T_NULL, "an array of strings or null" },
	{ "cpus", T_INT, "an integer" },
	{ "mem", T_INT, "an integer (bytes)" },
	{ "cpu_model", T_STR, "a string" },
	{ "accel", T_STR, "a string" },
	{ "overcommit", T_BOOL, "a boolean" },
	{ "autostart", T_BOOL, "a boolean" },
	{ "disks", T_ARRAY | T_NULL, "an array or null" },
	{ NULL, 0, NULL },
};

static const struct field disk_fields[] = {
	{ "path", T_STR, "a string" },
	{ "format", T_STR | T_NULL, "a string or null" },
	{ "readonly", T_BOOL, "a boolean" },
	{ NULL, 0, NULL },
};

/* Every key of obj known to fields and of an allowed type; else replies 400. */
static bool check_fields(const json_t *obj, const struct field *fields, const char *where,
			 struct vs_api_resp *resp)
{
	const char *key;
	json_t *v;
	char msg[256];

	json_object_foreach((json_t *)obj, key, v)
	{
		const struct field *f = fields;

		while (f->key && strcmp(f->key, key))
			f++;
		if (!f->key)
			snprintf(msg, sizeof(msg), "%sunknown field '%.64s'", where, key);
		else if (!(f->types & T(json_typeof(v))))
			snprintf(msg, sizeof(msg), "%sfield '%s' must be %s", where, key, f->what);
		else
			continue;
		api_reply_error(resp, 400, msg);
		return false;
	}
	return true;
}

static bool check_spec(const json_t *j, struct vs_api_resp *resp)
{
	const json_t *disks = json_object_get(j, "disks"), *d;
	char where[48];
	size_t i;

	if (!check_fields(j, spec_fields, "", resp))
		return false;
	if (!json_is_string(json_object_get(j, "name"))) {
		api_reply_error(resp, 400, "field 'name' is required");
		return false;
	}
	json_array_foreach(disks, i, d)
	{
		snprintf(where, sizeof(where), "disks[%zu]: ", i);
		if (!json_is_object(d)) {
			snprintf(where, sizeof(where), "disks[%zu] must be an object", i);
			api_reply_error(resp, 400, where);
			return false;
		}
		if (!check_fields(d, disk_fields, where, resp))
			return false;
	}
	return true;
}

/* Replies 200 with the VM's info (after an action) or its error. */
static void reply_info(struct vs_api_ctx *ctx, const char *name, unsigned status,
		       struct vs_api_resp *resp)
{
	struct vs_vm_info info = { 0 };
	struct vs_err *err = NULL;
	int r = ctx->be->vm_inspect(ctx->svc, name, &info, &err);

	if (r < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, status, vs_vm_info_to_json(&info));
	vs_vm_info_clear(&info);
}

static const char *const no_args[] = { NULL };

void api_vms_list(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_vm_info *v = NULL;
	struct vs_err *err = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->vm_list(ctx->svc, &v, &n, &err)) < 0)
		return api_reply_err(resp, r, err);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, vs_vm_info_to_json(&v[i]));
	vs_vm_info_list_free(v, n);
	api_reply_json(resp, 200, a);
}

void api_vms_create(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_json_ json_t *j = NULL;
	struct vs_err *err = NULL;
	struct vs_vm_spec spec;
	int r;

	if (!api_args_check(req, no_args, resp) || !(j = api_body_object(req, resp)) ||
	    !check_spec(j, resp))
		return;
	vs_vm_spec_init(&spec);
	if ((r = vs_vm_spec_from_json(j, &spec, &err)) < 0 ||
	    (r = ctx->be->vm_create(ctx->svc, &spec, &err)) < 0)
		api_reply_err(resp, r, err);
	else
		reply_info(ctx, spec.name, 201, resp);
	vs_vm_spec_clear(&spec);
}

void api_vms_get(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	if (api_args_check(req, no_args, resp))
		reply_info(ctx, req->param, 200, resp);
}

void api_vms_delete(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "force", NULL };
	struct vs_vm_remove_opts o = { 0 };
	struct vs_err *err = NULL;
	int r;

	if (!api_args_check(req, known, resp) || !api_arg_bool(req, "force", &o.force, resp))
		return;
	if ((r = ctx->be->vm_remove(ctx->svc, req->param, &o, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 204, NULL);
}

void api_vms_start(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "overcommit", NULL };
	struct vs_vm_start_opts o = { 0 };
	struct vs_err *err = NULL;
	int r;

	if (!api_no_body(req, resp) || !api_args_check(req, known, resp) ||
	    !api_arg_bool(req, "overcommit", &o.overcommit, resp))
		return;
	if ((r = ctx->be->vm_start(ctx->svc, req->param, &o, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

#define STOP_TIMEOUT_DEFAULT 10
#define STOP_TIMEOUT_MAX 86400

/* stop and restart: ?timeout=SECS (default 10). */
static bool stop_opts(const struct vs_api_req *req, struct vs_vm_stop_opts *o,
		      struct vs_api_resp *resp)
{
	static const char *const known[] = { "timeout", NULL };
	uint64_t t = STOP_TIMEOUT_DEFAULT;

	if (!api_no_body(req, resp) || !api_args_check(req, known, resp) ||
	    !api_arg_uint(req, "timeout", STOP_TIMEOUT_MAX, &t, resp))
		return false;
	o->timeout_s = (unsigned)t;
	return true;
}

void api_vms_stop(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_vm_stop_opts o;
	struct vs_err *err = NULL;
	int r;

	if (!stop_opts(req, &o, resp))
		return;
	if ((r = ctx->be->vm_stop(ctx->svc, req->param, &o, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

/* As `vessel vm restart`: stop (if it runs), then start. */
void api_vms_restart(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_vm_stop_opts o;
	struct vs_err *err = NULL;
	int r;

	if (!stop_opts(req, &o, resp))
		return;
	r = ctx->be->vm_stop(ctx->svc, req->param, &o, &err);
	if (r == -ESRCH) { /* not running: restart is a start */
		vs_err_free(err);
		err = NULL;
		r = 0;
	}
	if (r == 0)
		r = ctx->be->vm_start(ctx->svc, req->param, NULL, &err);
	if (r < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

/* kill, pause, resume: no options. */
static void name_verb(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp,
		      int (*fn)(struct vs_svc *, const char *, struct vs_err **))
{
	struct vs_err *err = NULL;
	int r;

	if (!api_no_body(req, resp) || !api_args_check(req, no_args, resp))
		return;
	if ((r = fn(ctx->svc, req->param, &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 200, resp);
}

void api_vms_kill(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	name_verb(ctx, req, resp, ctx->be->vm_kill);
}

void api_vms_pause(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	name_verb(ctx, req, resp, ctx->be->vm_pause);
}

void api_vms_resume(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	name_verb(ctx, req, resp, ctx->be->vm_resume);
}

void api_vms_stats(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "stream", NULL };
	struct vs_vm_stats s = { 0 };
	struct vs_err *err = NULL;
	bool stream = false;
	int r;

	if (!api_args_check(req, known, resp) || !api_arg_bool(req, "stream", &stream, resp))
		return;
	if ((r = ctx->be->vm_stats(ctx->svc, req->param, &s, &err)) < 0)
		return api_reply_err(resp, r, err);
	if (stream) {
		resp->status = 200;
		resp->stream = VS_API_STREAM_VM_STATS;
		resp->stream_key = xstrdup(req->param);
	} else {
		api_reply_json(resp, 200, vs_vm_stats_to_json(NULL, &s));
	}
	vs_vm_stats_clear(&s);
}

/* The console is a WebSocket: the core checks the VM; http.c checks the
 * upgrade headers, opens the console and hands it to a relay (console.c). */
void api_vms_console(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const known[] = { "replay", NULL };
	struct vs_vm_info info = { 0 };
	struct vs_err *err = NULL;
	bool replay = true;
	char msg[320];
	int r;

	if (!api_args_check(req, known, resp) || !api_arg_bool(req, "replay", &replay, resp))
		return;
	if ((r = ctx->be->vm_inspect(ctx->svc, req->param, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	if ((info.state != VS_VM_RUNNING && info.state != VS_VM_PAUSED) || info.foreground) {
		snprintf(msg, sizeof(msg), "VM '%s' is not running%s", req->param,
			 info.foreground ? " detached (a foreground vm run has no console socket)" :
					   "");
		api_reply_error(resp, 409, msg);
	} else {
		resp->status = 200;
		resp->stream = VS_API_STREAM_VM_CONSOLE;
		resp->stream_key = xstrdup(req->param);
		resp->replay = replay;
	}
	vs_vm_info_clear(&info);
}

void api_vms_logs(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_free_ char *path = NULL;
	struct vs_err *err = NULL;
	uint64_t tail = 0;
	bool has_tail;
	int r;

	if (!api_log_args(req, &tail, &has_tail, NULL, resp))
		return;
	if ((r = ctx->be->vm_log_path(ctx->svc, req->param, &path, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_log(resp, NULL, path, has_tail ? &tail : NULL, false);
}
