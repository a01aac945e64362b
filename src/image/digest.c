/* sha256 with nettle (GnuTLS's own crypto library, SHA-NI where the CPU
 * has it), as the "sha256:<hex>" digests of the OCI image spec
 * (descriptor.md). nettle rather than GnuTLS or libcrypto: it is one small
 * library with no dependencies, so every vessel command (and every VMM
 * forked from one) starts without GnuTLS's dozen libraries, which only
 * vessel-serve links (docs/api.md "Memory"). */
#include "image/internal.h"
#include "common/util.h"

#include <nettle/sha2.h>
#include <string.h>

struct vs_sha256 {
	struct sha256_ctx c;
};

struct vs_sha256 *vs_sha256_new(void)
{
	struct vs_sha256 *h = xzalloc(sizeof(*h));

	sha256_init(&h->c);
	return h;
}

void vs_sha256_update(struct vs_sha256 *h, const void *p, size_t n)
{
	sha256_update(&h->c, n, p);
}

void vs_sha256_final(struct vs_sha256 *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_SIZE];
	char *o = out + sizeof(VS_DIGEST_PREFIX) - 1;

	sha256_digest(&h->c, sizeof(md), md);
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
