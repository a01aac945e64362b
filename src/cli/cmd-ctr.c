/* `vessel start|stop|kill|rm|inspect|wait NAME...` on containers, and
 * the container rows of `vessel ps`. Exit status: 0, 1 when the operation
 * failed, 2 for a usage error; every failure is one line on stderr. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr.h"
#include "svc/svc.h"
#include "ctr/container.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static int usage(const char *verb, const char *synopsis, const char *why)
{
	fprintf(stderr, "vessel %s: %s (usage: vessel %s %s)\n", verb, why, verb, synopsis);
	return EXIT_USAGE;
}

static int fail(const char *verb, struct vs_err *e)
{
	fprintf(stderr, "vessel %s: %s\n", verb, e ? e->msg : "failed");
	vs_err_free(e);
	return EXIT_FAIL;
}

/* Options: those of opts ("t:" takes a value) into vals; the names after. */
static int parse(int argc, char **argv, const char *synopsis, const char *const *opts,
		 const char **vals, int *first)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		size_t k = 0;

		for (; opts && opts[k]; k++) {
			size_t n = strcspn(opts[k], ":");

			if (!strncmp(argv[i], opts[k], n) && !argv[i][n])
				break;
		}
		if (!opts || !opts[k]) {
			char why[128];

			snprintf(why, sizeof(why), "unknown option '%.60s'", argv[i]);
			return usage(argv[0], synopsis, why);
		}
		if (strchr(opts[k], ':')) {
			if (++i >= argc)
				return usage(argv[0], synopsis, "an option needs a value");
			vals[k] = argv[i];
		} else {
			vals[k] = "1";
		}
	}
	if (i >= argc)
		return usage(argv[0], synopsis, "no container given");
	*first = i;
	return 0;
}

/* Runs fn on every name; the exit status is the last failure's. */
static int each(const struct vs_cli_global *g, int argc, char **argv, int first,
		int (*fn)(struct vs_svc *svc, const char *name, const char **vals,
			  struct vs_err **err),
		const char **vals, bool print)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int rc = 0;

	if (vs_svc_open(g->root, &svc, &err) < 0)
		return fail(argv[0], err);
	for (int i = first; i < argc; i++) {
		err = NULL;
		if (fn(svc, argv[i], vals, &err) < 0)
			rc = fail(argv[0], err);
		else if (print)
			printf("%s\n", argv[i]);
	}
	vs_svc_close(svc);
	return rc;
}

static int do_start(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	(void)vals;
	return vs_svc_ctr_start(svc, name, NULL, err);
}

int cmd_start(const struct vs_cli_global *g, int argc, char **argv)
{
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "NAME...", NULL, vals, &first);

	return r ? r : each(g, argc, argv, first, do_start, vals, true);
}

static int do_stop(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	uint64_t t = VS_CTR_STOP_TIMEOUT_S;

	if (vals[0] && vs_parse_uint(vals[0], 0, 3600, &t) < 0)
		return vs_err_set(err, -EINVAL, "-t %s: expected seconds", vals[0]);
	return vs_svc_ctr_stop(svc, name, 0, (unsigned)t, err);
}

int cmd_stop(const struct vs_cli_global *g, int argc, char **argv)
{
	static const char *const opts[] = { "-t:", NULL };
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "[-t SECS] NAME...", opts, vals, &first);

	return r ? r : each(g, argc, argv, first, do_stop, vals, true);
}

static int do_kill(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	int sig = vals[0] ? vs_signal_parse(vals[0]) : SIGKILL;

	if (sig <= 0)
		return vs_err_set(err, -EINVAL, "-s %s: not a signal", vals[0]);
	return vs_svc_ctr_kill(svc, name, sig, err);
}

int cmd_kill(const struct vs_cli_global *g, int argc, char **argv)
{
	static const char *const opts[] = { "-s:", NULL };
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "[-s SIG] NAME...", opts, vals, &first);

	return r ? r : each(g, argc, argv, first, do_kill, vals, true);
}

static int do_rm(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	return vs_svc_ctr_remove(svc, name, vals[0] != NULL, err);
}

int cmd_rm(const struct vs_cli_global *g, int argc, char **argv)
{
	static const char *const opts[] = { "-f", NULL };
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "[-f] NAME...", opts, vals, &first);

	return r ? r : each(g, argc, argv, first, do_rm, vals, true);
}

static int do_wait(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	int code = vs_svc_ctr_wait(svc, name, err);

	(void)vals;
	if (code >= 0)
		printf("%d\n", code);
	return code;
}

int cmd_wait(const struct vs_cli_global *g, int argc, char **argv)
{
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "NAME...", NULL, vals, &first);

	return r ? r : each(g, argc, argv, first, do_wait, vals, false);
}

static int do_inspect(struct vs_svc *svc, const char *name, const char **vals, struct vs_err **err)
{
	struct vs_ctr_info info;
	_cleanup_json_ json_t *j = NULL;
	char *text;
	int r = vs_svc_ctr_inspect(svc, name, &info, err);

	(void)vals;
	if (r < 0)
		return r;
	j = vs_ctr_info_to_json(&info);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	vs_ctr_info_clear(&info);
	return 0;
}

int cmd_inspect(const struct vs_cli_global *g, int argc, char **argv)
{
	const char *vals[1] = { 0 };
	int first, r = parse(argc, argv, "NAME", NULL, vals, &first);

	if (r)
		return r;
	if (argc - first != 1)
		return usage(argv[0], "NAME", "one container at a time");
	return each(g, argc, argv, first, do_inspect, vals, false);
}

static void status_text(const struct vs_ctr_info *c, char *buf, size_t len)
{
	struct timespec ts;
	int64_t now, s;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (c->state == VS_CTR_ST_RUNNING) {
		s = (now - c->started_at) / 1000;
		snprintf(buf, len, "up %llds", (long long)s);
	} else if (c->state == VS_CTR_ST_EXITED) {
		snprintf(buf, len, "exit %d%s%s%s", c->exit_code, c->exit_reason ? " (" : "",
			 c->exit_reason ? c->exit_reason : "", c->exit_reason ? ")" : "");
	} else {
		snprintf(buf, len, "-");
	}
}

int ctr_ps_rows(struct vs_svc *svc, bool all, json_t *json)
{
	struct vs_ctr_info *v = NULL;
	struct vs_err *err = NULL;
	size_t n = 0;

	if (vs_svc_ctr_list(svc, &v, &n, &err) < 0)
		return fail("ps", err);
	for (size_t i = 0; i < n; i++) {
		char status[300], cpus[16] = "-", mem[32] = "-";
		json_t *spec = v[i].spec;

		if (!all && v[i].state != VS_CTR_ST_RUNNING)
			continue;
		if (json) {
			json_array_append_new(json, vs_ctr_info_to_json(&v[i]));
			continue;
		}
		if (vs_json_int(spec, "cpu_millis", 0))
			snprintf(cpus, sizeof(cpus), "%.2g",
				 (double)vs_json_int(spec, "cpu_millis", 0) / 1000);
		if (vs_json_int(spec, "memory", 0))
			snprintf(mem, sizeof(mem), "%lluM",
				 (unsigned long long)vs_json_int(spec, "memory", 0) >> 20);
		status_text(&v[i], status, sizeof(status));
		printf("%-20s %-5s %-9s %5s %8s  %s\n", v[i].name, "ctr",
		       vs_ctr_state_name(v[i].state), cpus, mem, status);
	}
	vs_ctr_info_list_free(v, n);
	return 0;
}
