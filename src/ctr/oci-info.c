/* The informational runc commands: state, list, ps, spec, features and
 * --version. */
#include "ctr/oci-cli.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

VS_DEFINE_CLEANUP(struct vs_ctr_state, vs_state_free)

void vs_oci_print_version(FILE *f)
{
	const struct scmp_version *v = seccomp_version();

	fprintf(f, "vessel-runc version %s\ncommit: none\nspec: 1.0.2-dev\nlibseccomp: %u.%u.%u\n",
		VESSEL_VERSION, v->major, v->minor, v->micro);
}

static int print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(j);
	if (!s)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int one_id(const struct vs_oci_global *g, int argc, char **argv, const char **fmt, char **id)
{
	const struct vs_oci_flag flags[] = { { "format|f", true, fmt }, { NULL, false, NULL } };
	struct vs_err *err = NULL;
	int npos;

	if (vs_oci_parse(argc, argv, flags, id, 1, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	if (npos < 1) {
		vs_err_set(&err, -EINVAL, "%s: container id cannot be empty", argv[-1]);
		return vs_oci_fail(g, err);
	}
	return 0;
}

/* OOM kills in the container's cgroup (kept until delete) are reported as
 * the annotation org.vessel.oom-kills, so a client sees why it stopped. */
static void add_oom_annotation(json_t *j, const struct vs_ctr_state *st)
{
	struct vs_cgroup *cg = NULL;
	unsigned long long n;
	json_t *ann;
	char buf[32];

	if (!st->cgroup_path || vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, NULL) < 0)
		return;
	n = vs_cgroup_oom_kills(cg);
	vs_cgroup_free(cg);
	if (!n)
		return;
	ann = json_object_get(j, "annotations");
	if (!ann) {
		ann = json_object();
		json_object_set_new(j, "annotations", ann);
	} else {
		ann = json_deep_copy(ann); /* do not modify the state's own object */
		json_object_set_new(j, "annotations", ann);
	}
	snprintf(buf, sizeof(buf), "%llu", n);
	json_object_set_new(ann, "org.vessel.oom-kills", json_string(buf));
}

int vs_oci_cmd_state(const struct vs_oci_global *g, int argc, char **argv)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	struct vs_err *err = NULL;
	const char *fmt = NULL;
	char *id;
	json_t *j;

	if (one_id(g, argc, argv, &fmt, &id))
		return 1;
	if (vs_state_load(g->root, id, &st, &err) < 0)
		return vs_oci_fail(g, err);
	j = vs_state_to_json(st, vs_state_status(g->root, st));
	add_oom_annotation(j, st);
	return print_json(j);
}

static json_t *collect(const char *root)
{
	json_t *a = json_array();
	struct dirent *de;
	DIR *d = opendir(root);

	while (d && (de = readdir(d))) {
		struct vs_ctr_state *st = NULL;

		if (de->d_name[0] == '.' || !vs_ctr_id_is_valid(de->d_name) ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		/* a directory whose state.json is missing or corrupt (a create
		 * killed early, a damaged file) is listed, so that it can be
		 * found and removed with delete --force */
		if (vs_state_load(root, de->d_name, &st, NULL) < 0) {
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "ociVersion",
					     "1.0.2-dev", "id", de->d_name, "pid", 0, "status",
					     "unknown", "bundle", "", "created", "", "owner", ""));
			continue;
		}
		json_array_append_new(a, vs_state_to_json(st, vs_state_status(root, st)));
		vs_state_free(st);
	}
	if (d)
		closedir(d);
	return a;
}

static void print_table(json_t *a)
{
	static const char *const cols[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
	static const char *const keys[] = { "id", "pid", "status", "bundle", "created", "owner" };
	size_t w[6], i, c;
	json_t *v;
	char buf[32];

	/* runc: tabwriter with minwidth 12 and padding 3 */
	for (c = 0; c < 6; c++)
		w[c] = VS_MAX(12, strlen(cols[c]) + 3);
	json_array_foreach(a, i, v) for (c = 0; c < 6;
					 c++) if (json_is_string(json_object_get(v, keys[c])))
		w[c] = VS_MAX(w[c], strlen(json_string_value(json_object_get(v, keys[c]))) + 3);
	for (c = 0; c < 6; c++)
		printf("%-*s%s", c < 5 ? (int)w[c] : 0, cols[c], c < 5 ? "" : "\n");
	json_array_foreach(a, i, v)
	{
		for (c = 0; c < 6; c++) {
			json_t *f = json_object_get(v, keys[c]);
			const char *s = json_is_string(f) ? json_string_value(f) : buf;

			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(f));
			printf("%-*s%s", c < 5 ? (int)w[c] : 0, s, c < 5 ? "" : "\n");
		}
	}
}

int vs_oci_cmd_list(const struct vs_oci_global *g, int argc, char **argv)
{
	const char *fmt = NULL, *quiet = NULL;
	const struct vs_oci_flag flags[] = { { "format|f", true, &fmt },
					     { "quiet|q", false, &quiet },
					     { NULL, false, NULL } };
	struct vs_err *err = NULL;
	char *pos[1];
	int npos;
	json_t *a, *v;
	size_t i;

	if (vs_oci_parse(argc, argv, flags, pos, 0, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	a = collect(g->root);
	if (fmt && strcmp(fmt, "json") == 0)
		return print_json(a);
	if (quiet)
		json_array_foreach(a, i, v)
			printf("%s\n", json_string_value(json_object_get(v, "id")));
	else
		print_table(a);
	json_decref(a);
	return 0;
}

/* Prints the header and the lines of `ps ARGS` whose PID column is one of
 * pids, as runc does (default ARGS: -ef). */
static int ps_table(char **args, int nargs, const pid_t *pids, size_t n)
{
	char *argv[64] = { (char *)"ps", (char *)"-ef" }, line[4096];
	int col = -1, p[2], status;
	FILE *f;
	pid_t child;

	for (int i = 0; i < nargs && i < 62; i++)
		argv[i + 1] = args[i], argv[i + 2] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0 || (child = fork()) < 0)
		return -errno;
	if (child == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp("ps", argv);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		char copy[4096], *save = NULL, *tok = NULL;
		int c = 0;

		snprintf(copy, sizeof(copy), "%s", line);
		for (tok = strtok_r(copy, " \t\n", &save);
		     tok && (col < 0 ? strcmp(tok, "PID") != 0 : c < col);
		     tok = strtok_r(NULL, " \t\n", &save))
			c++;
		if (col < 0) { /* the header */
			col = tok ? c : 0;
			fputs(line, stdout);
			continue;
		}
		for (size_t i = 0; tok && i < n; i++)
			if (atoi(tok) == pids[i])
				fputs(line, stdout);
	}
	if (f)
		fclose(f);
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

int vs_oci_cmd_ps(const struct vs_oci_global *g, int argc, char **argv)
{
	_cleanup_(vs_state_freep) struct vs_ctr_state *st = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	struct vs_cgroup *cg = NULL;
	struct vs_err *err = NULL;
	const char *fmt = "table";
	size_t n = 0;
	int i = 0;

	/* flags, the id, then ps(1)'s own options (runc ps ID -o pid,comm) */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) && i + 1 < argc)
			fmt = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			fmt = argv[i] + 9;
		else if (vs_err_set(&err, -EINVAL, "flag provided but not defined: %s", argv[i]))
			return vs_oci_fail(g, err);
	}
	if (i >= argc && vs_err_set(&err, -EINVAL, "ps: container id cannot be empty"))
		return vs_oci_fail(g, err);
	if (vs_state_load(g->root, argv[i], &st, &err) < 0 || !st->cgroup_path ||
	    vs_cgroup_open(VS_CGROUP_FSROOT, st->cgroup_path, &cg, &err) < 0)
		return vs_oci_fail(g, err);
	vs_cgroup_pids(cg, &pids, &n);
	vs_cgroup_free(cg);
	if (strcmp(fmt, "json") == 0) {
		json_t *a = json_array();
		char *s;

		for (size_t k = 0; k < n; k++)
			json_array_append_new(a, json_integer(pids[k]));
		s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(a);
		return 0;
	}
	fflush(stdout);
	if (ps_table(argv + i + 1, argc - i - 1, pids, n) < 0 &&
	    vs_err_set(&err, -ECHILD, "ps failed"))
		return vs_oci_fail(g, err);
	return 0;
}
