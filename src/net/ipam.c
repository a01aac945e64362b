/* IPv4 address management: pure functions over CIDRs and address sets. */
#include "net/ipam.h"
#include "net/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *net_show(const char *s, char buf[VS_NET_SHOW_MAX + 4])
{
	size_t i = 0;

	for (; s && s[i] && i < VS_NET_SHOW_MAX; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, s && s[i] ? "..." : "");
	return buf;
}

/* Parses a decimal octet at *p (no sign, no leading zeros: "010" is
 * ambiguous, inet_aton reads it as octal), advancing *p. */
static bool parse_octet(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;
	int digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (uint32_t)(*s++ - '0');
		digits++;
	}
	if (!digits || digits > 3 || v > 255 || (digits > 1 && **p == '0'))
		return false;
	*out = v;
	*p = s;
	return true;
}

static bool parse_addr(const char **p, uint32_t *out)
{
	uint32_t a = 0, o;

	for (int i = 0; i < 4; i++) {
		if (i && *(*p)++ != '.')
			return false;
		if (!parse_octet(p, &o))
			return false;
		a = a << 8 | o;
	}
	*out = a;
	return true;
}

int vs_ipv4_parse(const char *s, uint32_t *out, struct vs_err **err)
{
	const char *p = s ? s : "";
	char show[VS_NET_SHOW_MAX + 4];
	uint32_t a;

	if (!parse_addr(&p, &a) || *p)
		return vs_err_set(err, -EINVAL, "'%s' is not an IPv4 address (a.b.c.d)",
				  net_show(s, show));
	*out = a;
	return 0;
}

char *vs_ipv4_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

char *vs_cidr_str(const struct vs_cidr *c, char *buf)
{
	char ip[16];

	snprintf(buf, 19, "%s/%u", vs_ipv4_str(c->addr, ip), c->prefix);
	return buf;
}

uint32_t vs_cidr_mask(const struct vs_cidr *c)
{
	return c->prefix ? ~0u << (32 - c->prefix) : 0;
}

uint32_t vs_cidr_broadcast(const struct vs_cidr *c)
{
	return c->addr | ~vs_cidr_mask(c);
}

bool vs_cidr_contains(const struct vs_cidr *c, uint32_t addr)
{
	return (addr & vs_cidr_mask(c)) == c->addr;
}

bool vs_cidr_overlaps(const struct vs_cidr *a, const struct vs_cidr *b)
{
	/* two prefixes overlap iff the shorter one contains the other's network */
	const struct vs_cidr *wide = a->prefix <= b->prefix ? a : b;
	const struct vs_cidr *narrow = wide == a ? b : a;

	return vs_cidr_contains(wide, narrow->addr);
}

int vs_ipam_find_overlap(const struct vs_cidr *c, const struct vs_cidr *existing, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vs_cidr_overlaps(c, &existing[i]))
			return (int)i;
	return -1;
}

int vs_subnet_parse(const char *s, struct vs_cidr *out, struct vs_err **err)
{
	const char *p = s ? s : "";
	struct vs_cidr c = { 0 };
	uint32_t a, prefix;
	char net[20];

	if (!parse_addr(&p, &a) || *p++ != '/' || !parse_octet(&p, &prefix) || *p) {
		char show[VS_NET_SHOW_MAX + 4];

		return vs_err_set(err, -EINVAL, "'%s' is not a CIDR (a.b.c.d/N)",
				  net_show(s, show));
	}
	if (prefix > 32)
		return vs_err_set(err, -EINVAL, "%s: prefix length %u is over 32", s, prefix);
	if (prefix < VS_IPAM_PREFIX_MIN)
		return vs_err_set(err, -EINVAL, "%s: subnet too large (prefix /%u, at most /%d)", s,
				  prefix, VS_IPAM_PREFIX_MIN);
	if (prefix > VS_IPAM_PREFIX_MAX)
		return vs_err_set(err, -EINVAL, "%s: subnet too small (prefix /%u, at least /%d)",
				  s, prefix, VS_IPAM_PREFIX_MAX);
	c.prefix = (uint8_t)prefix;
	c.addr = a & vs_cidr_mask(&c);
	if (c.addr != a)
		return vs_err_set(err, -EINVAL, "%s: host bits set (network is %s)", s,
				  vs_cidr_str(&c, net));
	*out = c;
	return 0;
}

int vs_ipv4_prefix_parse(const char *s, uint32_t *addr, uint8_t *prefix, struct vs_err **err)
{
	const char *p = s ? s : "";
	char show[VS_NET_SHOW_MAX + 4];
	uint32_t a, n;

	if (!parse_addr(&p, &a) || *p++ != '/' || !parse_octet(&p, &n) || *p || n > 32)
		return vs_err_set(err, -EINVAL, "'%s' is not an address with a prefix (a.b.c.d/N)",
				  net_show(s, show));
	*addr = a;
	*prefix = (uint8_t)n;
	return 0;
}

int vs_ipam_gateway(const struct vs_cidr *subnet, const char *want, uint32_t *out,
		    struct vs_err **err)
{
	char net[20], ip[16];
	uint32_t gw;
	int r;

	if (!want) {
		*out = subnet->addr + 1;
		return 0;
	}
	r = vs_ipv4_parse(want, &gw, err);
	if (r < 0)
		return vs_err_wrap(err, r, "gateway");
	if (!vs_cidr_contains(subnet, gw))
		return vs_err_set(err, -EINVAL, "gateway %s is outside the subnet %s",
				  vs_ipv4_str(gw, ip), vs_cidr_str(subnet, net));
	if (gw == subnet->addr || gw == vs_cidr_broadcast(subnet))
		return vs_err_set(err, -EINVAL, "gateway %s is the %s address of %s",
				  vs_ipv4_str(gw, ip), gw == subnet->addr ? "network" : "broadcast",
				  vs_cidr_str(subnet, net));
	*out = gw;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int vs_ipam_next(const struct vs_cidr *subnet, uint32_t gateway, const uint32_t *used, size_t n,
		 uint32_t *out, struct vs_err **err)
{
	_cleanup_free_ uint32_t *s = xmalloc((n + 1) * sizeof(*s));
	uint32_t cand = subnet->addr + 1, last = vs_cidr_broadcast(subnet) - 1;
	char net[20];
	size_t m = 0;

	/* the sorted in-subnet used set plus the gateway, then one walk */
	for (size_t i = 0; i < n; i++)
		if (vs_cidr_contains(subnet, used[i]))
			s[m++] = used[i];
	s[m++] = gateway;
	qsort(s, m, sizeof(*s), cmp_u32);
	for (size_t i = 0; i < m && cand <= last; i++) {
		if (s[i] == cand)
			cand++;
		else if (s[i] > cand)
			break;
	}
	if (cand > last)
		return vs_err_set(err, -ENOSPC, "subnet %s is full", vs_cidr_str(subnet, net));
	*out = cand;
	return 0;
}
