/* /v1/disks: disk images under <root>/disks (svc/disk.h) as REST: create
 * (qcow2 or raw, or a qcow2 linked clone of another disk), list, info,
 * internal snapshots, remove. */
#include "api/internal.h"
#include "svc/disk.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char *const no_args[] = { NULL };

void api_disks_list(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_disk_info *v = NULL;
	struct vs_err *err = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->disk_list(ctx->svc, &v, &n, &err)) < 0)
		return api_reply_err(resp, r, err);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, vs_disk_info_to_json(&v[i]));
	vs_disk_info_list_free(v, n);
	api_reply_json(resp, 200, a);
}

/* "size": bytes, or a string with a unit ("10G", as `vessel img create`). */
static int get_size(const json_t *v, uint64_t *out, char *msg, size_t len)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && vs_parse_size(json_string_value(v), 1, out) == 0)
		return 0;
	return snprintf(msg, len, "field 'size' must be bytes or a size like \"10G\"");
}

static int disk_field(const char *key, const json_t *v, struct vs_disk_spec *s, char *msg,
		      size_t len)
{
	const char **str = !strcmp(key, "name")	   ? &s->name :
			   !strcmp(key, "format")  ? &s->format :
			   !strcmp(key, "backing") ? &s->backing :
						     NULL;

	if (!strcmp(key, "size"))
		return get_size(v, &s->size, msg, len);
	if (!str)
		return snprintf(msg, len, "unknown field '%.64s'", key);
	if (json_is_null(v) && str != &s->name)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return snprintf(msg, len, "field '%s' must be a string", key);
	*str = json_string_value(v);
	return 0;
}

void api_disks_create(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_json_ json_t *j = NULL;
	struct vs_disk_spec spec = { 0 };
	struct vs_disk_info info = { 0 };
	struct vs_err *err = NULL;
	const char *key;
	json_t *v;
	char msg[160];
	int r;

	if (!api_args_check(req, no_args, resp) || !(j = api_body_object(req, resp)))
		return;
	json_object_foreach(j, key, v)
	{
		if (disk_field(key, v, &spec, msg, sizeof(msg)) > 0)
			return api_reply_error(resp, 400, msg);
	}
	if (!spec.name)
		return api_reply_error(resp, 400, "field 'name' is required");
	if ((r = ctx->be->disk_create(ctx->svc, &spec, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 201, vs_disk_info_to_json(&info));
	vs_disk_info_clear(&info);
}

static void reply_info(struct vs_api_ctx *ctx, const char *name, unsigned status,
		       struct vs_api_resp *resp)
{
	struct vs_disk_info info = { 0 };
	struct vs_err *err = NULL;
	int r = ctx->be->disk_info(ctx->svc, name, &info, &err);

	if (r < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, status, vs_disk_info_to_json(&info));
	vs_disk_info_clear(&info);
}

void api_disks_get(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	if (api_args_check(req, no_args, resp))
		reply_info(ctx, req->param, 200, resp);
}

void api_disks_delete(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_err *err = NULL;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->disk_remove(ctx->svc, req->param, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 204, NULL);
}

void api_disks_snapshot(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_json_ json_t *j = NULL;
	struct vs_err *err = NULL;
	const char *key;
	json_t *v;
	char msg[160];
	int r;

	if (!api_args_check(req, no_args, resp) || !(j = api_body_object(req, resp)))
		return;
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "name")) {
			snprintf(msg, sizeof(msg), "unknown field '%.64s'", key);
			return api_reply_error(resp, 400, msg);
		}
	}
	v = json_object_get(j, "name");
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return api_reply_error(resp, 400, "field 'name' (a string) is required");
	if ((r = ctx->be->disk_snapshot(ctx->svc, req->param, json_string_value(v), &err)) < 0)
		return api_reply_err(resp, r, err);
	reply_info(ctx, req->param, 201, resp);
}
