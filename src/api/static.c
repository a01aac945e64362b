/* The dashboard's files at / (web.h): looked up in the table build.mjs
 * generates, never on disk. Sent gzipped to clients that take gzip (every
 * browser), inflated for the rest; hashed assets cached for a year, the
 * page itself revalidated by ETag. */
#include "api/web.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* What the page may do: its own scripts and styles (xterm.js adds a <style>),
 * fetches and WebSockets to this server only, no framing. */
#define CSP                                                                         \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
	"img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; "      \
	"form-action 'none'; frame-ancestors 'none'"

const struct vs_web_asset *vs_web_find(const char *path)
{
	if (!strcmp(path, "/index.html"))
		path = "/";
	for (size_t i = 0; i < vs_web_nassets; i++)
		if (!strcmp(vs_web_assets[i].path, path))
			return &vs_web_assets[i];
	return NULL;
}

/* Is q (after "q=") zero: "0", "0.", "0.000"? */
static bool q_zero(const char *q)
{
	if (*q++ != '0')
		return false;
	if (*q == '.')
		q += 1 + strspn(q + 1, "0");
	return *q == 0 || *q == ',' || *q == ' ' || *q == ';';
}

/* Does the client take gzip? A "gzip" coding in Accept-Encoding (a list
 * of "coding[;q=N]") that is not refused with q=0. */
static bool takes_gzip(struct MHD_Connection *c)
{
	const char *ae =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	while (ae && *ae) {
		size_t n, item;

		ae += strspn(ae, " ,");
		item = strcspn(ae, ",");
		n = strcspn(ae, " ;,");
		if (n == 4 && !strncasecmp(ae, "gzip", 4)) {
			const char *q = strstr(ae, "q=");

			return !(q && q < ae + item && q_zero(q + 2));
		}
		ae += item;
	}
	return false;
}

/* The asset's bytes inflated (malloc'd, a->len bytes), or NULL. */
static void *inflate_asset(const struct vs_web_asset *a)
{
	z_stream z = { 0 };
	void *out = malloc(a->len ? a->len : 1);

	if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)a->gz;
	z.avail_in = (uInt)a->gz_len;
	z.next_out = out;
	z.avail_out = (uInt)a->len;
	if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != a->len) {
		free(out);
		out = NULL;
	}
	inflateEnd(&z);
	return out;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
			     const char *type, const char *cache)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, CSP);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *json)
{
	return queue(c, status,
		     MHD_create_response_from_buffer(strlen(json), (void *)json,
						     MHD_RESPMEM_PERSISTENT),
		     "application/json", "no-cache");
}

static enum MHD_Result send_asset(struct MHD_Connection *c, const struct vs_web_asset *a)
{
	const char *inm =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *r;
	bool gz = takes_gzip(c);
	void *raw;

	if (inm && !strcmp(inm, a->etag)) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
		return queue(c, MHD_HTTP_NOT_MODIFIED, r, NULL, a->cache);
	}
	if (gz) {
		r = MHD_create_response_from_buffer(a->gz_len, (void *)a->gz,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		if (!(raw = inflate_asset(a)))
			return send_text(c, 500, "{\"error\":\"cannot inflate the asset\"}");
		r = MHD_create_response_from_buffer(a->len, raw, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(raw);
	}
	if (r) {
		if (gz)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
	}
	return queue(c, MHD_HTTP_OK, r, a->type, a->cache);
}

bool vs_web_path(const char *url)
{
	return strncmp(url, "/v1/", 4) && strcmp(url, "/v1");
}

enum MHD_Result vs_web_answer(struct MHD_Connection *c, const char *method, const char *url,
			      bool tcp)
{
	const struct vs_web_asset *a;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				 "{\"error\":\"method not allowed on this path\"}");
	if (!strcmp(url, "/dashboard.json"))
		return send_text(c, MHD_HTTP_OK,
				 tcp ? "{\"token_required\":true}" : "{\"token_required\":false}");
	if ((a = vs_web_find(url)))
		return send_asset(c, a);
	if (!vs_web_nassets && !strcmp(url, "/"))
		return send_text(
			c, MHD_HTTP_NOT_FOUND,
			"{\"error\":\"the dashboard is not built in (-Ddashboard=false)\"}");
	return send_text(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"no such endpoint\"}");
}
