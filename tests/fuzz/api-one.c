/* One fuzz input for the API's request core (src/api/router.c and the
 * resources): the first line is "METHOD PATH[?QUERY]", the rest the body.
 * The service layer is stubbed through the backend seam (internal.h): the
 * stubs know one VM, "web", and one taken name, and record nothing. Aborts
 * when a reply breaks the contract: a status outside the API's set, a body
 * that is not JSON, an error that is not one line. */
#include "fuzz.h"
#include "api/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int find(const char *name, struct vs_err **err)
{
	if (!name || strcmp(name, "web"))
		return vs_err_set(err, -ENOENT, "no VM named '%.64s'", name ? name : "");
	return 0;
}

static int stub_create(struct vs_svc *svc, const struct vs_vm_spec *spec, struct vs_err **err)
{
	(void)svc;
	if (!spec->name || vs_vm_spec_check(spec, err) < 0)
		return vs_err_set(err, -EINVAL, "spec: bad");
	return strcmp(spec->name, "web") ? 0 : vs_err_set(err, -EEXIST, "VM 'web' exists");
}

static int stub_start(struct vs_svc *svc, const char *name, const struct vs_vm_start_opts *o,
		      struct vs_err **err)
{
	(void)svc, (void)o;
	return find(name, err);
}

static int stub_stop(struct vs_svc *svc, const char *name, const struct vs_vm_stop_opts *o,
		     struct vs_err **err)
{
	(void)svc;
	if (o->timeout_s > 86400)
		abort(); /* the router's bound */
	return find(name, err) < 0 ? -ENOENT : vs_err_set(err, -ESRCH, "VM 'web' is not running");
}

static int stub_verb(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	(void)svc;
	return find(name, err);
}

static int stub_remove(struct vs_svc *svc, const char *name, const struct vs_vm_remove_opts *o,
		       struct vs_err **err)
{
	(void)svc;
	return find(name, err) < 0 ? -ENOENT : o->force ? 0 : vs_err_set(err, -EBUSY, "running");
}

static int stub_inspect(struct vs_svc *svc, const char *name, struct vs_vm_info *out,
			struct vs_err **err)
{
	(void)svc, (void)err;
	memset(out, 0, sizeof(*out));
	vs_vm_spec_init(&out->spec);
	out->spec.name = xstrdup(name); /* a created VM answers by any name */
	return 0;
}

static int stub_list(struct vs_svc *svc, struct vs_vm_info **out, size_t *n, struct vs_err **err)
{
	*out = xzalloc(sizeof(**out));
	*n = 1;
	return stub_inspect(svc, "web", *out, err);
}

static int stub_images(const char *root, json_t **out, struct vs_err **err)
{
	(void)root, (void)err;
	*out = json_array();
	return 0;
}

static const struct vs_api_backend stubs = {
	.vm_create = stub_create,
	.vm_start = stub_start,
	.vm_stop = stub_stop,
	.vm_kill = stub_verb,
	.vm_pause = stub_verb,
	.vm_resume = stub_verb,
	.vm_remove = stub_remove,
	.vm_list = stub_list,
	.vm_inspect = stub_inspect,
	.image_list = stub_images,
};

static const unsigned statuses[] = { 200, 201, 204, 400, 403, 404, 405, 409, 500, 504 };

static void check_reply(const struct vs_api_resp *resp)
{
	json_t *j, *e;
	size_t i = 0;

	while (i < sizeof(statuses) / sizeof(statuses[0]) && statuses[i] != resp->status)
		i++;
	if (i == sizeof(statuses) / sizeof(statuses[0]))
		abort();
	if (resp->status == 204) {
		if (resp->body)
			abort();
		return;
	}
	if (!resp->body || !(j = json_loads(resp->body, 0, NULL)))
		abort();
	e = json_object_get(j, "error");
	if (resp->status >= 400 && (!json_is_string(e) || strchr(json_string_value(e), '\n')))
		abort();
	json_decref(j);
}

int fuzz_api_one(const uint8_t *data, size_t size)
{
	struct vs_api_ctx ctx = { .be = &stubs, .root = "/nonexistent" };
	struct vs_api_req req = { 0 };
	struct vs_api_resp resp = { 0 };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line = nl ? (size_t)(nl - data) : size;
	char *head = strndup((const char *)data, line), *path, *query;

	if (!head || strlen(head) != line || !(path = strchr(head, ' '))) {
		free(head);
		return 0;
	}
	*path++ = 0;
	if ((query = strchr(path, '?')))
		*query++ = 0;
	req.method = head;
	req.path = path;
	if (query && vs_api_parse_query(query, &req) < 0) {
		free(head);
		return 0;
	}
	req.body = nl ? (const char *)nl + 1 : NULL;
	req.len = nl ? size - line - 1 : 0;
	vs_api_handle(&ctx, &req, &resp);
	check_reply(&resp);
	free(resp.body);
	free(head);
	return resp.status < 400;
}
