/* Published-port specifications (the `-p` syntax docker and podman use). */
#include "net/port.h"
#include "net/internal.h"
#include "net/ipam.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *vs_proto_name(enum vs_proto proto)
{
	return proto == VS_PROTO_UDP ? "udp" : "tcp";
}

static int parse_port(const char *spec, const char *s, const char *what, uint16_t *out,
		      struct vs_err **err)
{
	uint64_t v;
	int r = s[0] >= '0' && s[0] <= '9' ? vs_parse_uint(s, 1, 65535, &v) : -EINVAL;

	if (r == -ERANGE)
		return vs_err_set(err, -EINVAL, "port spec '%s': %s %s out of range (1-65535)",
				  spec, what, s);
	if (r < 0)
		return vs_err_set(err, -EINVAL, "port spec '%s': %s '%s' is not a number", spec,
				  what, s);
	*out = (uint16_t)v;
	return 0;
}

/* Splits "[HOSTIP:]HOSTPORT:PORT" (proto already cut off) into p. */
static int parse_ports(const char *spec, char *s, struct vs_port_spec *p, struct vs_err **err)
{
	char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char *hostport = s, *port;
	int r;

	if (!c1)
		return vs_err_set(err, -EINVAL,
				  "port spec '%s': expected [HOSTIP:]HOSTPORT:PORT[/tcp|udp]",
				  spec);
	if (c2) {
		if (strchr(c2 + 1, ':'))
			return vs_err_set(err, -EINVAL, "port spec '%s': too many ':'", spec);
		*c1 = '\0';
		r = vs_ipv4_parse(s, &p->host_ip, err);
		if (r < 0)
			return vs_err_wrap(err, r, "port spec '%s': host address", spec);
		hostport = c1 + 1;
		c1 = c2;
	}
	*c1 = '\0';
	port = c1 + 1;
	r = parse_port(spec, hostport, "host port", &p->host_port, err);
	if (r < 0)
		return r;
	return parse_port(spec, port, "port", &p->port, err);
}

int vs_port_spec_parse(const char *s, struct vs_port_spec *out, struct vs_err **err)
{
	_cleanup_free_ char *copy = NULL;
	struct vs_port_spec p = { .proto = VS_PROTO_TCP };
	char show[VS_NET_SHOW_MAX + 4], *slash;
	int r;

	if (!s || !*s)
		return vs_err_set(err, -EINVAL, "empty port spec");
	/* from here on, parts of s are quoted in messages: keep them one line */
	if (strlen(s) > VS_NET_SHOW_MAX || strcmp(net_show(s, show), s))
		return vs_err_set(err, -EINVAL,
				  "port spec '%s': not [HOSTIP:]HOSTPORT:PORT[/tcp|udp]", show);
	copy = xstrdup(s);
	slash = strchr(copy, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "udp"))
			p.proto = VS_PROTO_UDP;
		else if (strcmp(slash, "tcp"))
			return vs_err_set(err, -EINVAL,
					  "port spec '%s': protocol '%s' (tcp or udp)", s, slash);
	}
	r = parse_ports(s, copy, &p, err);
	if (r < 0)
		return r;
	*out = p;
	return 0;
}

char *vs_port_spec_str(const struct vs_port_spec *p, char *buf)
{
	char ip[16];

	if (p->host_ip)
		snprintf(buf, 40, "%s:%u:%u/%s", vs_ipv4_str(p->host_ip, ip), p->host_port, p->port,
			 vs_proto_name(p->proto));
	else
		snprintf(buf, 40, "%u:%u/%s", p->host_port, p->port, vs_proto_name(p->proto));
	return buf;
}

bool vs_port_spec_conflicts(const struct vs_port_spec *a, const struct vs_port_spec *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
}
