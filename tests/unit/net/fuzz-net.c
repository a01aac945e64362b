/* Fuzz entry for src/net's parsers of user input (CLI flags today, API
 * bodies later): subnets, addresses, gateways, -p port specs, and the nft
 * listing parser. Accepted values must round-trip through their
 * formatters. libFuzzer target with clang; the corpus replay
 * (tests/fuzz/replay.c) runs in every build. */
#include "fuzz-net.h"
#include "net/ipam.h"
#include "net/nft.h"
#include "net/port.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

static void check_subnet(const char *s)
{
	struct vs_cidr c, again;
	struct vs_err *e = NULL;
	char buf[20];
	uint32_t gw, next;

	if (vs_subnet_parse(s, &c, &e) < 0) {
		if (!e || strchr(e->msg, '\n'))
			abort();
		vs_err_free(e);
		return;
	}
	if (vs_subnet_parse(vs_cidr_str(&c, buf), &again, NULL) || again.addr != c.addr ||
	    again.prefix != c.prefix)
		abort();
	if (vs_ipam_gateway(&c, NULL, &gw, NULL) || vs_ipam_next(&c, gw, &gw, 1, &next, NULL) ||
	    !vs_cidr_contains(&c, next) || next == gw)
		abort();
}

static void check_port(const char *s)
{
	struct vs_port_spec p, q;
	struct vs_err *e = NULL;
	char buf[40];

	if (vs_port_spec_parse(s, &p, &e) < 0) {
		if (!e || strchr(e->msg, '\n'))
			abort();
		vs_err_free(e);
		return;
	}
	if (vs_port_spec_parse(vs_port_spec_str(&p, buf), &q, NULL) || memcmp(&p, &q, sizeof(p)))
		abort();
}

int fuzz_net_one(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct vs_cidr net = { 0x0a580000, 16 };
	struct vs_nft_rule *rules = NULL;
	size_t n = 0;
	uint32_t a;
	uint8_t prefix;

	memcpy(s, data, size);
	s[size] = '\0';
	check_subnet(s);
	check_port(s);
	vs_ipv4_parse(s, &a, NULL);
	vs_ipv4_prefix_parse(s, &a, &prefix, NULL);
	vs_ipam_gateway(&net, s, &a, NULL);
	vs_nft_rules(s, &rules, &n);
	free(rules);
	{
		char found[48];

		/* the finding is always a terminated string within the buffer */
		if (vs_nft_forward_drop(s, "inet vessel", found, sizeof(found)) &&
		    strnlen(found, sizeof(found)) == sizeof(found))
			abort();
	}
	free(s);
	return 1;
}

#ifdef VS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_net_one(data, size);
	return 0;
}
#endif
