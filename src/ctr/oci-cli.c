/* runc's command line: global flags, dispatch, and the lifecycle commands
 * (create, start, run, kill, delete, pause, resume). The informational
 * commands are in oci-info.c, exec in oci-exec.c.
 *
 * Map: flag parsing | error reporting | lifecycle commands | dispatch. */
#include "ctr/oci-cli.h"
#include "ctr/container.h"
#include "ctr/process.h"
#include "ctr/state.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct vs_oci_flag *match(const struct vs_oci_flag *flags, const char *name,
				       size_t len)
{
	for (; flags && flags->name; flags++) {
		const char *n = flags->name;

		while (n) {
			const char *bar = strchr(n, '|');
			size_t l = bar ? (size_t)(bar - n) : strlen(n);

			if (l == len && strncmp(n, name, len) == 0)
				return flags;
			n = bar ? bar + 1 : NULL;
		}
	}
	return NULL;
}

int vs_oci_parse(int argc, char **argv, const struct vs_oci_flag *flags, char **pos, int max_pos,
		 int *npos, struct vs_err **err)
{
	bool only_pos = false;

	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *name, *eq;
		const struct vs_oci_flag *f;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos >= max_pos)
				return vs_err_set(err, -EINVAL, "unexpected argument %s", a);
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		f = match(flags, name, eq ? (size_t)(eq - name) : strlen(name));
		if (!f)
			return vs_err_set(err, -EINVAL, "flag provided but not defined: %s", a);
		if (!f->has_arg)
			*f->value = eq ? eq + 1 : "true";
		else if (eq)
			*f->value = eq + 1;
		else if (i + 1 < argc)
			*f->value = argv[++i];
		else
			return vs_err_set(err, -EINVAL, "flag needs an argument: %s", a);
	}
	return 0;
}

static bool is_true(const char *v)
{
	return v && strcmp(v, "false") != 0;
}

static void log_json(const char *path, const char *level, const char *msg)
{
	_cleanup_free_ char *now = vs_rfc3339_now();
	json_t *j = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
	char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);

	if (fd >= 0 && line)
		dprintf(fd, "%s\n", line);
	if (fd >= 0)
		close(fd);
	free(line);
	json_decref(j);
}

int vs_oci_fail(const struct vs_oci_global *g, struct vs_err *err)
{
	const char *msg = err ? err->msg : "unknown error";

	if (g->log && g->log_json) {
		log_json(g->log, "error", msg);
	} else if (g->log) {
		FILE *f = fopen(g->log, "ae");

		if (f) {
			_cleanup_free_ char *now = vs_rfc3339_now();

			fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", now, msg);
			fclose(f);
		}
	}
	fprintf(stderr, "%s\n", msg);
	vs_err_free(err);
	return 1;
}

static int need_id(const struct vs_oci_global *g, int npos, const char *cmd)
{
	struct vs_err *err = NULL;

	if (npos >= 1)
		return 0;
	vs_err_set(&err, -EINVAL, "%s: container id cannot be empty", cmd);
	return vs_oci_fail(g, err);
}

struct create_flags {
	const char *bundle, *pid_file, *console, *no_pivot, *preserve, *detach, *no_new_keyring,
		*keep;
};

static int parse_create(const struct vs_oci_global *g, int argc, char **argv,
			struct create_flags *cf, struct vs_ctr_create_opts *o)
{
	const struct vs_oci_flag flags[] = {
		{ "bundle|b", true, &cf->bundle },
		{ "pid-file", true, &cf->pid_file },
		{ "console-socket", true, &cf->console },
		{ "no-pivot", false, &cf->no_pivot },
		{ "preserve-fds", true, &cf->preserve },
		{ "detach|d", false, &cf->detach },
		{ "no-new-keyring", false, &cf->no_new_keyring },
		{ "keep", false, &cf->keep },
		{ "no-subreaper", false, &cf->keep },
		{ NULL, false, NULL },
	};
	struct vs_err *err = NULL;
	char *pos[1];
	int npos;
	uint64_t n = 0;

	if (vs_oci_parse(argc, argv, flags, pos, 1, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	if (need_id(g, npos, argv[-1]))
		return 1;
	if (cf->preserve && vs_parse_uint(cf->preserve, 0, 1024, &n) < 0) {
		vs_err_set(&err, -EINVAL, "invalid --preserve-fds %s", cf->preserve);
		return vs_oci_fail(g, err);
	}
	*o = (struct vs_ctr_create_opts){ .root = g->root,
					  .id = pos[0],
					  .bundle = cf->bundle,
					  .pid_file = cf->pid_file,
					  .console_socket = cf->console,
					  .console_fd = -1,
					  .no_pivot = is_true(cf->no_pivot),
					  .no_new_keyring = is_true(cf->no_new_keyring),
					  .preserve_fds = (int)n,
					  .reexec_argv = g->argv };
	return 0;
}

static int cmd_create(const struct vs_oci_global *g, int argc, char **argv)
{
	struct create_flags cf = { 0 };
	struct vs_ctr_create_opts o;
	struct vs_err *err = NULL;
	pid_t pid;

	if (parse_create(g, argc, argv, &cf, &o))
		return 1;
	if (vs_ctr_create(&o, &pid, &err) < 0)
		return vs_oci_fail(g, err);
	return 0;
}

static pid_t fwd_pid;

static void forward(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

/* Waits for the init (our child), forwarding the usual signals to it.
 * Returns its exit status the way a shell reports it. */
static int wait_init(pid_t pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	int status = 0;

	fwd_pid = pid;
	for (size_t i = 0; i < VS_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Foreground `run` without --console-socket: the pty master, if the
 * container has terminal: true, comes back over a socketpair and we proxy
 * our stdio to it, as runc does. */
static int run_console_pair(const struct create_flags *cf, struct vs_ctr_create_opts *o, int sv[2])
{
	sv[0] = sv[1] = -1;
	if (cf->console || is_true(cf->detach))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	o->console_fd = sv[1];
	return 0;
}

static int cmd_run(const struct vs_oci_global *g, int argc, char **argv)
{
	struct create_flags cf = { 0 };
	struct vs_ctr_create_opts o;
	struct vs_err *err = NULL;
	int status, sv[2], master = -1;
	pid_t pid;

	if (parse_create(g, argc, argv, &cf, &o))
		return 1;
	if ((status = run_console_pair(&cf, &o, sv)) < 0) {
		vs_err_setsys(&err, status, "socketpair for the console");
		return vs_oci_fail(g, err);
	}
	status = vs_ctr_create(&o, &pid, &err);
	if (sv[1] >= 0)
		close(sv[1]);
	if (status == 0 && sv[0] >= 0)
		master = vs_oci_recv_master(sv[0]); /* already sent if terminal: true */
	if (sv[0] >= 0)
		close(sv[0]);
	if (status < 0)
		return vs_oci_fail(g, err);
	if (vs_ctr_start(g->root, o.id, &err) < 0) {
		vs_ctr_delete(g->root, o.id, true, NULL);
		return vs_oci_fail(g, err);
	}
	if (is_true(cf.detach))
		return 0;
	if (master >= 0)
		vs_oci_console_proxy(master);
	status = wait_init(pid);
	if (!is_true(cf.keep) && vs_ctr_delete(g->root, o.id, true, &err) < 0)
		vs_oci_fail(g, err);
	return status;
}

static int cmd_simple(const struct vs_oci_global *g, int argc, char **argv)
{
	const char *force = NULL, *all = NULL;
	const struct vs_oci_flag flags[] = { { "force|f", false, &force },
					     { "all|a", false, &all },
					     { NULL, false, NULL } };
	const char *cmd = argv[-1];
	struct vs_err *err = NULL;
	char *pos[2];
	int npos, rc, sig = SIGTERM;

	if (vs_oci_parse(argc, argv, flags, pos, 2, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	if (need_id(g, npos, cmd))
		return 1;
	if (strcmp(cmd, "kill") == 0 && npos == 2 && (sig = vs_signal_parse(pos[1])) < 0) {
		vs_err_set(&err, -EINVAL, "unknown signal \"%s\"", pos[1]);
		return vs_oci_fail(g, err);
	}
	if (strcmp(cmd, "start") == 0)
		rc = vs_ctr_start(g->root, pos[0], &err);
	else if (strcmp(cmd, "kill") == 0)
		rc = vs_ctr_kill(g->root, pos[0], sig, is_true(all), &err);
	else if (strcmp(cmd, "delete") == 0)
		rc = vs_ctr_delete(g->root, pos[0], is_true(force), &err);
	else
		rc = vs_ctr_pause(g->root, pos[0], strcmp(cmd, "pause") == 0, &err);
	return rc < 0 ? vs_oci_fail(g, err) : 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct vs_oci_global *g, int argc, char **argv);
	/* runs code inside a live container: from a sealed memfd (create and
	 * run decide in vs_ctr_create, from the config) */
	bool sealed;
} commands[] = {
	{ "create", cmd_create, false },
	{ "start", cmd_simple, false },
	{ "run", cmd_run, false },
	{ "kill", cmd_simple, false },
	{ "delete", cmd_simple, false },
	{ "pause", cmd_simple, false },
	{ "resume", cmd_simple, false },
	{ "state", vs_oci_cmd_state, false },
	{ "list", vs_oci_cmd_list, false },
	{ "spec", vs_oci_cmd_spec, false },
	{ "features", vs_oci_cmd_features, false },
	{ "ps", vs_oci_cmd_ps, false },
	{ "exec", vs_oci_cmd_exec, true },
	{ "update", vs_oci_cmd_update, false },
	{ "events", vs_oci_cmd_events, false },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vessel-runc [--root DIR] [--log FILE] [--log-format text|json] "
		   "COMMAND [ARGS...]\n\ncommands:");
	for (size_t i = 0; i < VS_ARRAY_SIZE(commands); i++)
		fprintf(f, " %s", commands[i].name);
	fprintf(f, "\n");
}

/* How many argv slots the flag at a takes (2 for "--root DIR"). */
static int flag_span(const struct vs_oci_flag *flags, const char *a)
{
	const char *name = a + (a[1] == '-' ? 2 : 1);
	const struct vs_oci_flag *f = match(flags, name, strcspn(name, "="));

	return f && f->has_arg && !strchr(name, '=') ? 2 : 1;
}

/* Global flags end at the first non-flag argument: the command. */
static int parse_global(int argc, char **argv, struct vs_oci_global *g, int *cmd)
{
	const char *fmt = NULL, *debug = NULL, *ignored = NULL, *version = NULL, *help = NULL;
	const struct vs_oci_flag flags[] = {
		{ "root", true, &g->root },
		{ "log", true, &g->log },
		{ "log-format", true, &fmt },
		{ "debug", false, &debug },
		{ "systemd-cgroup", false, &ignored },
		{ "criu", true, &ignored },
		{ "rootless", true, &ignored },
		{ "version|v", false, &version },
		{ "help|h", false, &help },
		{ NULL, false, NULL },
	};
	struct vs_err *err = NULL;
	char *pos[1];
	int i = 1, npos;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0)
		i += flag_span(flags, argv[i]);
	*cmd = i;
	if (vs_oci_parse(VS_MIN(i, argc) - 1, argv + 1, flags, pos, 0, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	g->log_json = fmt && strcmp(fmt, "json") == 0;
	if (debug)
		vs_log_set_level(VS_LOG_DEBUG);
	if (version) {
		vs_oci_print_version(stdout);
		return -1;
	}
	if (help) {
		usage(stdout);
		return -1;
	}
	return 0;
}

/* The command line a sealed re-exec uses: argv[0] "vessel-runc" selects
 * runc mode in main() whether we were called as vessel-runc or as
 * `vessel [--root R] oci` (whose own arguments are not ours to repeat). */
static char **reexec_argv(int argc, char **argv)
{
	static char name[] = "vessel-runc";
	char **v = xzalloc(((size_t)argc + 1) * sizeof(char *));

	v[0] = name;
	memcpy(v + 1, argv + 1, ((size_t)argc - 1) * sizeof(char *));
	return v;
}

/* runc's default --root: unprivileged, under $XDG_RUNTIME_DIR (rootless
 * podman sets it), since /run is root's. NULL: VS_OCI_ROOT_DEFAULT. */
static char *rootless_root(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || !xdg || xdg[0] != '/')
		return NULL;
	return xasprintf("%s/vessel-runc", xdg);
}

int vs_oci_main(int argc, char **argv)
{
	_cleanup_free_ char **re = reexec_argv(argc, argv);
	_cleanup_free_ char *xdg_root = rootless_root();
	struct vs_oci_global g = { .root = xdg_root ? xdg_root : VS_OCI_ROOT_DEFAULT, .argv = re };
	int cmd, rc = parse_global(argc, argv, &g, &cmd);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (cmd >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[cmd], commands[i].name) != 0)
			continue;
		if (commands[i].sealed) {
			struct vs_err *err = NULL;

			if (vs_exec_sealed_copy(g.argv, &err) < 0)
				return vs_oci_fail(&g, err);
		}
		return commands[i].fn(&g, argc - cmd - 1, argv + cmd + 1);
	}
	fprintf(stderr, "No help topic for '%s'\n", argv[cmd]);
	return 1;
}
