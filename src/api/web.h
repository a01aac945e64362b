/* The dashboard's assets (web/), gzipped into the binary at build time by
 * web/build.mjs (build/src/api/web-assets.c), and the static-file side of
 * `vessel serve` that answers them at / (static.c). */
#ifndef VS_API_WEB_H
#define VS_API_WEB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct vs_web_asset {
	const char *path; /* "/" or "/assets/app-<hash>.js" */
	const char *type; /* Content-Type */
	const char *cache; /* Cache-Control */
	const char *etag; /* quoted, of the uncompressed bytes */
	const unsigned char *gz; /* gzip of the file */
	size_t gz_len;
	size_t len; /* uncompressed */
};

/* Empty (vs_web_nassets 0) when built with -Ddashboard=false. */
extern const struct vs_web_asset vs_web_assets[];
extern const size_t vs_web_nassets;

/* The asset at exactly path ("/index.html" is "/"), or NULL. Only the table
 * is looked at, never the file system: no path can reach anything else. */
const struct vs_web_asset *vs_web_find(const char *path);

/* Is url the dashboard's (anything outside /v1)? Those are public: its
 * files hold no secret, the API behind them wants the token. */
bool vs_web_path(const char *url);

/* Answers a vs_web_path request: an asset, 304 for a matching
 * If-None-Match, /dashboard.json ({"token_required": tcp}), or a JSON
 * 404/405. */
enum MHD_Result vs_web_answer(struct MHD_Connection *c, const char *method, const char *url,
			      bool tcp);

#endif
