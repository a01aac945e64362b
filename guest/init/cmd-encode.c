/*
 * Encoder of the guest command-line fragments (cmdline-abi.h): the VMM links
 * it (guest_abi_dep) to build `vessel.cmd=...` for `vessel vm run -- CMD`.
 */
#include "cmd-encode.h"
#include "cmdline-abi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Length of the base64url text (no padding) of n bytes. */
static size_t b64_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* Emits one input byte into the running 24-bit group; returns chars written. */
static size_t b64_put(char *dst, unsigned int *acc, size_t *nacc, unsigned char c)
{
	size_t w = 0;

	*acc = (*acc << 8) | c;
	if (++*nacc == 3) {
		dst[w++] = b64url[(*acc >> 18) & 63];
		dst[w++] = b64url[(*acc >> 12) & 63];
		dst[w++] = b64url[(*acc >> 6) & 63];
		dst[w++] = b64url[*acc & 63];
		*acc = 0;
		*nacc = 0;
	}
	return w;
}

/* Flushes a partial group (1 or 2 bytes) as 2 or 3 chars, no padding. */
static size_t b64_flush(char *dst, unsigned int acc, size_t nacc)
{
	if (nacc == 1) {
		dst[0] = b64url[(acc >> 2) & 63];
		dst[1] = b64url[(acc << 4) & 63];
		return 2;
	}
	if (nacc == 2) {
		dst[0] = b64url[(acc >> 10) & 63];
		dst[1] = b64url[(acc >> 4) & 63];
		dst[2] = b64url[(acc << 2) & 63];
		return 3;
	}
	return 0;
}

int vs_guest_list_encode(const char *key, char *const list[], char **out)
{
	size_t raw = 0, klen = strlen(key), total, pos, nacc = 0;
	unsigned int acc = 0;
	char *s;

	for (size_t i = 0; list[i]; i++) {
		raw += strlen(list[i]) + 1;
		if (raw >= VS_GUEST_CMDLINE_SIZE)
			return -E2BIG;
	}
	total = klen + 1 + b64_len(raw);
	if (total >= VS_GUEST_CMDLINE_SIZE)
		return -E2BIG;
	s = malloc(total + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, key, klen);
	s[klen] = '=';
	pos = klen + 1;
	for (size_t i = 0; list[i]; i++) {
		const unsigned char *p = (const unsigned char *)list[i];

		do
			pos += b64_put(s + pos, &acc, &nacc, *p);
		while (*p++);
	}
	pos += b64_flush(s + pos, acc, nacc);
	s[pos] = '\0';
	*out = s;
	return 0;
}

int vs_guest_cmd_encode(char *const argv[], char **out)
{
	if (!argv || !argv[0])
		return -EINVAL;
	return vs_guest_list_encode(VS_GUEST_CMD_KEY, argv, out);
}

int vs_guest_cwd_encode(const char *dir, char **out)
{
	char *const list[] = { (char *)dir, NULL };

	if (!dir)
		return -EINVAL;
	return vs_guest_list_encode(VS_GUEST_CWD_KEY, list, out);
}

int vs_guest_env_encode(char *const envp[], char **out)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strchr(envp[i], '=') || envp[i][0] == '=')
			return -EINVAL;
	if (!envp)
		return -EINVAL;
	return vs_guest_list_encode(VS_GUEST_ENV_KEY, envp, out);
}
