/* `vessel run` and `vessel create`: parse Docker's options into a
 * struct vs_ctr_spec and call the service layer (svc/ctr.h). A foreground
 * run copies the container's output to ours (through its monitor), passes
 * INT/TERM/HUP/QUIT on to it and exits with its status; -d prints the id
 * and returns once the container runs. Exit status 125 when vessel itself
 * failed (bad option, missing image...), as docker and podman do. */
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
#include <unistd.h>

#define EXIT_RUN_FAIL 125

struct run_opts {
	struct vs_ctr_spec spec;
	bool detach, interactive;
	bool fwd; /* net_ready turned IPv4 forwarding on: said once the container runs */
	size_t n_env, n_vol, n_tmpfs;
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
#undef SET
	return 1; /* not a value option */
}

static const char *const value_opts[] = {
	"--name",     "-e",	 "--env",     "-w",	  "--workdir",	  "-u",		  "--user",
	"--hostname", "-h",	 "-m",	      "--memory", "--cpus",	  "--pids-limit", "-v",
	"--volume",   "--tmpfs", "--network", "--net",	  "--entrypoint", "--log-opt",
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

static const char *const refused[] = { "-t", "-it", "-ti", "--tty", "--restart", "--env-file" };

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
	else {
		for (size_t i = 0; i < VS_ARRAY_SIZE(refused); i++)
			if (!strncmp(opt, refused[i], strlen(refused[i])) &&
			    (!opt[strlen(refused[i])] || opt[strlen(refused[i])] == '='))
				return fail(verb, "%s is not supported yet", opt);
		return fail(verb, "unknown option '%s' (see vessel run --help)", opt);
	}
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
	if (o->interactive && o->detach)
		return fail(verb, "-i with -d is not supported yet");
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
	       "not yet: -t, -i with -d, --restart, --env-file\n",
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
