/* vessel's REST API (`vessel serve`, docs/api.md, docs/api/openapi.yaml).
 *
 * Two halves: the request core (router.c and one file per resource: vms.c,
 * host.c, images.c) turns a method, a path with its query and a body into
 * a status and a JSON body, knowing nothing of HTTP's wire; the server
 * (http.c, listen.c, auth.c) is libmicrohttpd around that core. The core
 * reaches the service layer only through a const backend table, so that a
 * fuzz harness can drive routing and body parsing against stubs. */
#ifndef VS_API_API_H
#define VS_API_API_H

#include <stdbool.h>
#include <stddef.h>

struct vs_err;
struct vs_svc;
struct vs_api_backend;
struct vs_api_ctx;

/* Largest request body accepted (413 beyond). */
#define VS_API_MAX_BODY (64u << 10)
/* At most this many query arguments (400 beyond). */
#define VS_API_MAX_ARGS 8

struct vs_api_arg {
	const char *key, *value;
};

/* One request as the core sees it. Strings are borrowed for the call. */
struct vs_api_req {
	const char *method;
	const char *path; /* without the query */
	struct vs_api_arg args[VS_API_MAX_ARGS];
	size_t nargs;
	const char *body; /* NULL or len bytes, not NUL-terminated */
	size_t len;
	const char *param; /* filled by the router: the {name} of the path */
};

/* What a reply streams instead of a body (Server-Sent Events, http.c). */
enum vs_api_stream {
	VS_API_STREAM_NONE,
	VS_API_STREAM_CTR_STATS,
	VS_API_STREAM_VM_STATS,
	VS_API_STREAM_VM_CONSOLE, /* a WebSocket to the VM's console (console.c) */
	VS_API_STREAM_CTR_ATTACH, /* a WebSocket to a container's pty (console.c) */
	VS_API_STREAM_CTR_LOGS, /* a container's new output (logs?follow=true) */
};

/* The core's answer: status and a JSON text (malloc'd, NULL: no body). */
struct vs_api_resp {
	unsigned status;
	char *body;
	const char *content_type; /* NULL: application/json */
	enum vs_api_stream stream; /* with status 200: stream this instead of body */
	char *stream_key; /* malloc'd: the container's id or the VM's name */
	bool replay; /* a console: the recent output first */
};

/* One event of a stream: "data: {...}\n\n" (malloc'd) for key, sampled now;
 * *state (NULL at first; vs_api_stream_free it at the end) keeps the one
 * previous sample rates need. NULL when the object is gone (end the
 * stream). */
char *vs_api_stream_next(struct vs_api_ctx *ctx, enum vs_api_stream kind, const char *key,
			 void **state);
void vs_api_stream_free(enum vs_api_stream kind, void *state);

struct vs_api_ctx {
	const struct vs_api_backend *be;
	struct vs_svc *svc; /* passed to the backend; NULL under the fuzz stubs */
	const char *root; /* the state root (host disk figures, images) */
};

/* Routes req to its handler and fills resp (always: errors become a JSON
 * {"error": "..."} with their status). Never fails; resp->body is the
 * caller's to free. */
void vs_api_handle(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp);

/* Splits "a=b&c=d" (modified in place) into req->args. Returns 0 or
 * -E2BIG (too many arguments). Keys without '=' get the value "". */
int vs_api_parse_query(char *query, struct vs_api_req *req);

/* The routing table, for the test that compares it with openapi.yaml
 * (`vessel serve --list-routes`): the i-th route's method and pattern, or
 * false past the end. */
bool vs_api_route_get(size_t i, const char **method, const char **pattern);

/* What `vessel serve` was asked for. */
struct vs_api_serve_opts {
	const char *root;
	const char *listen; /* "unix:PATH" or "HOST:PORT"; NULL: unix:<root>/vessel.sock */
	const char *token_file; /* required with TCP */
	const char *tls_cert, *tls_key; /* PEM files: HTTPS (TCP only); NULL: none */
	bool tls_self_signed; /* <root>/tls/, made on first start (not with the two above) */
};

/* Runs the server until SIGINT or SIGTERM. Returns 0, or -errno with *err
 * when it cannot start (TCP without a token file, a bad address, ...). */
int vs_api_serve(const struct vs_api_serve_opts *o, struct vs_err **err);

#endif
