/* `vessel serve --tls-self-signed`: a P-256 key and a self-signed
 * certificate (a year; subject and SANs: the host name, localhost,
 * 127.0.0.1, ::1) made with GnuTLS (the TLS library libmicrohttpd serves
 * with) on first start under <root>/tls/, and the certificate's SHA-256
 * fingerprint, for clients to pin (tls.h). */
#include "api/tls.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAYS 365

/* Writes PEM text d to path through a temporary file. */
static int write_pem(const char *path, const gnutls_datum_t *d, mode_t mode)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new-%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	bool ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, d->data, d->size) == (ssize_t)d->size;
	if (close(fd) != 0 || !ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static bool add_san(gnutls_x509_crt_t c, unsigned type, const void *v, size_t n)
{
	return gnutls_x509_crt_set_subject_alt_name(c, type, v, (unsigned)n, GNUTLS_FSAN_APPEND) ==
	       0;
}

/* CN and SANs: the host name, localhost, 127.0.0.1, ::1. */
static bool add_names(gnutls_x509_crt_t c, const char *host)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 }, v6[16] = { [15] = 1 };

	return gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					     (unsigned)strlen(host)) == 0 &&
	       add_san(c, GNUTLS_SAN_DNSNAME, host, strlen(host)) &&
	       add_san(c, GNUTLS_SAN_DNSNAME, "localhost", strlen("localhost")) &&
	       add_san(c, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4)) &&
	       add_san(c, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6));
}

/* A self-signed certificate for key, as PEM in *pem (gnutls_free it). */
static int make_cert(gnutls_x509_privkey_t key, gnutls_datum_t *pem)
{
	uint32_t now_ns = (uint32_t)(vs_now_ns() & 0x7fffffff);
	uint8_t serial[4] = { now_ns >> 24, now_ns >> 16, now_ns >> 8, now_ns };
	char host[256] = "localhost";
	time_t now = time(NULL);
	gnutls_x509_crt_t c;
	int ok;

	gethostname(host, sizeof(host) - 1);
	if (gnutls_x509_crt_init(&c) < 0)
		return -ENOMEM;
	ok = gnutls_x509_crt_set_version(c, 3) == 0 &&
	     gnutls_x509_crt_set_serial(c, serial, sizeof(serial)) == 0 &&
	     gnutls_x509_crt_set_activation_time(c, now - 3600) == 0 &&
	     gnutls_x509_crt_set_expiration_time(c, now + (time_t)DAYS * 86400) == 0 &&
	     gnutls_x509_crt_set_key(c, key) == 0 && add_names(c, host) &&
	     gnutls_x509_crt_sign2(c, c, key, GNUTLS_DIG_SHA256, 0) == 0 &&
	     gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, pem) == 0;
	gnutls_x509_crt_deinit(c);
	return ok ? 0 : -EIO;
}

/* Prints the certificate's SHA-256 fingerprint (as openssl x509 -fingerprint). */
static void print_fingerprint(const char *cert_path)
{
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t c = NULL;
	uint8_t md[32];
	size_t n = sizeof(md);

	if (gnutls_load_file(cert_path, &pem) == 0 && gnutls_x509_crt_init(&c) == 0 &&
	    gnutls_x509_crt_import(c, &pem, GNUTLS_X509_FMT_PEM) == 0 &&
	    gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, md, &n) == 0) {
		fprintf(stderr, "vessel: TLS certificate %s, SHA-256 fingerprint ", cert_path);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%02X%s", md[i], i + 1 < n ? ":" : "\n");
	}
	if (c)
		gnutls_x509_crt_deinit(c);
	gnutls_free(pem.data);
}

/* A new P-256 key and its certificate, written under dir. */
static int make_pair(const char *dir, const char *cert_path, const char *key_path,
		     struct vs_err **err)
{
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	gnutls_x509_privkey_t key;
	int r = -EIO;

	if (gnutls_x509_privkey_init(&key) < 0)
		return vs_err_set(err, -ENOMEM, "cannot make a self-signed certificate (GnuTLS)");
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
					      &kpem) < 0 ||
	    make_cert(key, &cpem) < 0)
		vs_err_set(err, r, "cannot make a self-signed certificate (GnuTLS)");
	else if ((r = write_pem(key_path, &kpem, 0600)) < 0 ||
		 (r = write_pem(cert_path, &cpem, 0644)) < 0)
		vs_err_setsys(err, r, "cannot write %s", dir);
	if (kpem.data) /* the private key does not linger in freed memory */
		explicit_bzero(kpem.data, kpem.size);
	gnutls_free(kpem.data);
	gnutls_free(cpem.data);
	gnutls_x509_privkey_deinit(key);
	return r;
}

int vs_api_tls_self_signed(const char *root, char **cert_path, char **key_path, struct vs_err **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/tls", root);
	int r;

	*cert_path = xasprintf("%s/cert.pem", dir);
	*key_path = xasprintf("%s/key.pem", dir);
	if (access(*cert_path, F_OK) != 0 || access(*key_path, F_OK) != 0) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return vs_err_setsys(err, -errno, "cannot create %s", dir);
		if ((r = make_pair(dir, *cert_path, *key_path, err)) < 0)
			return r;
	}
	print_fingerprint(*cert_path);
	return 0;
}
