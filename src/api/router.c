/* The request core: a const routing table (method + path pattern ->
 * handler), path matching with one {name} parameter, query arguments, and
 * the JSON replies every handler shares (errors as {"error": "..."}). */
#include "api/internal.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct route {
	const char *method;
	const char *pattern; /* "{name}" matches one non-empty path segment */
	vs_api_handler *fn;
};

static const struct route routes[] = {
	{ "GET", "/v1/host", api_host_get },
	{ "GET", "/v1/vms", api_vms_list },
	{ "POST", "/v1/vms", api_vms_create },
	{ "GET", "/v1/vms/{name}", api_vms_get },
	{ "DELETE", "/v1/vms/{name}", api_vms_delete },
	{ "POST", "/v1/vms/{name}/start", api_vms_start },
	{ "POST", "/v1/vms/{name}/stop", api_vms_stop },
	{ "POST", "/v1/vms/{name}/kill", api_vms_kill },
	{ "POST", "/v1/vms/{name}/pause", api_vms_pause },
	{ "POST", "/v1/vms/{name}/resume", api_vms_resume },
	{ "POST", "/v1/vms/{name}/restart", api_vms_restart },
	{ "GET", "/v1/vms/{name}/stats", api_vms_stats },
	{ "GET", "/v1/vms/{name}/console", api_vms_console },
	{ "GET", "/v1/vms/{name}/logs", api_vms_logs },
	{ "GET", "/v1/images", api_images_list },
	{ "GET", "/v1/containers", api_ctrs_list },
	{ "POST", "/v1/containers", api_ctrs_create },
	{ "GET", "/v1/containers/{name}", api_ctrs_get },
	{ "DELETE", "/v1/containers/{name}", api_ctrs_delete },
	{ "POST", "/v1/containers/{name}/start", api_ctrs_start },
	{ "POST", "/v1/containers/{name}/stop", api_ctrs_stop },
	{ "POST", "/v1/containers/{name}/kill", api_ctrs_kill },
	{ "POST", "/v1/containers/{name}/pause", api_ctrs_pause },
	{ "POST", "/v1/containers/{name}/resume", api_ctrs_resume },
	{ "POST", "/v1/containers/{name}/restart", api_ctrs_restart },
	{ "GET", "/v1/containers/{name}/logs", api_ctrs_logs },
	{ "GET", "/v1/containers/{name}/stats", api_ctrs_stats },
	{ "GET", "/v1/containers/{name}/attach", api_ctrs_attach },
	{ "GET", "/v1/networks", api_nets_list },
	{ "POST", "/v1/networks", api_nets_create },
	{ "GET", "/v1/networks/{name}", api_nets_get },
	{ "DELETE", "/v1/networks/{name}", api_nets_delete },
	{ "GET", "/v1/disks", api_disks_list },
	{ "POST", "/v1/disks", api_disks_create },
	{ "GET", "/v1/disks/{name}", api_disks_get },
	{ "DELETE", "/v1/disks/{name}", api_disks_delete },
	{ "POST", "/v1/disks/{name}/snapshots", api_disks_snapshot },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define PARAM "{name}"
#define PARAM_MAX 255 /* longer segments never name anything */

bool vs_api_route_get(size_t i, const char **method, const char **pattern)
{
	if (i >= NROUTES)
		return false;
	*method = routes[i].method;
	*pattern = routes[i].pattern;
	return true;
}

/* Does path match pattern? On a match with a parameter, param (of
 * PARAM_MAX + 1 bytes) holds the segment. */
static bool path_match(const char *pattern, const char *path, char *param)
{
	while (*pattern) {
		if (!strncmp(pattern, PARAM, sizeof(PARAM) - 1)) {
			size_t n = strcspn(path, "/");

			if (n == 0 || n > PARAM_MAX)
				return false;
			memcpy(param, path, n);
			param[n] = 0;
			pattern += sizeof(PARAM) - 1;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == 0;
}

/* Names are printable ASCII (the service layer says which); anything else
 * never reaches it, nor the messages that would quote it. */
static bool is_name_text(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

void vs_api_handle(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	char param[PARAM_MAX + 1];
	bool path_known = false;

	*resp = (struct vs_api_resp){ .status = 500 };
	for (size_t i = 0; i < NROUTES; i++) {
		if (!path_match(routes[i].pattern, req->path, param))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method))
			continue;
		if (strchr(routes[i].pattern, '{') && !is_name_text(param)) {
			api_reply_error(resp, 400, "invalid name in the path");
			return;
		}
		req->param = param;
		routes[i].fn(ctx, req, resp);
		req->param = NULL;
		return;
	}
	if (path_known)
		api_reply_error(resp, 405, "method not allowed on this path");
	else
		api_reply_error(resp, 404, "no such endpoint");
}

int vs_api_parse_query(char *query, struct vs_api_req *req)
{
	char *save = NULL, *kv;

	for (kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (req->nargs == VS_API_MAX_ARGS)
			return -E2BIG;
		if (eq)
			*eq = 0;
		req->args[req->nargs].key = kv;
		req->args[req->nargs++].value = eq ? eq + 1 : "";
	}
	return 0;
}

void api_reply_json(struct vs_api_resp *resp, unsigned status, json_t *j)
{
	free(resp->body);
	resp->status = status;
	resp->body = j ? vs_json_dump(j) : NULL;
	json_decref(j);
	if (!j && status != 204) { /* json_pack refused (invalid UTF-8): never an empty reply */
		resp->status = 500;
		resp->body = xstrdup("{\"error\":\"the reply could not be encoded\"}");
	}
}

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = *s < 0x80	       ? 1 :
		   (*s & 0xe0) == 0xc0 ? 2 :
		   (*s & 0xf0) == 0xe0 ? 3 :
		   (*s & 0xf8) == 0xf0 ? 4 :
					 0;
	json_t *probe;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n <= 1)
		return n;
	/* overlong forms and surrogates: jansson's own check decides */
	probe = json_stringn((const char *)s, n);
	json_decref(probe);
	return probe ? n : 0;
}

void api_utf8_clean(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

void api_reply_error(struct vs_api_resp *resp, unsigned status, const char *msg)
{
	char *clean = xstrdup(msg ? msg : "failed");

	/* a message may quote client bytes: JSON needs UTF-8 and the message one
	 * line, so other bytes become '?' */
	for (unsigned char *p = (unsigned char *)clean; *p;) {
		size_t n = utf8_len(p);

		if (n == 0 || *p < 0x20 || *p == 0x7f) /* and one line: no controls */
			*p++ = '?';
		else
			p += n;
	}
	api_reply_json(resp, status, json_pack("{s:s}", "error", clean));
	free(clean);
}

unsigned api_status_of(int code)
{
	switch (code) {
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -EBUSY:
	case -ESRCH: /* not running */
	case -EOPNOTSUPP: /* a foreground VM, a VM with disks: not in this state */
	case -ENOMEM: /* the host-memory rule */
	case -EADDRINUSE: /* a subnet overlapping another network or a route */
	case -ENOSPC: /* a network's subnet is full */
	case -EAGAIN: /* an image's lock: another process uses it */
		return 409;
	case -EINVAL:
	case -E2BIG:
	case -ENAMETOOLONG:
		return 400;
	case -EACCES:
	case -EPERM:
		return 403;
	case -ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}

void api_reply_err(struct vs_api_resp *resp, int code, struct vs_err *e)
{
	char fallback[128];

	if (!e)
		snprintf(fallback, sizeof(fallback), "%s", strerror(-code));
	api_reply_error(resp, api_status_of(e ? e->code : code), e ? e->msg : fallback);
	vs_err_free(e);
}

bool api_no_body(const struct vs_api_req *req, struct vs_api_resp *resp)
{
	if (req->len == 0)
		return true;
	api_reply_error(resp, 400, "this action takes no body (options are query arguments)");
	return false;
}

json_t *api_body_object(struct vs_api_req *req, struct vs_api_resp *resp)
{
	json_error_t je;
	json_t *j;
	char msg[256];

	if (!req->body || req->len == 0)
		return json_object();
	j = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		/* jansson's text is one line; the offset says where */
		snprintf(msg, sizeof(msg), "malformed JSON body at byte %d: %s", je.position,
			 je.text);
		api_reply_error(resp, 400, msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_reply_error(resp, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

const char *api_arg(const struct vs_api_req *req, const char *key)
{
	for (size_t i = 0; i < req->nargs; i++)
		if (!strcmp(req->args[i].key, key))
			return req->args[i].value;
	return NULL;
}

bool api_args_check(const struct vs_api_req *req, const char *const *known,
		    struct vs_api_resp *resp)
{
	char msg[128];

	for (size_t i = 0; i < req->nargs; i++) {
		const char *const *k = known;

		while (*k && strcmp(*k, req->args[i].key))
			k++;
		if (!*k) {
			snprintf(msg, sizeof(msg), "unknown query argument '%.64s'",
				 req->args[i].key);
			api_reply_error(resp, 400, msg);
			return false;
		}
	}
	return true;
}

bool api_arg_bool(const struct vs_api_req *req, const char *key, bool *out,
		  struct vs_api_resp *resp)
{
	const char *v = api_arg(req, key);
	char msg[128];

	if (!v)
		return true;
	if (!*v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
	} else if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
	} else {
		snprintf(msg, sizeof(msg), "query argument '%s': true or false expected", key);
		api_reply_error(resp, 400, msg);
		return false;
	}
	return true;
}

bool api_arg_uint(const struct vs_api_req *req, const char *key, uint64_t max, uint64_t *out,
		  struct vs_api_resp *resp)
{
	const char *v = api_arg(req, key);
	char msg[128];

	if (!v)
		return true;
	if (vs_parse_uint(v, 0, max, out) < 0) {
		snprintf(msg, sizeof(msg), "query argument '%s': an integer 0-%llu expected", key,
			 (unsigned long long)max);
		api_reply_error(resp, 400, msg);
		return false;
	}
	return true;
}
