/* `vessel serve` in the vessel binary: execs vessel-serve (the same CLI
 * linked with the REST API, src/api) from the same directory, in place, with
 * the global options. The API's libraries (libmicrohttpd, GnuTLS and what
 * they pull in: ~1.3 ms of dynamic linking and ~0.5 MiB resident here) are
 * then loaded by the API server alone, not by every command and every VMM
 * forked from one (docs/api.md). */
#include "cli/cmds.h"
#include "common/fs.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVE_EXE "vessel-serve"
#define EXIT_FAIL 1
#define GLOBAL_ARGS 5 /* exe --root ROOT [--debug] serve */

int cmd_serve(const struct vs_cli_global *g, int argc, char **argv)
{
	char self[PATH_MAX], exe[PATH_MAX + 16];
	char **args = calloc((size_t)argc + GLOBAL_ARGS + 1, sizeof(*args));
	int n = 0, r = vs_exe_sibling(SERVE_EXE, self, sizeof(self), exe, sizeof(exe));

	if (!args || r < 0) {
		fprintf(stderr, "vessel: serve: cannot find %s: %s\n", SERVE_EXE, strerror(-r));
		free(args);
		return EXIT_FAIL;
	}
	args[n++] = exe;
	args[n++] = (char *)"--root";
	args[n++] = (char *)g->root;
	if (vs_log_get_level() >= VS_LOG_DEBUG)
		args[n++] = (char *)"--debug";
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i]; /* "serve" and its options */
	execv(exe, args);
	fprintf(stderr, "vessel: serve: cannot run %s: %s\n", exe, strerror(errno));
	free(args);
	return EXIT_FAIL;
}
