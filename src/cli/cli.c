/* vessel's command line: global options, then dispatch on the verb through
 * a const table. Invoked as `vessel-runc`, the binary speaks runc's CLI.
 * main.c calls vs_cli_main(); test binaries (tests/helpers) call it too. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr-mon-io.h"
#include "svc/ctr.h"
#include "svc/svc.h"
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
	{ "vm", cmd_vm, "microVMs: run, create, start, stop, ls... (vessel vm --help)" },
	{ "ps", cmd_ps, "everything vessel runs [-a] [--format json]" },
	{ "run", cmd_run, "run a container: [OPTIONS] IMAGE [COMMAND...] (vessel run --help)" },
	{ "create", cmd_create, "create a container without starting it" },
	{ "start", cmd_start, "start containers: NAME..." },
	{ "stop", cmd_stop, "stop containers: [-t SECS] NAME..." },
	{ "kill", cmd_kill, "signal containers: [-s SIG] NAME..." },
	{ "rm", cmd_rm, "remove containers: [-f] NAME..." },
	{ "logs", cmd_logs, "a container's output: [-f] [--tail N] [-t] NAME" },
	{ "inspect", cmd_inspect, "a container as JSON: NAME" },
	{ "wait", cmd_wait, "wait for containers to exit, print their status: NAME..." },
	{ "exec", cmd_exec, "run a command in a container: [-i] [-t] [-e] [-w] [-u] NAME CMD..." },
	{ "attach", cmd_attach, "attach to a container's terminal (-t): NAME" },
	{ "top", cmd_top, "the processes of a container: NAME" },
	{ "restart", cmd_restart, "restart containers: [-t SECS] NAME..." },
	{ "stats", cmd_stats, "containers' CPU, memory, I/O, live: [--no-stream] [--format json]" },
	{ "img", cmd_img, "disk images, qemu-img style (vessel img --help)" },
	{ "oci", cmd_oci, "runc-compatible OCI runtime (also as vessel-runc)" },
	{ "image", cmd_image, "container images (vessel image --help)" },
	{ "network", cmd_network, "virtual networks: create, ls, inspect, rm, prune" },
	{ "serve", cmd_serve, "the REST API on a unix socket or TCP (docs/api.md)" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vessel [--root DIR] [--debug] VERB [ARGS...]\n\n"
		"--root DIR: vessel's state (default $VESSEL_ROOT, else %s)\n\nverbs:\n",
		VS_SVC_DEFAULT_ROOT);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-7s %s\n", verbs[i].name, verbs[i].help);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Parses the global options; returns the index of the verb, or -(exit status + 1). */
static int parse_globals(struct vs_cli_global *g, int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			g->root = argv[++i];
		} else if (strncmp(argv[i], "--root=", 7) == 0) {
			g->root = argv[i] + 7;
		} else if (strcmp(argv[i], "--debug") == 0) {
			vs_log_set_level(VS_LOG_DEBUG);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("vessel version %s\n", VESSEL_VERSION);
			return -1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return -1;
		} else {
			fprintf(stderr, "vessel: unknown option '%s'\n", argv[i]);
			return -3;
		}
	}
	if (!*g->root) {
		fprintf(stderr, "vessel: --root: empty path\n");
		return -3;
	}
	return i;
}

int vs_cli_main(int argc, char **argv)
{
	struct vs_cli_global g = { .root = getenv("VESSEL_ROOT") };
	int i;

	if (!g.root || !*g.root)
		g.root = VS_SVC_DEFAULT_ROOT;
	if (argc > 0 && strcmp(base_name(argv[0]), "vessel-runc") == 0)
		return cmd_oci(&g, argc, argv);
	if (argc > 1 && strcmp(argv[1], VS_MON_RESUME_VERB) == 0)
		vs_svc_ctr_monitor_resume(argc, argv); /* a container's monitor, not a person */
	if ((i = parse_globals(&g, argc, argv)) < 0)
		return -i - 1;
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
