/*
 * Decoder of the guest command-line fragments (cmdline-abi.h): the guest init
 * links it, and the unit tests pair it with the encoder (cmd-encode.c).
 */
#include "cmd-decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Value of a base64url character, or -1. */
static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes text into dst (room for len * 3 / 4 bytes); returns bytes or -EINVAL. */
static long b64_decode(const char *text, size_t len, unsigned char *dst)
{
	unsigned int acc = 0, nacc = 0;
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64_val(text[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (unsigned int)v;
		if (++nacc == 4) {
			dst[n++] = (unsigned char)(acc >> 16);
			dst[n++] = (unsigned char)(acc >> 8);
			dst[n++] = (unsigned char)acc;
			acc = 0;
			nacc = 0;
		}
	}
	/* 1 leftover char cannot encode a byte; 2 give one byte, 3 give two. */
	if (nacc == 1)
		return -EINVAL;
	if (nacc == 2)
		dst[n++] = (unsigned char)(acc >> 4);
	if (nacc == 3) {
		dst[n++] = (unsigned char)(acc >> 10);
		dst[n++] = (unsigned char)(acc >> 2);
	}
	return n;
}

int vs_guest_list_decode(const char *text, size_t len, char ***out)
{
	size_t count = 0, raw_max, off;
	unsigned char *raw;
	char **vec;
	long n;

	while (len > 0 && text[len - 1] == '=')
		len--;
	raw_max = len / 4 * 3 + 3;
	raw = malloc(raw_max);
	if (!raw)
		return -ENOMEM;
	n = b64_decode(text, len, raw);
	if (n < 0 || (n > 0 && raw[n - 1] != '\0')) {
		free(raw);
		return -EINVAL;
	}
	for (long i = 0; i < n; i++)
		count += raw[i] == '\0';
	/* one block: the vector, then the strings (n bytes, NUL-terminated). */
	off = (count + 1) * sizeof(char *);
	vec = malloc(off + (size_t)n + 1);
	if (!vec) {
		free(raw);
		return -ENOMEM;
	}
	memcpy((char *)vec + off, raw, (size_t)n);
	free(raw);
	for (size_t i = 0, p = 0; i < count; i++) {
		vec[i] = (char *)vec + off + p;
		p += strlen(vec[i]) + 1;
	}
	vec[count] = NULL;
	*out = vec;
	return 0;
}

const char *vs_guest_cmdline_find(const char *cmdline, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *found = NULL, *p = cmdline;

	while (*p) {
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\n')
			end++;
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			found = p + klen + 1;
			*len = (size_t)(end - found);
		}
		p = end;
	}
	return found;
}

/* Parses a dotted quad; an empty field leaves *has false. */
static int ip_opt_addr(const char *field, struct in_addr *a, bool *has)
{
	*has = false;
	if (!field || !*field)
		return 0;
	if (inet_pton(AF_INET, field, a) != 1)
		return -EINVAL;
	*has = true;
	return 0;
}

int vs_guest_ip_parse(const char *val, size_t len, struct vs_guest_ip *out)
{
	char buf[128], *f[5] = { NULL }, *p = buf, *slash, *end;
	struct vs_guest_ip ip = { 0 };
	bool has_addr;
	int n = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	while (p && n < 5)
		f[n++] = strsep(&p, ",");
	if (n < 2 || n > 4 || !*f[0] || strlen(f[0]) >= sizeof(ip.ifname))
		return -EINVAL;
	strcpy(ip.ifname, f[0]);
	slash = strchr(f[1], '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	ip.prefix = (unsigned int)strtoul(slash + 1, &end, 10);
	if (*end || errno || ip.prefix > 32 || slash[1] == '-' || slash[1] == '+')
		return -EINVAL;
	if (ip_opt_addr(f[1], &ip.addr, &has_addr) < 0 || !has_addr ||
	    ip_opt_addr(n > 2 ? f[2] : NULL, &ip.gateway, &ip.has_gateway) < 0 ||
	    ip_opt_addr(n > 3 ? f[3] : NULL, &ip.dns, &ip.has_dns) < 0)
		return -EINVAL;
	*out = ip;
	return 0;
}
