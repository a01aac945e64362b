/* `vessel vm create|start|stop|kill|restart|pause|resume|rm|console|logs|snapshot`
: argument parsing and printing only; the work is
 * in the service layer (svc/vm.h). Exit status 0, 1 after a one-line
 * refusal or error, 2 for bad usage. */
#include "cli/cmds.h"
#include "cli/vm-cmds.h"
#include "cli/vm-opts.h"
#include "svc/svc.h"
#include "svc/vm.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static int fail(struct vs_err *err)
{
	fprintf(stderr, "vessel: %s\n", err ? err->msg : "failed");
	vs_err_free(err);
	return EXIT_FAIL;
}

static int usage(const char *line)
{
	fprintf(stderr, "usage: vessel vm %s\n", line);
	return EXIT_USAGE;
}

/* Opens the service layer; prints the error and returns NULL on failure. */
static struct vs_svc *open_svc(const struct vs_cli_global *g)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;

	if (vs_svc_open(g->root, &svc, &err) < 0) {
		fail(err);
		return NULL;
	}
	return svc;
}

int vm_create(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vm_opts o = { .allow_autostart = true };
	struct vs_err *err = NULL;
	struct vs_svc *svc;
	int r;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			return vm_opts_parse(&o, "create NAME", argc, argv) > 0 ? 0 : EXIT_USAGE;
		return usage("create NAME [vm run options] [--autostart] [-- COMMAND...]");
	}
	vs_vm_spec_init(&o.spec);
	if ((r = vm_opts_parse(&o, "create NAME", argc - 1, argv + 1)) != 0) {
		vm_opts_clear(&o);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	if (o.spec.name) {
		vm_opts_clear(&o);
		return usage("create NAME ...: the name is the first argument, not --name");
	}
	o.spec.name = argv[1];
	if (!(svc = open_svc(g))) {
		vm_opts_clear(&o);
		return EXIT_FAIL;
	}
	r = vs_svc_vm_create(svc, &o.spec, &err);
	vs_svc_close(svc);
	vm_opts_clear(&o);
	return r < 0 ? fail(err) : 0;
}

static void autostart_report(const char *name, const struct vs_err *e)
{
	if (e)
		fprintf(stderr, "vessel: %s%s%s\n", name ? name : "", name ? ": " : "", e->msg);
	else
		printf("%s\n", name);
}

static int attach(struct vs_svc *svc, const char *name, bool replay)
{
	struct vs_err *err = NULL;
	int fd = -1, r;

	if (vs_svc_vm_console(svc, name, replay, &fd, &err) < 0)
		return fail(err);
	r = vm_console_attach(fd, name);
	close(fd);
	return r;
}

int vm_start(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_vm_start_opts so = { 0 };
	struct vs_err *err = NULL;
	const char *name = NULL;
	bool att = false, autostart = false;
	struct vs_svc *svc;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--attach"))
			att = true;
		else if (!strcmp(argv[i], "--overcommit"))
			so.overcommit = true;
		else if (!strcmp(argv[i], "--autostart"))
			autostart = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return usage("start NAME [-a|--attach] [--overcommit] | start --autostart");
	}
	if (!!name == autostart)
		return usage("start NAME [-a|--attach] [--overcommit] | start --autostart");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	if (autostart)
		r = vs_svc_vm_autostart(svc, autostart_report) ? EXIT_FAIL : 0;
	else if (vs_svc_vm_start(svc, name, &so, &err) < 0)
		r = fail(err);
	else if (att)
		r = attach(svc, name, true);
	vs_svc_close(svc);
	return r;
}

/* Parses "NAME [-t SECS]" for stop and restart. */
static int parse_stop(int argc, char **argv, const char **name, struct vs_vm_stop_opts *o)
{
	uint64_t t;

	o->timeout_s = 10;
	*name = NULL;
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--time")) && i + 1 < argc) {
			if (vs_parse_uint(argv[++i], 0, 86400, &t) < 0) {
				fprintf(stderr, "vessel: -t '%s': seconds (0-86400) expected\n",
					argv[i]);
				return -EINVAL;
			}
			o->timeout_s = (unsigned)t;
		} else if (argv[i][0] != '-' && !*name) {
			*name = argv[i];
		} else {
			return -EINVAL;
		}
	}
	return *name ? 0 : -EINVAL;
}

int vm_stop(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_vm_stop_opts so;
	struct vs_err *err = NULL;
	const char *name;
	struct vs_svc *svc;
	int r;

	if (parse_stop(argc, argv, &name, &so) < 0)
		return usage("stop NAME [-t SECS]");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = vs_svc_vm_stop(svc, name, &so, &err);
	vs_svc_close(svc);
	return r < 0 ? fail(err) : 0;
}

int vm_restart(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_vm_stop_opts so;
	struct vs_err *err = NULL;
	const char *name;
	struct vs_svc *svc;
	int r;

	if (parse_stop(argc, argv, &name, &so) < 0)
		return usage("restart NAME [-t SECS]");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = vs_svc_vm_stop(svc, name, &so, &err);
	if (r == -ESRCH) { /* not running: restart is a start */
		vs_err_free(err);
		err = NULL;
		r = 0;
	}
	if (r == 0)
		r = vs_svc_vm_start(svc, name, NULL, &err);
	vs_svc_close(svc);
	return r < 0 ? fail(err) : 0;
}

/* kill, pause, resume: NAME only. */
static int name_verb(const struct vs_cli_global *g, int argc, char **argv,
		     int (*fn)(struct vs_svc *, const char *, struct vs_err **))
{
	struct vs_err *err = NULL;
	struct vs_svc *svc;
	char line[64];
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		snprintf(line, sizeof(line), "%s NAME", argv[0]);
		return usage(line);
	}
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = fn(svc, argv[1], &err);
	vs_svc_close(svc);
	return r < 0 ? fail(err) : 0;
}

int vm_kill(const struct vs_cli_global *g, int argc, char **argv)
{
	return name_verb(g, argc, argv, vs_svc_vm_kill);
}

int vm_pause(const struct vs_cli_global *g, int argc, char **argv)
{
	return name_verb(g, argc, argv, vs_svc_vm_pause);
}

int vm_resume(const struct vs_cli_global *g, int argc, char **argv)
{
	return name_verb(g, argc, argv, vs_svc_vm_resume);
}

int vm_rm(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_vm_remove_opts ro = { 0 };
	struct vs_err *err = NULL;
	struct vs_svc *svc;
	int r = 0, names = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
			ro.force = true;
		else if (argv[i][0] == '-')
			return usage("rm [-f] NAME...");
		else
			names++;
	}
	if (!names)
		return usage("rm [-f] NAME...");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-' && vs_svc_vm_remove(svc, argv[i], &ro, &err) < 0) {
			r = fail(err);
			err = NULL;
		}
	vs_svc_close(svc);
	return r;
}

int vm_console(const struct vs_cli_global *g, int argc, char **argv)
{
	const char *name = NULL;
	bool replay = false;
	struct vs_svc *svc;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--replay"))
			replay = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return usage("console NAME [--replay]");
	}
	if (!name)
		return usage("console NAME [--replay]");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = attach(svc, name, replay);
	vs_svc_close(svc);
	return r;
}

static int cat_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* never ran: no output yet */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDOUT_FILENO, buf, n) != n)
			return -EIO;
	return n < 0 ? -errno : 0;
}

int vm_logs(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_err *err = NULL;
	_cleanup_free_ char *path = NULL, *old = NULL;
	struct vs_svc *svc;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return usage("logs NAME");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = vs_svc_vm_log_path(svc, argv[1], &path, &err);
	vs_svc_close(svc);
	if (r < 0)
		return fail(err);
	old = xasprintf("%s.1", path);
	if ((r = cat_file(old)) < 0 || (r = cat_file(path)) < 0) {
		fprintf(stderr, "vessel: reading %s: %s\n", path, strerror(-r));
		return EXIT_FAIL;
	}
	return 0;
}

static int snapshot_list(struct vs_svc *svc, const char *name)
{
	struct vs_err *err = NULL;
	char **names = NULL;
	size_t n = 0;

	if (vs_svc_vm_snapshot_list(svc, name, &names, &n, &err) < 0)
		return fail(err);
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

int vm_snapshot(const struct vs_cli_global *g, int argc, char **argv)
{
	static const char *const ops[] = { "create", "apply", "delete" };
	struct vs_err *err = NULL;
	struct vs_svc *svc;
	int r = -1;

	if (argc == 3 && !strcmp(argv[2], "list")) {
		if (!(svc = open_svc(g)))
			return EXIT_FAIL;
		r = snapshot_list(svc, argv[1]);
		vs_svc_close(svc);
		return r;
	}
	for (size_t i = 0; argc == 4 && i < VS_ARRAY_SIZE(ops); i++)
		if (!strcmp(argv[2], ops[i]))
			r = (int)i;
	if (r < 0)
		return usage("snapshot NAME create|apply|delete SNAP | snapshot NAME list");
	if (!(svc = open_svc(g)))
		return EXIT_FAIL;
	r = vs_svc_vm_snapshot(svc, argv[1], (enum vs_vm_snapshot_op)r, argv[3], &err);
	vs_svc_close(svc);
	return r < 0 ? fail(err) : 0;
}
