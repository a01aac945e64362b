/* `vessel serve [--listen unix:PATH | --listen HOST:PORT --token-file F
 * [--tls-cert C --tls-key K]]`:
 * the REST API (src/api, docs/api.md). Argument parsing only. */
#include "cli/cmds.h"
#include "api/api.h"
#include "common/err.h"

#include <stdio.h>
#include <string.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static int usage(FILE *f)
{
	fprintf(f,
		"usage: vessel serve [--listen unix:PATH | --listen HOST:PORT --token-file FILE\n"
		"                    [--tls-cert CERT.pem --tls-key KEY.pem | --tls-self-signed]]\n"
		"  default: unix:<root>/vessel.sock (mode 0600); TCP requires a token file\n"
		"  --list-routes: print the API's routes and exit\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

static int list_routes(void)
{
	const char *m, *p;

	for (size_t i = 0; vs_api_route_get(i, &m, &p); i++)
		printf("%s %s\n", m, p);
	return 0;
}

int cmd_serve(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_api_serve_opts o = { .root = g->root };
	struct vs_err *err = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			o.listen = argv[++i];
		else if (!strcmp(argv[i], "--token-file") && i + 1 < argc)
			o.token_file = argv[++i];
		else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc)
			o.tls_cert = argv[++i];
		else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc)
			o.tls_key = argv[++i];
		else if (!strcmp(argv[i], "--tls-self-signed"))
			o.tls_self_signed = true;
		else if (!strcmp(argv[i], "--list-routes"))
			return list_routes();
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout);
		else
			return usage(stderr);
	}
	if (vs_api_serve(&o, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err ? err->msg : "serve failed");
		vs_err_free(err);
		return EXIT_FAIL;
	}
	return 0;
}
