/* TLS for `vessel serve` over TCP (docs/api.md "TLS"): a PEM certificate
 * (chain) and its private key, handed to libmicrohttpd's GnuTLS. */
#ifndef VS_API_TLS_H
#define VS_API_TLS_H

#include <stdbool.h>

struct vs_err;

struct vs_api_tls {
	char *cert, *key; /* PEM text; both NULL: no TLS */
};

/* Reads cert and key (both or neither; the key must be mode 0600 or
 * stricter). Returns 0, or -errno with one line in *err. */
int vs_api_tls_load(struct vs_api_tls *t, const char *cert, const char *key, struct vs_err **err);
void vs_api_tls_clear(struct vs_api_tls *t);

/* --tls-self-signed (tls-gen.c): <root>/tls/cert.pem and key.pem (0600),
 * made on first start; prints the certificate's SHA-256 fingerprint on
 * stderr. Returns 0 with both paths (malloc'd, also on failure), or -errno
 * with *err. */
int vs_api_tls_self_signed(const char *root, char **cert_path, char **key_path,
			   struct vs_err **err);

#endif
