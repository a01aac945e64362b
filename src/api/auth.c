/* Bearer-token authentication of TCP clients (auth.h). */
#include "api/auth.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BEARER "Bearer "

static void trim(char *s, size_t *len)
{
	size_t a = 0, n = *len;

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	while (a < n && strchr(" \t", s[a]))
		a++;
	memmove(s, s + a, n - a);
	s[n - a] = 0;
	*len = n - a;
}

int vs_api_auth_load(struct vs_api_auth *a, const char *path, struct vs_err **err)
{
	char buf[VS_API_TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return vs_err_setsys(err, -errno, "--token-file %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return vs_err_set(err, -EPERM,
				  "--token-file %s: must be a regular file no one else can read "
				  "(chmod 600)",
				  path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return vs_err_setsys(err, -errno, "--token-file %s", path);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	a->len = strlen(buf);
	trim(buf, &a->len);
	if (a->len < VS_API_TOKEN_MIN || a->len > VS_API_TOKEN_MAX)
		return vs_err_set(err, -EINVAL, "--token-file %s: the token must be %d to %d bytes",
				  path, VS_API_TOKEN_MIN, VS_API_TOKEN_MAX);
	memcpy(a->token, buf, a->len + 1);
	return 0;
}

bool vs_api_auth_from_ws_protocol(const char *protocols, char *out, size_t len)
{
	static const char prefix[] = "bearer.";

	for (const char *p = protocols; p && *p;) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n > sizeof(prefix) - 1 && !strncmp(p, prefix, sizeof(prefix) - 1)) {
			n -= sizeof(prefix) - 1;
			if (n > VS_API_TOKEN_MAX || sizeof(BEARER) + n > len)
				return false;
			snprintf(out, len, "%s%.*s", BEARER, (int)n, p + sizeof(prefix) - 1);
			return true;
		}
		p += n;
	}
	return false;
}

bool vs_api_auth_check(const struct vs_api_auth *a, const char *header)
{
	volatile unsigned char diff = 0;
	size_t n;

	if (!header || strncmp(header, BEARER, sizeof(BEARER) - 1))
		return false;
	header += sizeof(BEARER) - 1;
	n = strnlen(header, VS_API_TOKEN_MAX + 1);
	/* every byte of the stored token is compared, whatever the length given */
	diff = n != a->len;
	for (size_t i = 0; i < a->len; i++)
		diff |= (unsigned char)a->token[i] ^ (unsigned char)(i < n ? header[i] : 0);
	return diff == 0;
}

static struct vs_api_fail_slot *slot_of(struct vs_api_auth *a, const uint8_t *addr, uint64_t now_ms,
					bool create)
{
	struct vs_api_fail_slot *victim = NULL; /* an empty slot, else the oldest */

	for (size_t i = 0; i < VS_API_FAIL_SLOTS; i++) {
		struct vs_api_fail_slot *s = &a->slots[i];

		if (s->count && !memcmp(s->addr, addr, sizeof(s->addr))) {
			if (now_ms >= s->since_ms + VS_API_FAIL_WIN_S * 1000ull)
				s->count = 0; /* the window is over */
			return s->count || create ? s : NULL;
		}
		if (!victim || (victim->count && (!s->count || s->since_ms < victim->since_ms)))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->addr, addr, sizeof(victim->addr));
	return victim;
}

bool vs_api_auth_blocked(struct vs_api_auth *a, const uint8_t *addr, uint64_t now_ms)
{
	struct vs_api_fail_slot *s = slot_of(a, addr, now_ms, false);

	return s && s->count >= VS_API_FAIL_MAX;
}

unsigned vs_api_auth_failed(struct vs_api_auth *a, const uint8_t *addr, uint64_t now_ms)
{
	struct vs_api_fail_slot *s = slot_of(a, addr, now_ms, true);

	if (!s->count)
		s->since_ms = now_ms;
	return ++s->count;
}
