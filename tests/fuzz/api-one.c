/* One fuzz input for the API's request core (src/api/router.c and the
 * resources): the first line is "METHOD PATH[?QUERY]", the rest the body.
 * The service layer is stubbed through the backend seam (internal.h): the
 * stubs know one VM, "web", and one taken name, and record nothing. Aborts
 * when a reply breaks the contract: a status outside the API's set, a body
 * that is not JSON, an error that is not one line. */
#include "fuzz.h"
#include "api/internal.h"
#include "store/networks.h"
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

/* Containers: one, "box" (id "b0b..."), running. */
static int ctr_find(const char *key, struct vs_err **err)
{
	if (!key || (strcmp(key, "box") && strncmp("b0b0b0", key, strlen(key))))
		return vs_err_set(err, -ENOENT, "no container named '%.64s'", key ? key : "");
	return 0;
}

static int stub_ctr_create(struct vs_svc *svc, const struct vs_ctr_spec *spec, char **id,
			   struct vs_err **err)
{
	(void)svc;
	if (!spec->image)
		abort(); /* vs_ctr_spec_from_json requires it */
	if (spec->name && !strcmp(spec->name, "box"))
		return vs_err_set(err, -EEXIST, "container name 'box' is taken");
	*id = xstrdup("b0b0b0");
	return 0;
}

static int stub_ctr_start(struct vs_svc *svc, const char *key, const struct vs_ctr_start_opts *o,
			  struct vs_err **err)
{
	(void)svc, (void)o;
	return ctr_find(key, err);
}

static int stub_ctr_stop(struct vs_svc *svc, const char *key, int sig, unsigned timeout_s,
			 struct vs_err **err)
{
	(void)svc;
	if (timeout_s > 86400 || sig < 0 || sig >= 65)
		abort();
	return ctr_find(key, err);
}

static int stub_ctr_kill(struct vs_svc *svc, const char *key, int sig, struct vs_err **err)
{
	(void)svc;
	if (sig <= 0 || sig >= 65)
		abort();
	return ctr_find(key, err);
}

static int stub_ctr_pause(struct vs_svc *svc, const char *key, bool pause, struct vs_err **err)
{
	(void)svc, (void)pause;
	return ctr_find(key, err);
}

static int stub_ctr_remove(struct vs_svc *svc, const char *key, bool force, struct vs_err **err)
{
	(void)svc, (void)force;
	return ctr_find(key, err);
}

static int stub_ctr_inspect(struct vs_svc *svc, const char *key, struct vs_ctr_info *out,
			    struct vs_err **err)
{
	(void)svc;
	memset(out, 0, sizeof(*out));
	if (ctr_find(key, err) < 0)
		return -ENOENT;
	out->id = xstrdup("b0b0b0");
	out->name = xstrdup("box");
	out->state = VS_CTR_ST_RUNNING;
	return 0;
}

static int stub_ctr_list(struct vs_svc *svc, struct vs_ctr_info **out, size_t *n,
			 struct vs_err **err)
{
	*out = xzalloc(sizeof(**out));
	*n = 1;
	return stub_ctr_inspect(svc, "box", *out, err);
}

static bool stub_ctr_is_paused(struct vs_svc *svc, const char *id)
{
	(void)svc, (void)id;
	return false;
}

static int stub_ctr_log_path(struct vs_svc *svc, const char *key, char **out, char **old,
			     struct vs_err **err)
{
	(void)svc;
	if (ctr_find(key, err) < 0)
		return -ENOENT;
	*out = xstrdup("/nonexistent/ctr.log");
	*old = xstrdup("/nonexistent/ctr.log.1");
	return 0;
}

static int stub_ctr_stats(struct vs_svc *svc, const char *key, struct vs_ctr_stats *out,
			  struct vs_err **err)
{
	(void)svc;
	memset(out, 0, sizeof(*out));
	if (ctr_find(key, err) < 0)
		return -ENOENT;
	out->id = xstrdup("b0b0b0");
	out->name = xstrdup("box");
	return 0;
}

/* Networks: one, "lan"; its row is made up for each reply. */
static void stub_net_row(struct vs_net_info *out, const char *name)
{
	memset(out, 0, sizeof(*out));
	out->net = xzalloc(sizeof(*out->net));
	out->net->name = xstrdup(name);
	out->net->bridge = xstrdup("vessel-lan");
	out->net->subnet = xstrdup("10.89.0.0/24");
	out->net->gateway = xstrdup("10.89.0.1");
}

static int stub_net_create(struct vs_svc *svc, const struct vs_net_spec *spec,
			   struct vs_net_info *out, struct vs_err **err)
{
	(void)svc;
	if (!spec->name)
		abort(); /* the handler requires it */
	if (!strcmp(spec->name, "lan"))
		return vs_err_set(err, -EEXIST, "network lan exists");
	stub_net_row(out, spec->name);
	return 0;
}

static int stub_net_inspect(struct vs_svc *svc, const char *name, struct vs_net_info *out,
			    struct vs_err **err)
{
	(void)svc;
	if (strcmp(name, "lan"))
		return vs_err_set(err, -ENOENT, "no network named %.64s", name);
	stub_net_row(out, name);
	return 0;
}

static int stub_net_list(struct vs_svc *svc, struct vs_net_info **out, size_t *n,
			 struct vs_err **err)
{
	*out = xzalloc(sizeof(**out));
	*n = 1;
	return stub_net_inspect(svc, "lan", *out, err);
}

static int stub_net_rm(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	(void)svc;
	if (strcmp(name, "lan"))
		return vs_err_set(err, -ENOENT, "no network named %.64s", name);
	return vs_err_set(err, -EBUSY, "network lan has addresses in use");
}

/* Disks: one, "d0" (qcow2, one snapshot). */
static int stub_disk_info(struct vs_svc *svc, const char *name, struct vs_disk_info *out,
			  struct vs_err **err)
{
	(void)svc;
	if (strcmp(name, "d0"))
		return vs_err_set(err, -ENOENT, "no disk named '%.64s'", name);
	memset(out, 0, sizeof(*out));
	out->name = xstrdup(name);
	out->path = xstrdup("/nonexistent/d0.qcow2");
	out->format = xstrdup("qcow2");
	out->snaps = xzalloc(sizeof(*out->snaps));
	out->snaps[0].id = xstrdup("1");
	out->snaps[0].name = xstrdup("s1");
	out->nsnaps = 1;
	return 0;
}

static int stub_disk_create(struct vs_svc *svc, const struct vs_disk_spec *spec,
			    struct vs_disk_info *out, struct vs_err **err)
{
	if (!spec->name)
		abort(); /* the handler requires it */
	if (!strcmp(spec->name, "d0"))
		return vs_err_set(err, -EEXIST, "disk d0 exists");
	if (spec->size > VS_DISK_SIZE_MAX)
		return vs_err_set(err, -EINVAL, "disk size: 1 byte to 64 TiB");
	return stub_disk_info(svc, "d0", out, err);
}

static int stub_disk_list(struct vs_svc *svc, struct vs_disk_info **out, size_t *n,
			  struct vs_err **err)
{
	*out = xzalloc(sizeof(**out));
	*n = 1;
	return stub_disk_info(svc, "d0", *out, err);
}

static int stub_disk_snapshot(struct vs_svc *svc, const char *name, const char *snap,
			      struct vs_err **err)
{
	(void)svc;
	if (!snap)
		abort();
	return strcmp(name, "d0") ? vs_err_set(err, -ENOENT, "no disk named '%.64s'", name) : 0;
}

static int stub_disk_remove(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	(void)svc;
	return strcmp(name, "d0") ? vs_err_set(err, -ENOENT, "no disk named '%.64s'", name) :
				    vs_err_set(err, -EBUSY, "disk d0 is in use");
}

static int stub_vm_stats(struct vs_svc *svc, const char *name, struct vs_vm_stats *out,
			 struct vs_err **err)
{
	(void)svc;
	memset(out, 0, sizeof(*out));
	if (find(name, err) < 0)
		return -ENOENT;
	out->name = xstrdup(name);
	return 0;
}

static int stub_vm_log_path(struct vs_svc *svc, const char *name, char **out, struct vs_err **err)
{
	(void)svc;
	if (find(name, err) < 0)
		return -ENOENT;
	*out = xstrdup("/nonexistent/console.log");
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
	.ctr_create = stub_ctr_create,
	.ctr_start = stub_ctr_start,
	.ctr_stop = stub_ctr_stop,
	.ctr_kill = stub_ctr_kill,
	.ctr_pause = stub_ctr_pause,
	.ctr_remove = stub_ctr_remove,
	.ctr_list = stub_ctr_list,
	.ctr_inspect = stub_ctr_inspect,
	.ctr_is_paused = stub_ctr_is_paused,
	.ctr_log_path = stub_ctr_log_path,
	.ctr_stats = stub_ctr_stats,
	.net_create = stub_net_create,
	.net_list = stub_net_list,
	.net_inspect = stub_net_inspect,
	.net_rm = stub_net_rm,
	.disk_create = stub_disk_create,
	.disk_list = stub_disk_list,
	.disk_info = stub_disk_info,
	.disk_snapshot = stub_disk_snapshot,
	.disk_remove = stub_disk_remove,
	.vm_stats = stub_vm_stats,
	.vm_log_path = stub_vm_log_path,
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
	if (resp->status == 204 || resp->stream) {
		if (resp->body || (resp->stream && (resp->status != 200 || !resp->stream_key)))
			abort();
		return;
	}
	if (resp->content_type) { /* logs: text, any bytes */
		if (!resp->body || resp->status != 200)
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
	if (resp.stream) { /* one event of it, as http.c would ask */
		void *state = NULL;

		free(vs_api_stream_next(&ctx, resp.stream, resp.stream_key, &state));
		vs_api_stream_free(resp.stream, state);
	}
	free(resp.stream_key);
	free(resp.body);
	free(head);
	return resp.status < 400;
}
