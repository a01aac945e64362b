/* `exec [flags] ID [-- ARGS...]` / `exec --process process.json ID`. */
#include "ctr/oci-cli.h"
#include "ctr/exec.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPEAT 64

enum { REP_ENV, REP_CAP, REP_GID };

/* The repeatable flags, collected in order. */
static int repeatable(const char *a)
{
	static const char *const names[][2] = { [REP_ENV] = { "--env", "-e" },
						[REP_CAP] = { "--cap", "-c" },
						[REP_GID] = { "--additional-gids", "-g" } };

	for (int k = 0; k < 3; k++)
		if (strcmp(a, names[k][0]) == 0 || strcmp(a, names[k][1]) == 0)
			return k;
	return -1;
}

struct exec_flags {
	const char *process, *tty, *detach, *pid_file, *console, *cwd, *user, *nnp, *preserve;
	const char *label, *apparmor; /* --process-label, --apparmor (lsm.c applies them) */
	const char *rep[3][MAX_REPEAT], *ignored; /* REP_*: repeatable flags */
	int n_rep[3];
};

static bool takes_value(const struct vs_oci_flag *flags, const char *a)
{
	const char *name = a + (a[1] == '-' ? 2 : 1);
	size_t len = strcspn(name, "=");

	if (name[len] == '=')
		return false;
	for (; flags->name; flags++) {
		const char *n = flags->name;

		while (n) {
			const char *bar = strchr(n, '|');
			size_t l = bar ? (size_t)(bar - n) : strlen(n);

			if (l == len && strncmp(n, name, len) == 0)
				return flags->has_arg;
			n = bar ? bar + 1 : NULL;
		}
	}
	return false;
}

/* Flags come before the container id; what follows it is the command.
 * Moves the ordinary flags to fl (count *nfl), collects the repeatable
 * --env/--cap/--additional-gids into f, and returns the index of the id. */
static int split_flags(int argc, char **argv, const struct vs_oci_flag *flags, struct exec_flags *f,
		       char **fl, int *nfl)
{
	int i = 0;

	*nfl = 0;
	while (i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--") != 0) {
		const char *a = argv[i];
		int k = repeatable(a);

		if (k >= 0 && i + 1 < argc) {
			if (f->n_rep[k] >= MAX_REPEAT)
				return -E2BIG;
			f->rep[k][f->n_rep[k]++] = argv[i + 1];
			i += 2;
			continue;
		}
		fl[(*nfl)++] = argv[i++];
		if (takes_value(flags, a) && i < argc)
			fl[(*nfl)++] = argv[i++];
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	return i;
}

static int apply_flags(const struct exec_flags *f, struct vs_spec_process *p, struct vs_err **err)
{
	char *end;

	if (f->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(f->cwd);
	}
	if (f->user) {
		p->uid = (uint32_t)strtoul(f->user, &end, 10);
		if (end == f->user || (*end && *end != ':'))
			return vs_err_set(err, -EINVAL, "invalid --user %s (numeric uid[:gid])",
					  f->user);
		if (*end == ':')
			p->gid = (uint32_t)strtoul(end + 1, NULL, 10);
	}
	if (f->nnp)
		p->no_new_privileges = true;
	if (f->tty)
		p->terminal = true;
	p->env.v = xrealloc(p->env.v, (p->env.n + (size_t)f->n_rep[REP_ENV] + 1) * sizeof(char *));
	for (int i = 0; i < f->n_rep[REP_ENV]; i++)
		p->env.v[p->env.n++] = xstrdup(f->rep[REP_ENV][i]);
	p->env.v[p->env.n] = NULL;
	if (f->n_rep[REP_GID]) {
		p->additional_gids =
			xrealloc(p->additional_gids, (size_t)f->n_rep[REP_GID] * sizeof(uint32_t));
		p->n_additional_gids = 0;
		for (int i = 0; i < f->n_rep[REP_GID]; i++) {
			uint64_t g;

			if (vs_parse_uint(f->rep[REP_GID][i], 0, UINT32_MAX, &g) < 0)
				return vs_err_set(err, -EINVAL, "invalid --additional-gids %s",
						  f->rep[REP_GID][i]);
			p->additional_gids[p->n_additional_gids++] = (uint32_t)g;
		}
	}
	for (int i = 0; i < f->n_rep[REP_CAP]; i++) {
		int c = vs_cap_from_name(f->rep[REP_CAP][i]);

		if (c < 0)
			return vs_err_set(err, -EINVAL, "unknown capability %s",
					  f->rep[REP_CAP][i]);
		for (int s = 0; s < VS_CAP_NSETS; s++)
			if (s != VS_CAP_AMBIENT)
				p->caps[s] |= 1ULL << c;
	}
	return 0;
}

static int build_process(const struct vs_oci_global *g, const char *id, struct exec_flags *f,
			 char **args, int nargs, struct vs_spec_process *p, struct vs_err **err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (f->process) {
		if ((rc = vs_read_file(f->process, 4 * 1024 * 1024, &buf, &len)) < 0)
			return vs_err_setsys(err, rc, "reading %s", f->process);
		return vs_spec_process_parse_text((const char *)buf, len, p, err);
	}
	if (nargs < 1)
		return vs_err_set(err, -EINVAL, "exec: args must not be empty");
	if ((rc = vs_exec_base_process(g->root, id, p, err)) < 0)
		return rc;
	p->args.v = xzalloc((nargs + 1) * sizeof(char *));
	for (int i = 0; i < nargs; i++)
		p->args.v[i] = xstrdup(args[i]);
	p->args.n = nargs;
	return apply_flags(f, p, err);
}

/* --apparmor and --process-label override the container's labels (lsm.c) */
static void label_flags(const struct exec_flags *f, struct vs_spec_process *p)
{
	if (f->apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = xstrdup(f->apparmor);
	}
	if (f->label) {
		free(p->selinux_label);
		p->selinux_label = xstrdup(f->label);
	}
}

int vs_oci_cmd_exec(const struct vs_oci_global *g, int argc, char **argv)
{
	struct exec_flags f = { 0 };
	const struct vs_oci_flag flags[] = {
		{ "process|p", true, &f.process },
		{ "tty|t", false, &f.tty },
		{ "detach|d", false, &f.detach },
		{ "pid-file", true, &f.pid_file },
		{ "console-socket", true, &f.console },
		{ "cwd", true, &f.cwd },
		{ "user|u", true, &f.user },
		{ "no-new-privs", false, &f.nnp },
		{ "preserve-fds", true, &f.preserve },
		{ "process-label", true, &f.label },
		{ "apparmor", true, &f.apparmor },
		{ "additional-gids|g", true, &f.ignored }, /* taken by split_flags */
		{ "ignore-paused", false, &f.ignored },
		{ NULL, false, NULL },
	};
	struct vs_spec_process p = { 0 };
	struct vs_err *err = NULL;
	char *pos[256];
	int npos, status = 0, rc;
	uint64_t preserve = 0;

	_cleanup_free_ char **fl = xzalloc((argc + 1) * sizeof(char *));
	int nfl, id = split_flags(argc, argv, flags, &f, fl, &nfl);

	if (id < 0 || vs_oci_parse(nfl, fl, flags, pos, 0, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	npos = 0;
	for (int i = id; i < argc && npos < 256; i++)
		if (npos != 1 || strcmp(argv[i], "--") != 0)
			pos[npos++] = argv[i];
	if (npos < 1) {
		vs_err_set(&err, -EINVAL, "exec: container id cannot be empty");
		return vs_oci_fail(g, err);
	}
	if (f.preserve)
		vs_parse_uint(f.preserve, 0, 1024, &preserve);
	rc = build_process(g, pos[0], &f, pos + 1, npos - 1, &p, &err);
	if (rc == 0)
		label_flags(&f, &p);
	if (rc == 0) {
		struct vs_exec_opts o = { .root = g->root,
					  .id = pos[0],
					  .detach = f.detach != NULL,
					  .pid_file = f.pid_file,
					  .console_socket = f.console,
					  .preserve_fds = (int)preserve };

		rc = vs_ctr_exec(&o, &p, &status, &err);
	}
	vs_spec_process_clear(&p);
	if (rc < 0) {
		/* runc: "exec failed: ..." and status 255 */
		vs_err_wrap(&err, rc, "exec failed");
		vs_oci_fail(g, err);
		return 255;
	}
	return status;
}
