/* sha256 over OpenSSL's EVP (SHA-NI where the CPU has it), as the
 * "sha256:<hex>" digests of the OCI image spec (descriptor.md). */
#include "image/internal.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <string.h>

struct vs_sha256 {
	EVP_MD_CTX *ctx;
};

struct vs_sha256 *vs_sha256_new(void)
{
	struct vs_sha256 *h = xzalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		xoom();
	return h;
}

void vs_sha256_update(struct vs_sha256 *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void vs_sha256_final(struct vs_sha256 *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;
	char *o = out + sizeof(VS_DIGEST_PREFIX) - 1;

	EVP_DigestFinal_ex(h->ctx, md, &n);
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
	EVP_MD_CTX_free(h->ctx);
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
