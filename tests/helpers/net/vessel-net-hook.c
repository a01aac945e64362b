/* vessel-net-hook: the service layer's network calls that no CLI verb
 * makes yet (containers and VMs will: vessel run / vm run --network), for
 * tests/integration/net/test_network_cli.py:
 *   vessel-net-hook ROOT alloc NETWORK KIND OWNER   lease an address, print it
 *   vessel-net-hook ROOT release KIND OWNER         release an owner's leases
 *   vessel-net-hook ROOT ensure NETWORK             vs_svc_net_ensure()
 * Errors: one line on stderr, exit 1. */
#include "svc/net.h"
#include "svc/svc.h"
#include "net/ipam.h"
#include "common/err.h"

#include <stdio.h>
#include <string.h>

static int run(struct vs_svc *svc, int argc, char **argv, struct vs_err **err)
{
	const char *verb = argv[2];
	char buf[16];
	uint32_t a;
	int r;

	if (!strcmp(verb, "alloc") && argc == 6) {
		if ((r = vs_svc_net_addr_alloc(svc, argv[3], argv[4], argv[5], &a, err)) == 0)
			printf("%s\n", vs_ipv4_str(a, buf));
		return r;
	}
	if (!strcmp(verb, "release") && argc == 5) {
		if ((r = vs_svc_net_addr_release(svc, argv[3], argv[4], err)) >= 0)
			printf("%d\n", r);
		return r < 0 ? r : 0;
	}
	if (!strcmp(verb, "ensure") && argc == 4)
		return vs_svc_net_ensure(svc, argv[3], err);
	fprintf(stderr, "usage: vessel-net-hook ROOT alloc NET KIND OWNER | release KIND OWNER | "
			"ensure NET\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: vessel-net-hook ROOT alloc|release|ensure ...\n");
		return 2;
	}
	r = vs_svc_open(argv[1], &svc, &err);
	if (r == 0)
		r = run(svc, argc, argv, &err);
	vs_svc_close(svc);
	if (r == 2)
		return 2;
	if (r < 0) {
		fprintf(stderr, "vessel-net-hook: %s\n", err ? err->msg : "failed");
		vs_err_free(err);
		return 1;
	}
	return 0;
}
