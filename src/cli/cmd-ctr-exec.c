/* `vessel exec|attach|top|restart` on containers (svc/ctr.h). exec exits
 * with the command's status; 125 when vessel itself failed (no such
 * container, not running...), 126/127 when the command could not be run
 * or was not found, as docker. top prints a ps-like table of the
 * container's processes (from its cgroup). The others: 0, 1 on failure, 2 for a usage
 * error; every failure is one line on stderr. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr.h"
#include "svc/svc.h"
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
#define EXIT_EXEC_FAIL 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

struct exec_args {
	struct vs_ctr_exec_opts o;
	bool interactive;
	size_t n_env;
	const char *name;
};

static int usage(const char *verb, const char *synopsis, const char *why)
{
	fprintf(stderr, "vessel %s: %s (usage: vessel %s %s)\n", verb, why, verb, synopsis);
	return EXIT_USAGE;
}

static void env_push(struct exec_args *a, const char *kv)
{
	a->o.env = xrealloc(a->o.env, (a->n_env + 2) * sizeof(char *));
	a->o.env[a->n_env++] = (char *)kv;
	a->o.env[a->n_env] = NULL;
}

/* A flag (-i, -t, a group such as -it) or an option with its value. */
static int exec_opt(struct exec_args *a, char **argv, int *i, int argc)
{
	const char *opt = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (opt[1] != '-' && opt[1] && !opt[strspn(opt + 1, "it") + 1]) {
		a->interactive |= strchr(opt, 'i') != NULL;
		a->o.tty |= strchr(opt, 't') != NULL;
		return 0;
	}
	if (!strcmp(opt, "--interactive") || !strcmp(opt, "--tty")) {
		a->interactive |= opt[2] == 'i';
		a->o.tty |= opt[2] == 't';
		return 0;
	}
	if (!val)
		return -1;
	if (!strcmp(opt, "-e") || !strcmp(opt, "--env")) {
		if (!strchr(val, '='))
			return -1;
		env_push(a, val);
	} else if (!strcmp(opt, "-w") || !strcmp(opt, "--workdir")) {
		a->o.workdir = val;
	} else if (!strcmp(opt, "-u") || !strcmp(opt, "--user")) {
		a->o.user = val;
	} else {
		return -1;
	}
	(*i)++;
	return 0;
}

static int exec_parse(struct exec_args *a, int argc, char **argv)
{
	static const char *const syn = "[-i] [-t] [-e K=V] [-w DIR] [-u USER] NAME COMMAND...";
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (exec_opt(a, argv, &i, argc) < 0) {
			char why[128];

			snprintf(why, sizeof(why), "bad option '%.60s'", argv[i]);
			return usage(argv[0], syn, why);
		}
	}
	if (argc - i < 2)
		return usage(argv[0], syn, "a container and a command are needed");
	a->name = argv[i];
	a->o.argv = argv + i + 1;
	return 0;
}

/* The exit status of an exec that failed: did the command fail to start
 * (127 not found, 126 not runnable) or vessel (125)? */
static int exec_failure(struct vs_svc *svc, const struct vs_err *err)
{
	if (!svc || !err || (err->code != -ENOENT && err->code != -EACCES))
		return EXIT_EXEC_FAIL;
	if (strncmp(err->msg, "no container", 12) == 0)
		return EXIT_EXEC_FAIL;
	return err->code == -ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

int cmd_exec(const struct vs_cli_global *g, int argc, char **argv)
{
	struct exec_args a = { 0 };
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int r = exec_parse(&a, argc, argv), status = EXIT_EXEC_FAIL;

	if (r)
		goto out;
	if (!a.interactive) { /* docker: without -i, the command reads nothing */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null >= 0 && dup2(null, STDIN_FILENO) >= 0)
			close(null);
	}
	fflush(stdout);
	if (vs_svc_open(g->root, &svc, &err) < 0 ||
	    vs_svc_ctr_exec(svc, a.name, &a.o, &status, &err) < 0) {
		fprintf(stderr, "vessel exec: %s\n", err ? err->msg : "failed");
		status = exec_failure(svc, err);
	}
	r = status;
out:
	vs_err_free(err);
	free(a.o.env);
	vs_svc_close(svc);
	return r;
}

/* One argument: the container; -1 after a usage line. */
static int one_name(int argc, char **argv, const char *synopsis)
{
	if (argc != 2 || argv[1][0] == '-')
		return usage(argv[0], synopsis, argc == 2 ? "no options known" : "one container");
	return 0;
}

static void fwd_signal(int sig, void *ctx)
{
	(void)sig;
	(void)ctx; /* attach leaves the container's signals to its terminal */
}

int cmd_attach(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int fd = -1, r = one_name(argc, argv, "NAME");

	if (r)
		return r;
	if (vs_svc_open(g->root, &svc, &err) < 0 ||
	    vs_svc_ctr_attach(svc, argv[1], &fd, &err) < 0) {
		fprintf(stderr, "vessel attach: %s\n", err ? err->msg : "failed");
		r = EXIT_FAIL;
	} else {
		r = ctr_attach_loop(fd, true, fwd_signal, NULL);
		close(fd);
		/* detached: 0; the end of the container: its exit code */
		r = r == 1 ? 0 : vs_svc_ctr_wait(svc, argv[1], NULL);
		r = r < 0 ? EXIT_FAIL : r;
	}
	vs_err_free(err);
	vs_svc_close(svc);
	return r;
}

int cmd_restart(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	uint64_t t = VS_CTR_STOP_TIMEOUT_S;
	int i = 1, rc = 0;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		if (vs_parse_uint(argv[2], 0, 3600, &t) < 0)
			return usage(argv[0], "[-t SECS] NAME...", "-t: expected seconds");
		i = 3;
	}
	if (i >= argc || argv[i][0] == '-')
		return usage(argv[0], "[-t SECS] NAME...", "no container given");
	if (vs_svc_open(g->root, &svc, &err) < 0) {
		fprintf(stderr, "vessel restart: %s\n", err ? err->msg : "failed");
		vs_err_free(err);
		return EXIT_FAIL;
	}
	for (; i < argc; i++, err = NULL) {
		if (vs_svc_ctr_restart(svc, argv[i], (unsigned)t, &err) == 0) {
			printf("%s\n", argv[i]);
			continue;
		}
		fprintf(stderr, "vessel restart: %s\n", err ? err->msg : "failed");
		vs_err_free(err);
		rc = EXIT_FAIL;
	}
	vs_svc_close(svc);
	return rc;
}

/* One line of top from /proc/PID: pid, pid in the container, ppid, uid,
 * cpu time, command. A process gone meanwhile prints nothing. */
static void top_line(pid_t pid)
{
	char path[64], line[512], cmd[4096] = "", comm[64] = "";
	long cpid = pid, ppid = 0, uid = -1;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, '\t');

		if (!strncmp(line, "NSpid:", 6) && last)
			cpid = atol(last + 1); /* the innermost namespace's */
		else if (!strncmp(line, "PPid:", 5))
			ppid = atol(line + 5);
		else if (!strncmp(line, "Uid:", 4))
			uid = atol(line + 4);
		else if (!strncmp(line, "Name:", 5))
			sscanf(line + 5, " %63[^\n]", comm);
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(line, sizeof(line), f) && strrchr(line, ')'))
			sscanf(strrchr(line, ')') + 2,
			       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((f = fopen(path, "re"))) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i + 1 < n; i++)
		cmd[i] = cmd[i] ? cmd[i] : ' ';
	ut = (ut + st) / (unsigned long)sysconf(_SC_CLK_TCK);
	printf("%-8d %-6ld %-8ld %-6ld %02lu:%02lu:%02lu %s\n", (int)pid, cpid, ppid, uid,
	       ut / 3600, ut / 60 % 60, ut % 60, n ? cmd : comm);
}

/* Is pid in the pid namespace of init? (an exec's helper, in the cgroup
 * but outside the namespace, is vessel's, not the container's) */
static bool same_pidns(pid_t pid, pid_t init)
{
	char a[64], b[64], la[64] = "", lb[64] = "";

	snprintf(a, sizeof(a), "/proc/%d/ns/pid", (int)pid);
	snprintf(b, sizeof(b), "/proc/%d/ns/pid", (int)init);
	return readlink(a, la, sizeof(la) - 1) > 0 && readlink(b, lb, sizeof(lb) - 1) > 0 &&
	       !strcmp(la, lb);
}

static int cmp_pid(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

int cmd_top(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	struct vs_ctr_info info = { 0 };
	size_t n = 0;
	int r = one_name(argc, argv, "NAME");

	if (r)
		return r;
	if (vs_svc_open(g->root, &svc, &err) < 0 ||
	    vs_svc_ctr_top(svc, argv[1], &pids, &n, &err) < 0 ||
	    vs_svc_ctr_inspect(svc, argv[1], &info, &err) < 0) {
		fprintf(stderr, "vessel top: %s\n", err ? err->msg : "failed");
		r = EXIT_FAIL;
	} else {
		qsort(pids, n, sizeof(*pids), cmp_pid);
		printf("%-8s %-6s %-8s %-6s %-8s %s\n", "PID", "CPID", "PPID", "UID", "TIME",
		       "CMD");
		for (size_t i = 0; i < n; i++)
			if (same_pidns(pids[i], info.pid))
				top_line(pids[i]);
	}
	vs_ctr_info_clear(&info);
	vs_err_free(err);
	vs_svc_close(svc);
	return r;
}
