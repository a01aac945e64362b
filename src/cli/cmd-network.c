/* `vessel network create|ls|inspect|rm|prune`: argument parsing and
 * printing around the service layer (svc/net.h). */
#include "cli/cmds.h"
#include "svc/net.h"
#include "svc/svc.h"
#include "store/networks.h"
#include "common/err.h"
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char create_usage[] =
	"usage: vessel network create NAME [--subnet CIDR] [--gateway IP] [--internal] "
	"[--mtu N] [--vlan ID]\n";

static int fail(struct vs_svc *svc, struct vs_err *err)
{
	fprintf(stderr, "vessel: %s\n", err ? err->msg : "failed");
	vs_err_free(err);
	vs_svc_close(svc);
	return EXIT_FAIL;
}

/* A decimal number in [1, max]; -1 if it is not one. */
static long number(const char *s, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v < 1 || v > max ? -1 : v;
}

/* Returns 0, or the exit status of a usage error (message printed). */
static int parse_create(int argc, char **argv, struct vs_net_spec *spec)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n = 0;

		if (!strcmp(o, "--internal")) {
			spec->internal = true;
			continue;
		}
		if (o[0] != '-' && !spec->name) {
			spec->name = o;
			continue;
		}
		if (!v || (strcmp(o, "--subnet") && strcmp(o, "--gateway") && strcmp(o, "--mtu") &&
			   strcmp(o, "--vlan"))) {
			fprintf(stderr, "vessel: network create: unexpected '%.64s'\n%s", o,
				create_usage);
			return EXIT_USAGE;
		}
		if ((!strcmp(o, "--mtu") || !strcmp(o, "--vlan")) && (n = number(v, 65535)) < 0) {
			fprintf(stderr, "vessel: network create: %s: not a number: '%.32s'\n", o,
				v);
			return EXIT_USAGE;
		}
		if (!strcmp(o, "--subnet"))
			spec->subnet = v;
		else if (!strcmp(o, "--gateway"))
			spec->gateway = v;
		else if (!strcmp(o, "--mtu"))
			spec->mtu = (uint32_t)n;
		else if (n > 4094) {
			fprintf(stderr, "vessel: network create: --vlan: 1..4094\n");
			return EXIT_USAGE;
		} else
			spec->vlan = (uint16_t)n;
		i++;
	}
	if (!spec->name) {
		fputs(create_usage, stderr);
		return EXIT_USAGE;
	}
	return 0;
}

static int net_create(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_net_spec spec = { 0 };
	struct vs_net_info info;
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	int r = parse_create(argc, argv, &spec);

	if (r)
		return r;
	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_net_create(svc, &spec, &info, &err) < 0)
		return fail(svc, err);
	printf("%s\n", info.net->name);
	if (info.forwarding_enabled)
		fprintf(stderr,
			"vessel: enabled IPv4 forwarding (net.ipv4.ip_forward=1) for "
			"network %s\n",
			info.net->name);
	if (info.forward_blocked[0])
		fprintf(stderr,
			"vessel: warning: %s drops forwarded traffic by policy: network %s "
			"has no outside access until that firewall accepts traffic of bridge %s\n",
			info.forward_blocked, info.net->name, info.net->bridge);
	vs_net_info_clear(&info);
	vs_svc_close(svc);
	return 0;
}

static void print_table(const struct vs_net_info *v, size_t n)
{
	printf("%-20s %-15s %-18s %-15s %-8s %5s  %s\n", "NAME", "BRIDGE", "SUBNET", "GATEWAY",
	       "FLAGS", "ADDRS", "STATE");
	for (size_t i = 0; i < n; i++) {
		const struct vs_store_net *s = v[i].net;

		printf("%-20s %-15s %-18s %-15s %-8s %5zu  %s\n", s->name, s->bridge, s->subnet,
		       s->gateway, s->internal ? "internal" : "-", v[i].naddrs,
		       v[i].present ? "up" : "missing");
	}
}

static int net_ls(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	struct vs_net_info *v = NULL;
	size_t n = 0;
	bool json = argc == 3 && !strcmp(argv[1], "--format") && !strcmp(argv[2], "json");

	if (!json && (argc != 1 &&
		      !(argc == 3 && !strcmp(argv[1], "--format") && !strcmp(argv[2], "table")))) {
		fprintf(stderr, "usage: vessel network ls [--format json|table]\n");
		return EXIT_USAGE;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_net_list(svc, &v, &n, &err) < 0)
		return fail(svc, err);
	if (json) {
		json_t *a = json_array();
		char *text;

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, vs_net_info_to_json(&v[i]));
		text = vs_json_dump(a);
		printf("%s\n", text);
		free(text);
		json_decref(a);
	} else {
		print_table(v, n);
	}
	vs_net_info_list_free(v, n);
	vs_svc_close(svc);
	return 0;
}

static int net_inspect(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	struct vs_net_info info;
	json_t *j;
	char *text;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vessel network inspect NAME\n");
		return EXIT_USAGE;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0 ||
	    vs_svc_net_inspect(svc, argv[1], &info, &err) < 0)
		return fail(svc, err);
	j = vs_net_info_to_json(&info);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	json_decref(j);
	vs_net_info_clear(&info);
	vs_svc_close(svc);
	return 0;
}

static int net_rm(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;

	if (argc < 2) {
		fprintf(stderr, "usage: vessel network rm NAME...\n");
		return EXIT_USAGE;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0)
		return fail(svc, err);
	for (int i = 1; i < argc; i++) {
		if (vs_svc_net_rm(svc, argv[i], &err) < 0)
			return fail(svc, err);
		printf("%s\n", argv[i]);
	}
	vs_svc_close(svc);
	return 0;
}

static int net_prune(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vs_svc *svc = NULL;
	struct vs_err *err = NULL;
	char **names = NULL;
	size_t n = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vessel network prune\n");
		return EXIT_USAGE;
	}
	if (vs_svc_open(g->root, &svc, &err) < 0 || vs_svc_net_prune(svc, &names, &n, &err) < 0)
		return fail(svc, err);
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	vs_svc_close(svc);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct vs_cli_global *g, int argc, char **argv);
} subs[] = {
	{ "create", net_create },   { "ls", net_ls }, { "list", net_ls },
	{ "inspect", net_inspect }, { "rm", net_rm }, { "prune", net_prune },
};

int cmd_network(const struct vs_cli_global *g, int argc, char **argv)
{
	if (argc >= 2)
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (!strcmp(argv[1], subs[i].name))
				return subs[i].fn(g, argc - 1, argv + 1);
	fprintf(stderr, "usage: vessel network create|ls|inspect|rm|prune ...\n%s", create_usage);
	return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : EXIT_USAGE;
}
