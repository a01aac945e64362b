/* `vessel serve --tls-self-signed`: a P-256 key and a self-signed
 * certificate (a year; subject and SANs: the host name, localhost,
 * 127.0.0.1, ::1) made with libcrypto on first start under <root>/tls/, and
 * the certificate's SHA-256 fingerprint, for clients to pin (tls.h). */
#include "api/tls.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAYS 365

/* Writes the key (mode 0600) or certificate through a temporary file. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new-%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key ? 0600 : 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
		   PEM_write_X509(f, cert);
	if (fclose(f) != 0 || !ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static bool add_san(X509 *cert, const char *host)
{
	_cleanup_free_ char *san = xasprintf("DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", host);
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san)))
		return false;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A self-signed certificate for key. */
static X509 *make_cert(EVP_PKEY *key)
{
	X509 *c = X509_new();
	char host[256] = "localhost";
	X509_NAME *name;

	gethostname(host, sizeof(host) - 1);
	if (!c || !X509_set_version(c, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(c), (long)(vs_now_ns() & 0x7fffffff)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), (long)DAYS * 86400) ||
	    !X509_set_pubkey(c, key) || !(name = X509_get_subject_name(c)) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)host, -1, -1,
					0) ||
	    !X509_set_issuer_name(c, name) || !add_san(c, host) ||
	    !X509_sign(c, key, EVP_sha256())) {
		X509_free(c);
		return NULL;
	}
	return c;
}

/* Prints the certificate's SHA-256 fingerprint (as openssl x509 -fingerprint). */
static void print_fingerprint(const char *cert_path)
{
	FILE *f = fopen(cert_path, "re");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (f)
		fclose(f);
	if (c && X509_digest(c, EVP_sha256(), md, &n)) {
		fprintf(stderr, "vessel: TLS certificate %s, SHA-256 fingerprint ", cert_path);
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, "%02X%s", md[i], i + 1 < n ? ":" : "\n");
	}
	X509_free(c);
}

int vs_api_tls_self_signed(const char *root, char **cert_path, char **key_path, struct vs_err **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/tls", root);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int r = 0;

	*cert_path = xasprintf("%s/cert.pem", dir);
	*key_path = xasprintf("%s/key.pem", dir);
	if (access(*cert_path, F_OK) == 0 && access(*key_path, F_OK) == 0)
		goto done; /* made on an earlier start */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vs_err_setsys(err, -errno, "cannot create %s", dir);
	if (!(key = EVP_EC_gen("P-256")) || !(cert = make_cert(key)))
		r = vs_err_set(err, -EIO, "cannot make a self-signed certificate (libcrypto)");
	else if ((r = write_pem(*key_path, key, NULL)) < 0 ||
		 (r = write_pem(*cert_path, NULL, cert)) < 0)
		vs_err_setsys(err, r, "cannot write %s", dir);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (r < 0)
		return r;
done:
	print_fingerprint(*cert_path);
	return 0;
}
