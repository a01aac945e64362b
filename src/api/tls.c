/* `vessel serve --tls-cert C --tls-key K` (tls.h): the PEM files read for
 * libmicrohttpd's GnuTLS support (MHD_OPTION_HTTPS_MEM_CERT/KEY). */
#include "api/tls.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_MAX (1u << 20)

/* The file as a NUL-terminated string; secret: no one else may read it. */
static int read_pem(const char *opt, const char *path, bool secret, char **out, struct vs_err **err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return vs_err_setsys(err, -errno, "%s %s", opt, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_MAX ||
	    (secret && (st.st_mode & 077))) {
		close(fd);
		return vs_err_set(err, -EPERM, "%s %s: must be a regular file of at most 1 MiB%s",
				  opt, path, secret ? " no one else can read (chmod 600)" : "");
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0 || n != st.st_size) {
		free(buf);
		return vs_err_set(err, -EIO, "%s %s: short read", opt, path);
	}
	buf[n] = 0;
	if (!strstr(buf, "-----BEGIN ")) {
		free(buf);
		return vs_err_set(err, -EINVAL, "%s %s: not a PEM file", opt, path);
	}
	*out = buf;
	return 0;
}

int vs_api_tls_load(struct vs_api_tls *t, const char *cert, const char *key, struct vs_err **err)
{
	int r;

	memset(t, 0, sizeof(*t));
	if (!cert && !key)
		return 0;
	if (!cert || !key)
		return vs_err_set(err, -EINVAL, "TLS needs both --tls-cert and --tls-key");
	if ((r = read_pem("--tls-cert", cert, false, &t->cert, err)) < 0)
		return r;
	if ((r = read_pem("--tls-key", key, true, &t->key, err)) < 0) {
		vs_api_tls_clear(t);
		return r;
	}
	return 0;
}

void vs_api_tls_clear(struct vs_api_tls *t)
{
	free(t->cert);
	if (t->key) { /* the private key does not linger in freed memory */
		explicit_bzero(t->key, strlen(t->key));
		free(t->key);
	}
	memset(t, 0, sizeof(*t));
}
