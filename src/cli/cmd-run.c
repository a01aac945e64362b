/* `vessel run` and `vessel create`: parse Docker's options into a
 * struct vs_ctr_spec and call the service layer (svc/ctr.h). A foreground
 * run copies the container's output to ours (through its monitor), passes
 * INT/TERM/HUP/QUIT on to it and exits with its status; -d prints the id
 * and returns once the container runs. With -t the container's stdio is a
 * pty its monitor holds; a foreground run attaches to it (ctr-attach.c).
 * Exit status 125 when vessel itself failed (bad option, missing
 * image...), as docker and podman do. */
#include "cli/cmds.h"
#include "cli/ctr-cmds.h"
#include "svc/ctr.h"
#include "svc/net.h"
#include "svc/svc.h"
#include "net/port.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXIT_RUN_FAIL 125

struct run_opts {
	struct vs_ctr_spec spec;
	bool detach, interactive;
	bool fwd; /* net_ready turned IPv4 forwarding on: said once the container runs */
	size_t n_env, n_vol, n_tmpfs;
	bool restart_set; /* --restart given (it conflicts with --rm) */
};

__attribute__((format(printf, 2, 3))) static int fail(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vessel %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

static int parse_volume(struct run_opts *o, const char *arg, const char *verb)
{
	_cleanup_free_ char *copy = xstrdup(arg);
	char *dst = strchr(copy, ':'), *mode;
	struct vs_ctr_volume *v;

	if (!dst || !dst[1])
		return fail(verb, "-v %s: expected SRC:DST[:ro|rw]", arg);
	*dst++ = 0;
	mode = strchr(dst, ':');
	if (mode)
		*mode++ = 0;
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return fail(verb, "-v %s: the mode must be ro or rw", arg);
	o->spec.volumes = xrealloc(o->spec.volumes, (o->n_vol + 1) * sizeof(*v));
	v = &o->spec.volumes[o->n_vol++];
	*v = (struct vs_ctr_volume){ .source = xstrdup(copy),
				     .destination = xstrdup(dst),
				     .readonly = mode && !strcmp(mode, "ro") };
	o->spec.n_volumes = o->n_vol;
	return 0;
}

static int parse_cpus(struct run_opts *o, const char *arg, const char *verb)
{
	char *end;
	double c = strtod(arg, &end);

	if (*end || !(c > 0) || c > 1024)
		return fail(verb, "--cpus %s: expected a number of CPUs such as 0.5", arg);
	o->spec.cpu_millis = (uint64_t)(c * 1000 + 0.5);
	return o->spec.cpu_millis ? 0 : fail(verb, "--cpus %s: too small", arg);
}

static int parse_log_opt(struct run_opts *o, const char *arg, const char *verb)
{
	if (strncmp(arg, "max-size=", 9) != 0 || vs_parse_size(arg + 9, 1, &o->spec.log_max) < 0 ||
	    o->spec.log_max < 4096)
		return fail(verb, "--log-opt %s: only max-size=SIZE (at least 4k) is known", arg);
	return 0;
}

/* The network options: --network none|host|bridge|NAME, -p SPEC (repeatable).
 * Returns 0, -1 after one line on stderr, or 1: not a network option. */
static int net_opt(struct run_opts *o, const char *opt, const char *val, const char *verb)
{
	struct vs_ctr_spec *s = &o->spec;
	struct vs_err *err = NULL;

	if (!strcmp(opt, "--network") || !strcmp(opt, "--net")) {
		free(s->network_name);
		s->network_name = NULL;
		s->network = !strcmp(val, "none") ? VS_CTR_NET_NONE :
			     !strcmp(val, "host") ? VS_CTR_NET_HOST :
						    VS_CTR_NET_BRIDGE;
		/* "bridge" is the default network, as for podman and docker */
		if (s->network == VS_CTR_NET_BRIDGE && strcmp(val, "bridge"))
			s->network_name = xstrdup(val);
		return 0;
	}
	if (strcmp(opt, "-p") && strcmp(opt, "--publish"))
		return 1;
	s->ports = xrealloc(s->ports, (s->n_ports + 1) * sizeof(*s->ports));
	if (vs_port_spec_parse(val, &s->ports[s->n_ports], &err) < 0) {
		fail(verb, "-p: %s", err->msg);
		vs_err_free(err);
		return -1;
	}
	s->n_ports++;
	return 0;
}

/* Makes a created container's network ready (vessel0 on its first use);
 * returns whether that turned IPv4 forwarding on, which is said once the
 * container runs, as `network create` says it. A failure is left to the
 * start, which reports it. */
static bool net_ready(struct vs_svc *svc, const struct vs_ctr_spec *s)
{
	bool fwd = false;

	return s->network == VS_CTR_NET_BRIDGE &&
	       vs_svc_net_ensure_fwd(svc, vs_ctr_spec_network(s), &fwd, NULL) == 0 && fwd;
}

static void net_say_fwd(bool fwd, const struct vs_ctr_spec *s)
{
	if (fwd)
		fprintf(stderr,
			"vessel: enabled IPv4 forwarding (net.ipv4.ip_forward=1) for network %s\n",
			vs_ctr_spec_network(s));
}

/* --restart no|on-failure[:N]|always|unless-stopped (vessel has no daemon
 * to restart: unless-stopped is always). */
static int parse_restart(struct run_opts *o, const char *arg, const char *verb)
{
	uint64_t n = 0;

	o->restart_set = true;
	o->spec.restart_max = 0;
	if (!strcmp(arg, "no"))
		o->spec.restart = VS_CTR_RESTART_NO;
	else if (!strcmp(arg, "always") || !strcmp(arg, "unless-stopped"))
		o->spec.restart = VS_CTR_RESTART_ALWAYS;
	else if (!strcmp(arg, "on-failure") ||
		 (!strncmp(arg, "on-failure:", 11) && vs_parse_uint(arg + 11, 1, 1000000, &n) == 0))
		o->spec.restart = VS_CTR_RESTART_ON_FAILURE, o->spec.restart_max = (unsigned)n;
	else
		return fail(verb, "--restart %s: expected no, on-failure[:N], always", arg);
	return 0;
}

/* --env-file F: K=V lines (K alone: our own value of K, if set); blank
 * lines and lines starting with # are skipped, as docker. */
static int parse_env_file(struct run_opts *o, const char *path, const char *verb)
{
	FILE *f = fopen(path, "re");
	char line[8192];
	unsigned ln = 0;
	int r = 0;

	if (!f)
		return fail(verb, "--env-file %s: %s", path, strerror(errno));
	while (r == 0 && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");
		const char *v;

		ln++;
		s[strcspn(s, "\r\n")] = 0;
		if (!*s || *s == '#')
			continue;
		if (*s == '=')
			r = fail(verb, "--env-file %s:%u: a variable without a name", path, ln);
		else if (strchr(s, '='))
			strv_push(&o->spec.env, &o->n_env, s);
		else if ((v = getenv(s)) != NULL) {
			_cleanup_free_ char *kv = xasprintf("%s=%s", s, v);

			strv_push(&o->spec.env, &o->n_env, kv);
		}
	}
	fclose(f);
	return r;
}

/* Options that take a value. Returns 0, or -1 after one line on stderr. */
static int value_opt(struct run_opts *o, const char *opt, const char *val, const char *verb)
{
	struct vs_ctr_spec *s = &o->spec;
	uint64_t n;
	int r;

#define SET(field) (free(field), (field) = xstrdup(val), 0)
	if (!strcmp(opt, "--name"))
		return SET(s->name);
	if (!strcmp(opt, "-e") || !strcmp(opt, "--env"))
		return strchr(val, '=') ? (strv_push(&s->env, &o->n_env, val), 0) :
					  fail(verb, "-e %s: expected K=V", val);
	if (!strcmp(opt, "-w") || !strcmp(opt, "--workdir"))
		return SET(s->workdir);
	if (!strcmp(opt, "-u") || !strcmp(opt, "--user"))
		return SET(s->user);
	if (!strcmp(opt, "--hostname") || !strcmp(opt, "-h"))
		return SET(s->hostname);
	if (!strcmp(opt, "-m") || !strcmp(opt, "--memory"))
		return vs_parse_size(val, 1, &s->memory) == 0 && s->memory >= (4 << 20) ?
			       0 :
			       fail(verb, "-m %s: expected a size of at least 4m", val);
	if (!strcmp(opt, "--cpus"))
		return parse_cpus(o, val, verb);
	if (!strcmp(opt, "--pids-limit"))
		return vs_parse_uint(val, 1, INT32_MAX, &n) == 0 ?
			       (s->pids_limit = (int64_t)n, 0) :
			       fail(verb, "--pids-limit %s: expected a positive number", val);
	if (!strcmp(opt, "-v") || !strcmp(opt, "--volume"))
		return parse_volume(o, val, verb);
	if (!strcmp(opt, "--tmpfs"))
		return strv_push(&s->tmpfs, &o->n_tmpfs, val), 0;
	if ((r = net_opt(o, opt, val, verb)) <= 0)
		return r;
	if (!strcmp(opt, "--entrypoint")) {
		size_t n0 = 0;

		free(s->entrypoint);
		s->entrypoint = NULL;
		if (*val)
			strv_push(&s->entrypoint, &n0, val);
		else
			s->entrypoint = xzalloc(sizeof(char *));
		return 0;
	}
	if (!strcmp(opt, "--log-opt"))
		return parse_log_opt(o, val, verb);
	/* -t, --restart, --env-file (ctr-interactive) */
	if (!strcmp(opt, "--restart"))
		return parse_restart(o, val, verb);
	if (!strcmp(opt, "--env-file"))
		return parse_env_file(o, val, verb);
#undef SET
	return 1; /* not a value option */
}

static const char *const value_opts[] = {
	"--name",	"-e",	      "--env",	   "-w",	 "--workdir", "-u",
	"--user",	"--hostname", "-h",	   "-m",	 "--memory",  "--cpus",
	"--pids-limit", "-v",	      "--volume",  "--tmpfs",	 "--network", "--net",
	"--entrypoint", "--log-opt",  "--restart", "--env-file",
};

/* net_opt's options that take a value besides --network */
static const char *const net_value_opts[] = { "-p", "--publish" };

static bool is_value_opt(const char *opt)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(value_opts); i++)
		if (!strcmp(opt, value_opts[i]))
			return true;
	for (size_t i = 0; i < VS_ARRAY_SIZE(net_value_opts); i++)
		if (!strcmp(opt, net_value_opts[i]))
			return true;
	return false;
}

/* Docker's grouped short flags: -it, -dit, -ti... Returns false when opt
 * is not such a group. */
static bool short_group(struct run_opts *o, const char *opt, bool run)
{
	if (opt[0] != '-' || opt[1] == '-' || strlen(opt) < 2 || opt[strspn(opt + 1, "dit") + 1])
		return false;
	if (!run && strpbrk(opt + 1, "d"))
		return false;
	for (const char *c = opt + 1; *c; c++) {
		if (*c == 'd')
			o->detach = true;
		else if (*c == 'i')
			o->interactive = true;
		else
			o->spec.tty = true;
	}
	return true;
}

static int flag_opt(struct run_opts *o, const char *opt, bool run, const char *verb)
{
	if (!strcmp(opt, "--rm"))
		o->spec.auto_remove = true;
	else if (run && (!strcmp(opt, "-d") || !strcmp(opt, "--detach")))
		o->detach = true;
	else if (run && (!strcmp(opt, "-i") || !strcmp(opt, "--interactive")))
		o->interactive = true;
	else if (!strcmp(opt, "-P") || !strcmp(opt, "--publish-all"))
		o->spec.publish_all = true;
	else if (!strcmp(opt, "--read-only"))
		o->spec.read_only = true;
	else if (!strcmp(opt, "--tty"))
		o->spec.tty = true;
	else if (!short_group(o, opt, run))
		return fail(verb, "unknown option '%s' (see vessel run --help)", opt);
	return 0;
}

/* Parses [OPTIONS] IMAGE [COMMAND...]. Returns 0 or -1 (said why). */
static int parse(struct run_opts *o, int argc, char **argv, bool run)
{
	const char *verb = argv[0];
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		_cleanup_free_ char *opt = xstrdup(argv[i]);
		char *eq = strncmp(opt, "--", 2) == 0 ? strchr(opt, '=') : NULL;
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);

		if (eq)
			*eq = 0;
		if (!strcmp(opt, "--")) {
			i++;
			break;
		}
		r = val ? value_opt(o, opt, val, verb) : 1;
		if (r < 0)
			return -1;
		if (r == 0) {
			i += !eq;
			continue;
		}
		if (!val && is_value_opt(opt))
			return fail(verb, "%s needs a value", opt);
		if (flag_opt(o, opt, run, verb) < 0)
			return -1;
	}
	if (o->interactive && o->detach && !o->spec.tty)
		return fail(verb, "-i with -d needs -t (attach to it with vessel attach)");
	if (o->restart_set && o->spec.restart != VS_CTR_RESTART_NO && o->spec.auto_remove)
		return fail(verb, "--restart and --rm conflict");
	if (i >= argc)
		return fail(verb, "no image given (vessel %s [OPTIONS] IMAGE [COMMAND...])", verb);
	o->spec.image = xstrdup(argv[i++]);
	for (size_t n = 0; i < argc; i++)
		strv_push(&o->spec.command, &n, argv[i]);
	return 0;
}

/* The signals a foreground run passes on to the container. */
static void forwarded(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

/* Waits for the end of a foreground run, passing signals on (blocked
 * since before the start, so none is lost or kills us in between). */
static int foreground(struct vs_svc *svc, const char *id, int exit_fd)
{
	sigset_t set;
	int sfd;
	struct pollfd p[2];
	struct vs_err *err = NULL;
	int code;

	forwarded(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	p[0] = (struct pollfd){ .fd = exit_fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	while (poll(p, sfd >= 0 ? 2 : 1, -1) >= 0 || errno == EINTR) {
		struct signalfd_siginfo si;

		if (p[0].revents)
			break;
		if (sfd >= 0 && p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si))
			vs_svc_ctr_kill(svc, id, (int)si.ssi_signo, NULL);
	}
	if (sfd >= 0)
		close(sfd);
	code = vs_svc_ctr_wait_fd(svc, id, exit_fd, &err);
	if (code < 0) {
		fprintf(stderr, "vessel run: %s\n", err ? err->msg : "wait failed");
		vs_err_free(err);
		return EXIT_RUN_FAIL;
	}
	return code;
}

struct fwd {
	struct vs_svc *svc;
	const char *id;
};

static void fwd_signal(int sig, void *ctx)
{
	const struct fwd *f = ctx;

	vs_svc_ctr_kill(f->svc, f->id, sig, NULL);
}

/* A foreground run with a pty: our socket is the monitor's first attach
 * client from the start. The exit status, 0 when detached (Ctrl-P
 * Ctrl-Q), or -1 with *err when it did not start. */
static int foreground_tty(struct vs_svc *svc, const char *id, bool input, struct vs_err **err)
{
	struct vs_ctr_start_opts so = { .out_fd = -1, .err_fd = -1, .in_fd = -1 };
	struct fwd f = { .svc = svc, .id = id };
	int sv[2], exit_fd = -1, r, code;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return vs_err_setsys(err, -errno, "socketpair"), -1;
	so.out_fd = sv[1];
	so.exit_fd = &exit_fd;
	ctr_attach_send_winsize(sv[0]); /* the monitor sizes the pty before the start */
	r = vs_svc_ctr_start(svc, id, &so, err);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return -1;
	}
	r = ctr_attach_loop(sv[0], input, fwd_signal, &f);
	close(sv[0]);
	if (r == 1) {
		close(exit_fd);
		return 0; /* detached: it goes on */
	}
	code = vs_svc_ctr_wait_fd(svc, id, exit_fd, err);
	return code < 0 ? EXIT_RUN_FAIL : code;
}

static int run_or_create(const struct vs_cli_global *g, int argc, char **argv, bool run)
{
	struct run_opts o = { 0 };
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	char *id = NULL;
	int exit_fd = -1, rc = EXIT_RUN_FAIL;
	struct vs_ctr_start_opts so = { .out_fd = -1, .err_fd = -1, .in_fd = -1 };
	sigset_t set;

	if (parse(&o, argc, argv, run) < 0)
		goto out;
	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_ctr_create(svc, &o.spec, &id, &err) < 0)
		goto out;
	o.fwd = net_ready(svc, &o.spec);
	if (!run || o.detach) {
		if (run && vs_svc_ctr_start(svc, id, NULL, &err) < 0)
			goto out_rm;
		net_say_fwd(o.fwd, &o.spec);
		printf("%s\n", id);
		rc = 0;
		goto out;
	}
	so = (struct vs_ctr_start_opts){
		.out_fd = 1, .err_fd = 2, .in_fd = o.interactive ? 0 : -1, .exit_fd = &exit_fd
	};
	fflush(stdout);
	forwarded(&set);
	sigprocmask(SIG_BLOCK, &set, NULL); /* the monitor unblocks them for itself */
	if (o.spec.tty) {
		if ((rc = foreground_tty(svc, id, o.interactive, &err)) < 0) {
			rc = EXIT_RUN_FAIL;
			goto out_rm;
		}
		goto out;
	}
	if (vs_svc_ctr_start(svc, id, &so, &err) < 0)
		goto out_rm;
	net_say_fwd(o.fwd, &o.spec);
	rc = foreground(svc, id, exit_fd);
	goto out;
out_rm:
	if (o.spec.auto_remove)
		vs_svc_ctr_remove(svc, id, true, NULL);
out:
	if (err)
		fprintf(stderr, "vessel %s: %s\n", argv[0], err->msg);
	vs_err_free(err);
	free(id);
	vs_ctr_spec_clear(&o.spec);
	vs_svc_close(svc);
	return rc;
}

static void run_help(const char *verb)
{
	printf("usage: vessel %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	       "  --rm  -d|--detach -i|--interactive (run only)  --name N  -e|--env K=V  -w|--workdir DIR\n"
	       "  -u|--user UID[:GID]|NAME  -m|--memory SIZE  --cpus X  --pids-limit N\n"
	       "  -v|--volume SRC:DST[:ro]  --tmpfs DST  --read-only\n"
	       "  --network NAME|bridge|none|host (default: the default network vessel0)\n"
	       "  -p|--publish [HOSTIP:]HOSTPORT:PORT[/tcp|udp]  -P|--publish-all\n"
	       "  --entrypoint E  --hostname H  --log-opt max-size=SIZE\n"
	       "  -t|--tty (-it: interactive; Ctrl-P Ctrl-Q detaches)  --env-file F\n"
	       "  --restart no|on-failure[:N]|always\n",
	       verb);
}

int cmd_run(const struct vs_cli_global *g, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return run_help("run"), 0;
	return run_or_create(g, argc, argv, true);
}

int cmd_create(const struct vs_cli_global *g, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return run_help("create"), 0;
	return run_or_create(g, argc, argv, false);
}
