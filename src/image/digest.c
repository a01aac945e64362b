/* sha256 over GnuTLS's hash API (nettle underneath, SHA-NI where the CPU
 * has it), as the "sha256:<hex>" digests of the OCI image spec
 * (descriptor.md). GnuTLS rather than libcrypto: libmicrohttpd loads it
 * into every vessel process anyway, and libcrypto alone costs `vessel
 * serve` 1.4 MiB of resident pages (docs/api.md "Memory"). */
#include "image/internal.h"
#include "common/util.h"

#include <gnutls/crypto.h>
#include <string.h>

struct vs_sha256 {
	gnutls_hash_hd_t h;
};

struct vs_sha256 *vs_sha256_new(void)
{
	struct vs_sha256 *h = xzalloc(sizeof(*h));

	if (gnutls_hash_init(&h->h, GNUTLS_DIG_SHA256) < 0)
		xoom();
	return h;
}

void vs_sha256_update(struct vs_sha256 *h, const void *p, size_t n)
{
	gnutls_hash(h->h, p, n);
}

void vs_sha256_final(struct vs_sha256 *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	char *o = out + sizeof(VS_DIGEST_PREFIX) - 1;

	gnutls_hash_output(h->h, md);
	memcpy(out, VS_DIGEST_PREFIX, sizeof(VS_DIGEST_PREFIX) - 1);
	for (unsigned int i = 0; i < sizeof(md); i++) {
		*o++ = hex[md[i] >> 4];
		*o++ = hex[md[i] & 15];
	}
	*o = 0;
	vs_sha256_free(h);
}

void vs_sha256_free(struct vs_sha256 *h)
{
	if (!h)
		return;
	gnutls_hash_deinit(h->h, NULL);
	free(h);
}

bool vs_digest_valid(const char *d)
{
	const size_t pl = sizeof(VS_DIGEST_PREFIX) - 1;

	if (!d || strncmp(d, VS_DIGEST_PREFIX, pl) != 0 || strlen(d) != pl + 64)
		return false;
	for (d += pl; *d; d++)
		if (!((*d >= '0' && *d <= '9') || (*d >= 'a' && *d <= 'f')))
			return false;
	return true;
}
