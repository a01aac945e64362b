/* `vessel logs [-f] [--tail N] [-t] NAME`: a container's output
 * (vs_svc_ctr_logs), its stdout to our stdout and its stderr to our
 * stderr, as docker. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr.h"
#include "svc/svc.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static bool write_out(void *ctx, int stream, const char *s, size_t n)
{
	(void)ctx;
	while (n > 0) {
		ssize_t w = write(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false; /* our output is gone: stop */
		s += w;
		n -= (size_t)w;
	}
	return true;
}

int cmd_logs(const struct vs_cli_global *g, int argc, char **argv)
{
	static const char *const syn = "[-f] [--tail N] [-t] NAME";
	struct vs_ctr_logs_opts o = { .tail = -1, .write = write_out };
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	uint64_t n = 0;
	int i = 1, rc = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
			o.follow = true;
		else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timestamps"))
			o.timestamps = true;
		else if (!strcmp(argv[i], "--tail") && i + 1 < argc && !strcmp(argv[i + 1], "all"))
			o.tail = -1, i++;
		else if (!strcmp(argv[i], "--tail") && i + 1 < argc &&
			 vs_parse_uint(argv[i + 1], 0, UINT32_MAX, &n) == 0)
			o.tail = (int64_t)n, i++;
		else
			return fprintf(stderr,
				       "vessel logs: bad option '%.60s' (usage: vessel logs %s)\n",
				       argv[i], syn),
			       EXIT_USAGE;
	}
	if (argc - i != 1)
		return fprintf(stderr, "vessel logs: one container (usage: vessel logs %s)\n", syn),
		       EXIT_USAGE;
	fflush(stdout);
	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_ctr_logs(svc, argv[i], &o, &err) < 0) {
		fprintf(stderr, "vessel logs: %s\n", err ? err->msg : "failed");
		rc = EXIT_FAIL;
	}
	vs_err_free(err);
	vs_svc_close(svc);
	return rc;
}
