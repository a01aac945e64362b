/* `vessel image ls`, `inspect` and `mount`: reading the store and printing
 * it (a table, or JSON with --format json / for inspect). */
#include "cli/cmd-image.h"
#include "common/err.h"
#include "common/util.h"
#include "image/image.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	printf("%s\n", t ? t : "null");
	free(t);
	json_decref(j);
}

static void print_table(const struct vs_image_info *v, size_t n)
{
	printf("%-40s %-12s %10s %6s  %s\n", "NAME", "DIGEST", "SIZE", "LAYERS", "IMPORTED");
	for (size_t i = 0; i < n; i++)
		printf("%-40s %.12s %8.1fMB %6zu  %s\n", v[i].name, v[i].digest + 7,
		       (double)v[i].size / 1e6, v[i].n_layers, v[i].imported);
}

int image_cmd_ls(int argc, char **argv)
{
	struct vs_image_store *s = NULL;
	struct vs_image_info *v = NULL;
	struct vs_err *e = NULL;
	bool json = false;
	size_t n = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "json") == 0)
			json = true, i++;
		else
			return image_usage("ls", "usage: vessel image ls [--format json]");
	}
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_list(s, &v, &n, &e);
	vs_image_store_free(s);
	if (rc < 0)
		return image_fail(e);
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, vs_image_info_to_json(&v[i]));
		print_json(a);
	} else {
		print_table(v, n);
	}
	for (size_t i = 0; i < n; i++)
		vs_image_info_clear(&v[i]);
	free(v);
	return 0;
}

int image_cmd_inspect(int argc, char **argv)
{
	struct vs_image_store *s = NULL;
	struct vs_image_info info;
	struct vs_err *e = NULL;
	int rc = image_no_options("inspect", argc, argv);

	if (rc)
		return rc;
	if (argc != 2)
		return image_usage("inspect", "usage: vessel image inspect NAME");
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_inspect(s, argv[1], &info, &e);
	vs_image_store_free(s);
	if (rc < 0)
		return image_fail(e);
	print_json(vs_image_info_to_json(&info));
	vs_image_info_clear(&info);
	return 0;
}

int image_cmd_mount(int argc, char **argv)
{
	const char *upper = NULL, *work = NULL, *pos[2] = { NULL, NULL };
	struct vs_image_store *s = NULL;
	struct vs_image_info info;
	struct vs_err *e = NULL;
	int np = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--upper") == 0 && i + 1 < argc)
			upper = argv[++i];
		else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc)
			work = argv[++i];
		else if (argv[i][0] != '-' && np < 2)
			pos[np++] = argv[i];
		else
			return image_usage("mount", "unknown option or argument");
	}
	if (np != 2 || !upper || !work)
		return image_usage("mount",
				   "usage: vessel image mount NAME TARGET --upper DIR --work DIR");
	if ((rc = image_open(&s)))
		return rc;
	rc = vs_image_inspect(s, pos[0], &info, &e);
	vs_image_store_free(s);
	if (rc == 0) {
		rc = vs_image_overlay_mount(&info, upper, work, pos[1], &e);
		vs_image_info_clear(&info);
	}
	return rc < 0 ? image_fail(e) : 0;
}
