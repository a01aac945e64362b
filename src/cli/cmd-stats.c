/* `vessel stats [--no-stream] [--format json] [-a] [NAME...]`: the figures
 * of containers (svc/ctr-stats.h) refreshed every second like `docker
 * stats`; without names, every running container (with -a, every one).
 * The first table comes after one interval, so that CPU % is a rate. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr-stats.h"
#include "svc/ctr.h"
#include "svc/svc.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SYNOPSIS "[--no-stream] [--format json] [-a] [NAME...]"
#define INTERVAL_NS 1000000000L

struct stats_opts {
	bool no_stream, json, all;
	char **names; /* NULL: every running container */
	int nnames;
};

/* One round's samples. */
struct round {
	struct vs_ctr_stats *v;
	size_t n;
};

static void round_clear(struct round *r)
{
	for (size_t i = 0; i < r->n; i++)
		vs_ctr_stats_clear(&r->v[i]);
	free(r->v);
	*r = (struct round){ 0 };
}

static void round_add(struct round *r, const struct vs_ctr_stats *s)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = *s;
}

/* Samples the named containers, or every (running) one. Returns 0 or the
 * exit status after a one-line message. */
static int take(struct vs_svc *svc, const struct stats_opts *o, struct round *out)
{
	struct vs_ctr_info *v = NULL;
	struct vs_ctr_stats s;
	struct vs_err *err = NULL;
	size_t n = 0;

	for (int i = 0; i < o->nnames; i++) {
		if (vs_svc_ctr_stats(svc, o->names[i], &s, &err) < 0)
			goto fail;
		round_add(out, &s);
	}
	if (o->names)
		return 0;
	if (vs_svc_ctr_list(svc, &v, &n, &err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!o->all && v[i].state != VS_CTR_ST_RUNNING)
			continue;
		if (vs_svc_ctr_stats(svc, v[i].id, &s, NULL) == 0) /* gone meanwhile: skip */
			round_add(out, &s);
	}
	vs_ctr_info_list_free(v, n);
	return 0;
fail:
	fprintf(stderr, "vessel stats: %s\n", err ? err->msg : "failed");
	vs_err_free(err);
	return 1;
}

static const struct vs_ctr_stats *find_prev(const struct round *prev, const char *id)
{
	for (size_t i = 0; i < prev->n; i++)
		if (!strcmp(prev->v[i].id, id))
			return &prev->v[i];
	return NULL;
}

/* 1.5MiB style. */
static void human(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static void print_row(const struct vs_ctr_stats *prev, const struct vs_ctr_stats *s)
{
	char mu[16], ml[16], nr[16], nt[16], br[16], bw[16], cpu[16] = "--", mem[16];
	double c = vs_ctr_stats_cpu_percent(prev, s);

	human(s->mem_usage, mu, sizeof(mu));
	human(s->mem_limit, ml, sizeof(ml));
	human(s->net_rx, nr, sizeof(nr));
	human(s->net_tx, nt, sizeof(nt));
	human(s->blk_read, br, sizeof(br));
	human(s->blk_write, bw, sizeof(bw));
	if (c >= 0)
		snprintf(cpu, sizeof(cpu), "%.2f%%", c);
	snprintf(mem, sizeof(mem), "%.2f%%",
		 s->mem_limit ? 100.0 * (double)s->mem_usage / (double)s->mem_limit : 0.0);
	printf("%-12.12s  %-20s %8s  %9s / %-9s %7s  %9s / %-9s %9s / %-9s %5llu\n", s->id, s->name,
	       cpu, mu, ml, mem, nr, nt, br, bw, (unsigned long long)s->pids);
}

static void print_round(const struct stats_opts *o, const struct round *prev,
			const struct round *cur, bool clear)
{
	json_t *a;
	char *text;

	if (o->json) {
		a = json_array();
		for (size_t i = 0; i < cur->n; i++)
			json_array_append_new(a, vs_ctr_stats_to_json(find_prev(prev, cur->v[i].id),
								      &cur->v[i]));
		text = vs_json_dump(a);
		printf("%s\n", text);
		free(text);
		json_decref(a);
	} else {
		if (clear)
			printf("\033[2J\033[H");
		printf("%-12s  %-20s %8s  %21s %7s  %21s %21s %5s\n", "ID", "NAME", "CPU %",
		       "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
		for (size_t i = 0; i < cur->n; i++)
			print_row(find_prev(prev, cur->v[i].id), &cur->v[i]);
	}
	fflush(stdout);
}

static int loop(struct vs_svc *svc, const struct stats_opts *o)
{
	struct timespec ts = { .tv_sec = INTERVAL_NS / 1000000000L };
	struct round prev = { 0 }, cur = { 0 };
	bool tty = !o->json && isatty(STDOUT_FILENO);
	int rc = take(svc, o, &prev);

	while (rc == 0) {
		nanosleep(&ts, NULL);
		if ((rc = take(svc, o, &cur)) != 0)
			break;
		print_round(o, &prev, &cur, tty);
		round_clear(&prev);
		prev = cur;
		cur = (struct round){ 0 };
		if (o->no_stream)
			break;
	}
	round_clear(&prev);
	round_clear(&cur);
	return rc;
}

int cmd_stats(const struct vs_cli_global *g, int argc, char **argv)
{
	struct stats_opts o = { 0 };
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-stream"))
			o.no_stream = true;
		else if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			o.all = true;
		else if (!strcmp(argv[i], "--format") && i + 1 < argc &&
			 !strcmp(argv[i + 1], "json"))
			o.json = true, i++;
		else {
			fprintf(stderr,
				"vessel stats: unknown option or format '%.60s' (usage: "
				"vessel stats " SYNOPSIS ")\n",
				argv[i]);
			return 2;
		}
	}
	if (i < argc) {
		o.names = argv + i;
		o.nnames = argc - i;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0) {
		fprintf(stderr, "vessel stats: %s\n", err ? err->msg : "failed");
		vs_err_free(err);
		return 1;
	}
	rc = loop(svc, &o);
	vs_svc_close(svc);
	return rc;
}
