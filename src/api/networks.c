/* /v1/networks: the virtual networks of the service layer (svc/net.h) as
 * REST, with the body of docs/api/network-spec.md. The bridge and its rules
 * are made in the server's network namespace, as `vessel network create`
 * makes them in the CLI's. */
#include "api/internal.h"
#include "svc/net.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const no_args[] = { NULL };

void api_nets_list(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_net_info *v = NULL;
	struct vs_err *err = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->net_list(ctx->svc, &v, &n, &err)) < 0)
		return api_reply_err(resp, r, err);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, vs_net_info_to_json(&v[i]));
	vs_net_info_list_free(v, n);
	api_reply_json(resp, 200, a);
}

/* One key of the create body into spec (strings borrowed from j). */
static int net_field(const char *key, const json_t *v, struct vs_net_spec *spec, char *msg,
		     size_t len)
{
	const char *str_keys[] = { "name", "subnet", "gateway" };
	const char **str_fields[] = { &spec->name, &spec->subnet, &spec->gateway };
	json_int_t i = json_integer_value(v);

	for (size_t k = 0; k < 3; k++) {
		if (strcmp(key, str_keys[k]))
			continue;
		if (json_is_null(v) && k > 0)
			return 0;
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return snprintf(msg, len, "field '%s' must be a string%s", key,
					k ? " or null" : "");
		*str_fields[k] = json_string_value(v);
		return 0;
	}
	if (!strcmp(key, "internal")) {
		if (!json_is_boolean(v))
			return snprintf(msg, len, "field 'internal' must be a boolean");
		spec->internal = json_is_true(v);
	} else if (!strcmp(key, "mtu")) {
		if (!json_is_integer(v) || i < 0 || i > 65535)
			return snprintf(msg, len, "field 'mtu' must be an integer 0-65535");
		spec->mtu = (uint32_t)i;
	} else if (!strcmp(key, "vlan")) {
		if (!json_is_integer(v) || i < 0 || i > 4094)
			return snprintf(msg, len, "field 'vlan' must be an integer 0-4094");
		spec->vlan = (uint16_t)i;
	} else {
		return snprintf(msg, len, "unknown field '%.64s'", key);
	}
	return 0;
}

void api_nets_create(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	_cleanup_json_ json_t *j = NULL;
	struct vs_net_spec spec = { 0 };
	struct vs_net_info info = { 0 };
	struct vs_err *err = NULL;
	const char *key;
	json_t *v, *out;
	char msg[160];
	int r;

	if (!api_args_check(req, no_args, resp) || !(j = api_body_object(req, resp)))
		return;
	json_object_foreach(j, key, v)
	{
		if (net_field(key, v, &spec, msg, sizeof(msg)) > 0)
			return api_reply_error(resp, 400, msg);
	}
	if (!spec.name)
		return api_reply_error(resp, 400, "field 'name' is required");
	if ((r = ctx->be->net_create(ctx->svc, &spec, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	out = vs_net_info_to_json(&info);
	/* what the CLI prints as warnings */
	json_object_set_new(out, "forwarding_enabled", json_boolean(info.forwarding_enabled));
	json_object_set_new(out, "forward_blocked",
			    info.forward_blocked[0] ? json_string(info.forward_blocked) :
						      json_null());
	vs_net_info_clear(&info);
	api_reply_json(resp, 201, out);
}

void api_nets_get(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_net_info info = { 0 };
	struct vs_err *err = NULL;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->net_inspect(ctx->svc, req->param, &info, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 200, vs_net_info_to_json(&info));
	vs_net_info_clear(&info);
}

void api_nets_delete(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	struct vs_err *err = NULL;
	int r;

	if (!api_args_check(req, no_args, resp))
		return;
	if ((r = ctx->be->net_rm(ctx->svc, req->param, &err)) < 0)
		return api_reply_err(resp, r, err);
	api_reply_json(resp, 204, NULL);
}
