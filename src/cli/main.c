/* vessel's entry point: global options, then dispatch on the verb through a
 * const table. Invoked as `vessel-runc`, the binary speaks runc's CLI. */
#include "cli/cmds.h"
#include "common/log.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verb {
	const char *name;
	int (*fn)(const struct vs_cli_global *g, int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ "vm", cmd_vm, "run microVMs (vessel vm run --help)" },
	{ "img", cmd_img, "disk images, qemu-img style (vessel img --help)" },
	{ "oci", cmd_oci, "runc-compatible OCI runtime (also as vessel-runc)" },
	{ "image", cmd_image, "container images (vessel image --help)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vessel [--root DIR] [--debug] VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-6s %s\n", verbs[i].name, verbs[i].help);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
	struct vs_cli_global g = { .root = getenv("VESSEL_ROOT") };
	int i = 1;

	if (!g.root)
		g.root = "/var/lib/vessel";
	if (argc > 0 && strcmp(base_name(argv[0]), "vessel-runc") == 0)
		return cmd_oci(&g, argc, argv);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			g.root = argv[++i];
		} else if (strcmp(argv[i], "--debug") == 0) {
			vs_log_set_level(VS_LOG_DEBUG);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("vessel version %s\n", VESSEL_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vessel: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (strcmp(argv[i], verbs[v].name) == 0)
			return verbs[v].fn(&g, argc - i, argv + i);
	fprintf(stderr, "vessel: unknown command '%s' (see vessel --help)\n", argv[i]);
	return 2;
}
