/* `vessel image`: import, ls, inspect, rm, prune, export, mount. Parsing
 * and printing only; the work is in src/image. The store is under the
 * global --root (else $VESSEL_ROOT, else /var/lib/vessel). Exit
 * status: 0, 1 when the operation failed, 2 for a usage error; every
 * failure is one line on stderr. */
#include "cli/cmd-image.h"
#include "cli/cmds.h"
#include "common/err.h"
#include "common/util.h"
#include "image/image.h"
#include "svc/ctr.h"
#include "svc/svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 30

int image_fail(struct vs_err *e)
{
	fprintf(stderr, "vessel image: %s\n", e ? e->msg : "failed");
	vs_err_free(e);
	return 1;
}

int image_usage(const char *verb, const char *msg)
{
	fprintf(stderr, "vessel image%s%s: %s (see vessel image --help)\n", verb ? " " : "",
		verb ? verb : "", msg);
	return 2;
}

/* Rejects any option left in argv (the verbs that take none but --help). */
int image_no_options(const char *verb, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1]) {
			char msg[128];

			snprintf(msg, sizeof(msg), "unknown option '%.60s'", argv[i]);
			return image_usage(verb, msg);
		}
	return 0;
}

/* The global --root (else $VESSEL_ROOT, else /var/lib/vessel), set by cmd_image. */
static const char *image_root;

int image_open(struct vs_image_store **s)
{
	struct vs_err *e = NULL;

	if (vs_image_store_open(image_root ? image_root : vs_image_default_root(), s, &e) < 0)
		return image_fail(e);
	return 0;
}

/* The progress bar: drawn on stderr only when it is a terminal. */
static void progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
	char bar[BAR_WIDTH + 1];
	int fill = total ? (int)(VS_MIN(done, total) * BAR_WIDTH / total) : 0;

	(void)ctx;
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : (total ? '.' : ' ');
	bar[BAR_WIDTH] = 0;
	fprintf(stderr, "\r\033[K%-12s [%s] %7.1f MiB", phase, bar, (double)done / VS_MIB);
	if (total)
		fprintf(stderr, " / %.1f MiB", (double)total / VS_MIB);
}

static int import_opt(struct vs_image_import_opts *o, const char *flag, const char *val)
{
	uint64_t v;

	if (!val)
		return -1;
	if (strcmp(flag, "--max-bytes") == 0 && vs_parse_size(val, 1, &v) == 0 && v)
		o->limits.max_bytes = v;
	else if (strcmp(flag, "--max-entries") == 0 && vs_parse_uint(val, 1, UINT32_MAX, &v) == 0)
		o->limits.max_entries = v;
	else
		return -1;
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	struct vs_image_import_opts o = { 0 };
	struct vs_image_store *s = NULL;
	const char *pos[2] = { NULL, NULL };
	struct vs_err *e = NULL;
	char **names = NULL;
	int np = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			if (import_opt(&o, argv[i], i + 1 < argc ? argv[i + 1] : NULL) < 0) {
				char msg[128];

				snprintf(msg, sizeof(msg), "unknown option or bad value '%.60s'",
					 argv[i]);
				return image_usage("import", msg);
			}
			i++;
		} else if (np < 2) {
			pos[np++] = argv[i];
		} else {
			return image_usage("import", "too many arguments");
		}
	}
	if (np == 0)
		return image_usage("import", "usage: vessel image import FILE|DIR [NAME[:TAG]]");
	o.name = pos[1];
	if (isatty(STDERR_FILENO))
		o.progress = progress;
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_import(s, pos[0], &o, &names, &e);
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	vs_image_store_free(s);
	if (rc < 0)
		return image_fail(e);
	for (size_t i = 0; names[i]; i++)
		printf("%s\n", names[i]);
	vs_image_strv_free(names);
	return 0;
}

static int cmd_rm(int argc, char **argv)
{
	struct vs_image_store *s = NULL;
	struct vs_svc *svc = NULL;
	struct vs_err *se = NULL;
	struct vs_image_users users = { .in_use = vs_svc_ctr_image_in_use };
	int rc = image_no_options("rm", argc, argv), failed = 0;

	if (rc)
		return rc;
	if (argc < 2)
		return image_usage("rm", "usage: vessel image rm NAME...");
	/* the containers (in the store) say which images are in use */
	if (vs_svc_open(image_root ? image_root : vs_image_default_root(), &svc, &se) < 0)
		return image_fail(se);
	users.ctx = svc;
	if ((rc = image_open(&s))) {
		vs_svc_close(svc);
		return rc;
	}
	for (int i = 1; i < argc; i++) {
		struct vs_err *e = NULL;

		if (vs_image_rm(s, argv[i], &users, &e) < 0)
			failed = image_fail(e);
		else
			printf("%s\n", argv[i]);
	}
	vs_image_store_free(s);
	vs_svc_close(svc);
	return failed;
}

static int cmd_prune(int argc, char **argv)
{
	struct vs_image_prune_stats st;
	struct vs_image_store *s = NULL;
	struct vs_err *e = NULL;
	int rc = image_no_options("prune", argc, argv);

	if (rc)
		return rc;
	if (argc > 1)
		return image_usage("prune", "takes no arguments");
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_prune(s, &st, &e);
	vs_image_store_free(s);
	if (rc < 0)
		return image_fail(e);
	printf("removed %llu blobs (%.1f MiB), %llu layers, %llu import work directories\n",
	       (unsigned long long)st.blobs, (double)st.bytes / VS_MIB,
	       (unsigned long long)st.layers, (unsigned long long)st.tmp);
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	struct vs_image_store *s = NULL;
	struct vs_err *e = NULL;
	int rc = image_no_options("export", argc, argv);

	if (rc)
		return rc;
	if (argc != 3)
		return image_usage("export", "usage: vessel image export NAME FILE");
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_export(s, argv[1], argv[2], &e);
	vs_image_store_free(s);
	return rc < 0 ? image_fail(e) : 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} verbs[] = {
	{ "import", cmd_import,
	  "import FILE|DIR [NAME[:TAG]] [--max-entries N] [--max-bytes SIZE]" },
	{ "ls", image_cmd_ls, "ls [--format json]" },
	{ "inspect", image_cmd_inspect, "inspect NAME" },
	{ "rm", cmd_rm, "rm NAME..." },
	{ "prune", cmd_prune, "prune (unreferenced blobs, layers, dead imports' work)" },
	{ "export", cmd_export, "export NAME FILE (an OCI archive)" },
	{ "mount", image_cmd_mount, "mount NAME TARGET --upper DIR --work DIR (overlay)" },
};

int cmd_image(const struct vs_cli_global *g, int argc, char **argv)
{
	image_root = g->root;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		FILE *f = argc < 2 ? stderr : stdout;

		fprintf(f, "usage: vessel image VERB ...\n");
		for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
			fprintf(f, "  %s\n", verbs[i].help);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	return image_usage(NULL, "unknown verb");
}
