/* `vessel serve`: libmicrohttpd around the request core (api.h).
 *
 * One MHD polling thread does all the work, so the service layer is only
 * ever called from one thread (it forks VMMs: a fork from a process whose
 * other threads may hold SQLite's or libc's locks is not safe). A slow
 * verb (stop waits for the guest) holds the other requests back; stop's
 * timeout bounds it.
 *
 * Map: per-connection state and body reading; authentication of TCP
 * clients; answering; start-up and the signal wait. */
#include "api/api.h"
#include "api/auth.h"
#include "api/console.h"
#include "api/internal.h"
#include "api/listen.h"
#include "api/sse.h"
#include "api/tls.h"
#include "api/web.h"
#include "svc/svc.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_TIMEOUT_S 30 /* an idle or slow client is dropped after this */
#define CONN_MEMORY (128u << 10) /* MHD's per-connection buffer: headers, URL */
#define CONN_MAX 128

struct server {
	struct vs_api_ctx ctx;
	struct api_sse *sse;
	struct api_consoles *consoles;
	bool tcp; /* clients must show the token */
	struct vs_api_auth *auth; /* with tcp */
	struct vs_api_tls tls; /* with --tls-cert/--tls-key */
};

/* One request being read. */
struct pending {
	char *body;
	size_t len;
	bool too_big;
	struct api_console_req con; /* a console being upgraded to */
};

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, char *body,
				 const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(body ? strlen(body) : 0, body,
					    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					type ? type : "application/json");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, char *body)
{
	return send_body(c, status, body, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct vs_api_resp resp = { 0 };

	api_reply_error(&resp, status, msg);
	return send_json(c, status, resp.body);
}

/* The client's address as 16 bytes (IPv4 mapped) and as text. */
static void client_addr(struct MHD_Connection *c, uint8_t addr[16], char *text, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	memset(addr, 0, 16);
	snprintf(text, len, "?");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, text, len);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(addr, &in6->sin6_addr, 16);
		inet_ntop(AF_INET6, &in6->sin6_addr, text, len);
	}
}

/* TCP only: the token, under the limit on failed attempts. Returns
 * MHD_YES to go on with the request, otherwise the reply was queued
 * (*answered set). */
static enum MHD_Result authenticate(struct server *s, struct MHD_Connection *c, const char *method,
				    const char *url, bool *answered)
{
	const char *h =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *proto =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
	uint64_t now = vs_now_ns() / 1000000;
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN], ws[VS_API_TOKEN_MAX + 16];
	unsigned n;

	*answered = false;
	if (!s->tcp)
		return MHD_YES;
	if (!h && vs_api_auth_from_ws_protocol(proto, ws, sizeof(ws)))
		h = ws; /* a browser's WebSocket (auth.h) */
	client_addr(c, addr, text, sizeof(text));
	*answered = true;
	if (vs_api_auth_blocked(s->auth, addr, now)) {
		vs_warn("api: %s %s from %s refused: too many failed attempts", method, url, text);
		return send_error(c, MHD_HTTP_TOO_MANY_REQUESTS,
				  "too many failed authentication attempts from this address; "
				  "retry later");
	}
	if (vs_api_auth_check(s->auth, h)) {
		*answered = false;
		return MHD_YES;
	}
	n = vs_api_auth_failed(s->auth, addr, now);
	vs_warn("api: %s %s from %s: %s token (failure %u in %ds)", method, url, text,
		h ? "wrong" : "no", n, VS_API_FAIL_WIN_S);
	return send_error(c, MHD_HTTP_UNAUTHORIZED,
			  h ? "wrong token" :
			      "a bearer token is required (Authorization: Bearer ...)");
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct vs_api_req *req = cls;

	(void)kind;
	if (req->nargs == VS_API_MAX_ARGS) {
		req->nargs++; /* one past: refused below */
		return MHD_NO;
	}
	req->args[req->nargs].key = key;
	req->args[req->nargs++].value = value ? value : "";
	return MHD_YES;
}

/* A VM's console over WebSocket: the upgrade's headers, the limit, the
 * VMM's console socket, then 101 and a relay (console.c). */
static enum MHD_Result console(struct server *s, struct MHD_Connection *c, struct pending *p,
			       struct vs_api_resp *resp)
{
	_cleanup_free_ char *name = resp->stream_key;
	struct vs_err *err = NULL;
	const char *why;
	int fd = -1, r;

	free(resp->body);
	if (!api_console_wants_ws(c, &why))
		return send_error(c, MHD_HTTP_BAD_REQUEST, why);
	if (!api_console_room(s->consoles))
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many consoles open; retry later");
	r = resp->stream == VS_API_STREAM_CTR_ATTACH ?
		    vs_svc_ctr_attach(s->ctx.svc, name, &fd, &err) :
		    vs_svc_vm_console(s->ctx.svc, name, resp->replay, &fd, &err);
	if (r < 0) {
		struct vs_api_resp e = { 0 };

		api_reply_err(&e, r, err);
		return send_json(c, e.status, e.body);
	}
	p->con = (struct api_console_req){ .cs = s->consoles,
					   .fd = fd,
					   .packets = resp->stream == VS_API_STREAM_CTR_ATTACH };
	return api_console_upgrade(c, &p->con);
}

static enum MHD_Result answer(struct server *s, struct MHD_Connection *c, const char *url,
			      const char *method, struct pending *p)
{
	struct vs_api_req req = { .method = method, .path = url, .body = p->body, .len = p->len };
	struct vs_api_resp resp = { 0 };

	if (p->too_big)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &req);
	if (req.nargs > VS_API_MAX_ARGS)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "too many query arguments");
	vs_api_handle(&s->ctx, &req, &resp);
	vs_debug("api: %s %s -> %u%s", method, url, resp.status, resp.stream ? " (stream)" : "");
	if (resp.stream == VS_API_STREAM_VM_CONSOLE || resp.stream == VS_API_STREAM_CTR_ATTACH)
		return console(s, c, p, &resp);
	if (resp.stream) {
		free(resp.body);
		return api_sse_start(s->sse, c, resp.stream, resp.stream_key);
	}
	free(resp.stream_key);
	return send_body(c, resp.status, resp.body, resp.content_type);
}

/* A body declared far over the limit is refused before it is read (the
 * client may see the connection closed while it sends); one a little over
 * is read and dropped, so that the client surely gets its 413. */
#define DRAIN_MAX (1u << 20)

static bool declared_too_big(struct MHD_Connection *c)
{
	const char *cl =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl && strtoull(cl, NULL, 10) > DRAIN_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct server *s = cls;
	struct pending *p = *con_cls;
	bool answered;
	enum MHD_Result r;

	(void)version;
	if (!p) { /* headers are in: the first call */
		answered = false;
		if (!vs_web_path(url)) /* the dashboard's files are public */
			r = authenticate(s, c, method, url, &answered);
		if (answered)
			return r;
		if (declared_too_big(c))
			return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
		p = xzalloc(sizeof(*p));
		p->con.fd = -1;
		*con_cls = p;
		return MHD_YES;
	}
	if (*size) {
		if (p->len + *size > VS_API_MAX_BODY) {
			p->too_big = true;
		} else {
			p->body = xrealloc(p->body, p->len + *size);
			memcpy(p->body + p->len, data, *size);
			p->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (vs_web_path(url)) /* answered at the end: an early reply closes the connection */
		return vs_web_answer(c, method, url, s->tcp);
	return answer(s, c, url, method, p);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (p) {
		if (p->con.fd >= 0) /* never upgraded */
			close(p->con.fd);
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

/* The VMMs the service layer forks from our MHD thread must not inherit
 * its blocked SIGINT/SIGTERM (they exec nothing). */
static void child_unblock(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int open_listener(const struct vs_api_serve_opts *o, char **unix_path, bool *tcp,
			 struct vs_err **err)
{
	const char *l = o->listen;

	*tcp = false;
	if ((!l || !strncmp(l, "unix:", 5)) && (o->tls_cert || o->tls_key))
		return vs_err_set(err, -EINVAL,
				  "--tls-cert/--tls-key are for TCP (--listen HOST:PORT); the unix "
				  "socket's mode is its protection");
	if (!l || !strncmp(l, "unix:", 5)) {
		*unix_path = l ? xstrdup(l + 5) : xasprintf("%s/vessel.sock", o->root);
		if (!**unix_path)
			return vs_err_set(err, -EINVAL, "--listen unix:PATH: empty path");
		return vs_api_listen_unix(*unix_path, err);
	}
	*tcp = true;
	if (!o->token_file)
		return vs_err_set(err, -EINVAL,
				  "--listen %s: TCP needs --token-file (clients "
				  "send the token as Authorization: Bearer ...)",
				  l);
	return vs_api_listen_tcp(l, err);
}

/* The certificate and key for MHD (an empty list without TLS). */
static struct MHD_OptionItem *tls_options(struct server *s, struct MHD_OptionItem o[3])
{
	size_t n = 0;

	if (s->tls.cert) {
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls.cert };
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls.key };
	}
	o[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return o;
}

static int run(struct server *s, int fd, const char *where, struct vs_err **err)
{
	struct MHD_OptionItem tls[3];
	struct MHD_Daemon *d;
	sigset_t set;
	int sig = 0;

	if (api_consoles_new(&s->consoles) < 0)
		return vs_err_set(err, -EMFILE, "cannot make the consoles' stop pipe");
	if (api_sse_new(&s->ctx, &s->sse) < 0) {
		api_consoles_free(s->consoles);
		return vs_err_set(err, -EAGAIN, "cannot start the event streams' thread");
	}
	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			MHD_ALLOW_UPGRADE | (s->tls.cert ? MHD_USE_TLS : 0),
		0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, s, MHD_OPTION_ARRAY, tls_options(s, tls), MHD_OPTION_END);
	if (!d) {
		api_sse_stop(s->sse);
		api_sse_free(s->sse);
		api_consoles_free(s->consoles);
		return vs_err_set(err, -EIO, "cannot start the HTTP server on %s%s", where,
				  s->tls.cert ? " (do --tls-cert and --tls-key hold a matching "
						"PEM certificate and private key?)" :
						"");
	}
	vs_info("serving the API on %s", where);
	fprintf(stderr, "vessel: listening on %s\n", where);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
		;
	api_sse_stop(s->sse);
	api_consoles_stop(s->consoles);
	MHD_stop_daemon(d);
	api_sse_free(s->sse);
	api_consoles_free(s->consoles);
	return 0;
}

static int load_tls(const struct vs_api_serve_opts *o, struct vs_api_tls *tls, struct vs_err **err)
{
	_cleanup_free_ char *cert = NULL, *key = NULL;
	int r;

	if (!o->tls_self_signed)
		return vs_api_tls_load(tls, o->tls_cert, o->tls_key, err);
	if (o->tls_cert || o->tls_key)
		return vs_err_set(err, -EINVAL,
				  "--tls-self-signed or --tls-cert/--tls-key, not both");
	if (!o->listen || !strncmp(o->listen, "unix:", 5))
		return vs_err_set(err, -EINVAL,
				  "--tls-self-signed is for TCP (--listen HOST:PORT)");
	if ((r = vs_api_tls_self_signed(o->root, &cert, &key, err)) < 0)
		return r;
	return vs_api_tls_load(tls, cert, key, err);
}

int vs_api_serve(const struct vs_api_serve_opts *o, struct vs_err **err)
{
	struct vs_api_auth *auth = NULL;
	struct server s = { .ctx = { .be = &vs_api_backend_svc, .root = o->root } };
	char *unix_path = NULL, *where;
	sigset_t set;
	int fd, r;

	if (o->token_file) {
		auth = xzalloc(sizeof(*auth));
		if ((r = vs_api_auth_load(auth, o->token_file, err)) < 0)
			goto out;
	}
	if ((r = vs_svc_open(o->root, &s.ctx.svc, err)) < 0)
		goto out;
	/* after the store: it makes the root that --tls-self-signed writes into */
	if ((r = load_tls(o, &s.tls, err)) < 0)
		goto out;
	if ((r = fd = open_listener(o, &unix_path, &s.tcp, err)) < 0)
		goto out;
	s.auth = auth;
	/* blocked before MHD's thread exists, so that only sigwait sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_atfork(NULL, NULL, child_unblock);
	where = unix_path  ? xasprintf("unix:%s", unix_path) :
		s.tls.cert ? xasprintf("https://%s", o->listen) :
			     xstrdup(o->listen);
	r = run(&s, fd, where, err);
	free(where);
	close(fd);
	if (unix_path)
		unlink(unix_path);
out:
	vs_api_tls_clear(&s.tls);
	vs_svc_close(s.ctx.svc);
	free(unix_path);
	free(auth);
	return r;
}
