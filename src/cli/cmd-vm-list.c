/* `vessel vm ls [--format json]`, `vessel vm inspect NAME` and `vessel ps
 * [--format json]`: printing what the service layer lists (svc/vm.h). The
 * JSON is the service layer's (vs_vm_info_to_json), the same the API serves. */
#include "cli/cmds.h"
#include "cli/vm-cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/svc.h"
#include "svc/vm.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static void human_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

static void status_text(const struct vs_vm_info *v, char *buf, size_t len)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (v->state == VS_VM_RUNNING || v->state == VS_VM_PAUSED) {
		char d[32];

		human_duration(now - v->started_at, d, sizeof(d));
		snprintf(buf, len, "up %s", d);
	} else if (v->state == VS_VM_STOPPED && v->exit_reason) {
		if (v->exit_status >= 0)
			snprintf(buf, len, "exit %d: %s", v->exit_status, v->exit_reason);
		else
			snprintf(buf, len, "%s", v->exit_reason);
	} else {
		snprintf(buf, len, "-");
	}
}

/* ps: containers too (all: not only the running ones). */
static int list(const struct vs_cli_global *g, bool json, bool ps, bool all)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	struct vs_vm_info *v = NULL;
	size_t n = 0;
	char status[320];
	int rc = 0;

	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_vm_list(svc, &v, &n, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err->msg);
		vs_err_free(err);
		vs_svc_close(svc);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *a = json_array();
		char *text;

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, vs_vm_info_to_json(&v[i]));
		if (ps && ctr_ps_rows(svc, all, a) != 0)
			rc = EXIT_FAIL;
		text = vs_json_dump(a);
		printf("%s\n", text);
		free(text);
		json_decref(a);
	} else {
		if (ps)
			printf("%-20s %-5s %-9s %5s %8s  %s\n", "NAME", "KIND", "STATE", "CPUS",
			       "MEM", "STATUS");
		else
			printf("%-20s %-9s %5s %8s  %s\n", "NAME", "STATE", "CPUS", "MEM",
			       "STATUS");
		for (size_t i = 0; i < n; i++) {
			char mem[32];

			snprintf(mem, sizeof(mem), "%lluM",
				 (unsigned long long)(v[i].spec.mem >> 20));
			status_text(&v[i], status, sizeof(status));
			if (ps)
				printf("%-20s %-5s %-9s %5u %8s  %s\n", v[i].spec.name, "vm",
				       vs_vm_state_name(v[i].state), v[i].spec.cpus, mem, status);
			else
				printf("%-20s %-9s %5u %8s  %s\n", v[i].spec.name,
				       vs_vm_state_name(v[i].state), v[i].spec.cpus, mem, status);
		}
		if (ps && ctr_ps_rows(svc, all, NULL) != 0)
			rc = EXIT_FAIL;
	}
	vs_vm_info_list_free(v, n);
	vs_svc_close(svc);
	return rc;
}

static int parse_format(int argc, char **argv, bool *json, bool *all)
{
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (all && (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))) {
			*all = true;
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc &&
			   (!strcmp(argv[i + 1], "json") || !strcmp(argv[i + 1], "table"))) {
			*json = !strcmp(argv[++i], "json");
		} else if (!strcmp(argv[i], "--format=json")) {
			*json = true;
		} else {
			return -1;
		}
	}
	return 0;
}

int vm_ls(const struct vs_cli_global *g, int argc, char **argv)
{
	bool json;

	if (parse_format(argc, argv, &json, NULL) < 0) {
		fprintf(stderr, "usage: vessel vm ls [--format json|table]\n");
		return EXIT_USAGE;
	}
	return list(g, json, false, false);
}

int cmd_ps(const struct vs_cli_global *g, int argc, char **argv)
{
	bool json, all = false;

	if (parse_format(argc, argv, &json, &all) < 0) {
		fprintf(stderr, "usage: vessel ps [-a] [--format json|table]\n");
		return EXIT_USAGE;
	}
	return list(g, json, true, all);
}

int vm_inspect(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	struct vs_vm_info info;
	json_t *j;
	char *text;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vessel vm inspect NAME\n");
		return EXIT_USAGE;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0 ||
	    vs_svc_vm_inspect(svc, argv[1], &info, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err->msg);
		vs_err_free(err);
		vs_svc_close(svc);
		return EXIT_FAIL;
	}
	j = vs_vm_info_to_json(&info);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	json_decref(j);
	vs_vm_info_clear(&info);
	vs_svc_close(svc);
	return 0;
}
