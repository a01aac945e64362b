/* sha256 over OpenSSL's EVP (SHA-NI where the CPU has it), as the
 * "sha256:<hex>" digests of the OCI image spec (descriptor.md). libcrypto is
 * loaded on the first digest (common/dl.h), not at every vessel's start:
 * only image and container commands hash anything. */
#include "image/internal.h"
#include "common/dl.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRYPTO_SONAME "libcrypto.so.3"

/* Process-wide, as the loaded library is; set once under crypto_once. */
static struct {
	__typeof__(EVP_MD_CTX_new) *ctx_new;
	__typeof__(EVP_MD_CTX_free) *ctx_free;
	__typeof__(EVP_DigestInit_ex) *init;
	__typeof__(EVP_DigestUpdate) *update;
	__typeof__(EVP_DigestFinal_ex) *final;
	__typeof__(EVP_sha256) *sha256;
} evp;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

/* A host without libcrypto cannot digest anything: like an allocation
 * failure, that is not a condition the callers can handle. */
static void crypto_load(void)
{
	static const char *const names[] = { "EVP_MD_CTX_new",	   "EVP_MD_CTX_free",
					     "EVP_DigestInit_ex",  "EVP_DigestUpdate",
					     "EVP_DigestFinal_ex", "EVP_sha256" };
	const struct vs_dl_lib lib = {
		.soname = CRYPTO_SONAME, .names = names, .fns = (void **)&evp, .n = 6
	};
	const char *why = NULL;

	_Static_assert(sizeof(evp) == sizeof(names) / sizeof(names[0]) * sizeof(void *),
		       "one pointer per name");
	if (vs_dl_load(&lib, &why) < 0) {
		fprintf(stderr, "vessel: cannot load %s: %s\n", CRYPTO_SONAME, why ? why : "?");
		abort();
	}
}

struct vs_sha256 {
	EVP_MD_CTX *ctx;
};

struct vs_sha256 *vs_sha256_new(void)
{
	struct vs_sha256 *h = xzalloc(sizeof(*h));

	pthread_once(&crypto_once, crypto_load);
	h->ctx = evp.ctx_new();
	if (!h->ctx || evp.init(h->ctx, evp.sha256(), NULL) != 1)
		xoom();
	return h;
}

void vs_sha256_update(struct vs_sha256 *h, const void *p, size_t n)
{
	evp.update(h->ctx, p, n);
}

void vs_sha256_final(struct vs_sha256 *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;
	char *o = out + sizeof(VS_DIGEST_PREFIX) - 1;

	evp.final(h->ctx, md, &n);
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
	evp.ctx_free(h->ctx);
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
