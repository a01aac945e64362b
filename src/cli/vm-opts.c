/* Parsing the VM options of `vm run` and `vm create` into a vs_vm_spec. */
#include "block/block.h"
#include "cli/vm-opts.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_APPEND,
	OPT_CPUS,
	OPT_MEM,
	OPT_CPU_MODEL,
	OPT_ACCEL,
	OPT_OVERCOMMIT,
	OPT_NAME,
	OPT_DISK,
	OPT_NET,
	OPT_NETWORK,
	OPT_PUBLISH,
	OPT_AUTOSTART,
	OPT_HELP,
	OPT_DEVICE
};

static const struct option vm_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpu-model", required_argument, NULL, OPT_CPU_MODEL },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "overcommit", no_argument, NULL, OPT_OVERCOMMIT },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "publish", required_argument, NULL, OPT_PUBLISH },
	{ "autostart", no_argument, NULL, OPT_AUTOSTART },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void usage(const char *verb)
{
	printf("usage: vessel vm %s [--kernel K] [--initrd I] [--append ARGS] [--cpus N]\n"
	       "           [--mem SIZE] [--cpu-model host|baseline] [--accel kvm|emu|auto]\n"
	       "           [--overcommit] [--disk PATH[,ro][,format=raw|qcow2|vdi|vmdk|vhdx][,cache=MODE]\n"
	       "           [,aio=threads|io_uring]]...\n"
	       "           %s[-- COMMAND...]\n"
	       "Disks are virtio-blk devices, vda, vdb, ... in order; without format= vm run\n"
	       "probes it (vm create records what it found). cache=none|writeback|unsafe|\n"
	       "directsync has QEMU's meanings (default writeback); aio= picks the I/O engine\n"
	       "(default: io_uring where the host allows it, else a thread pool; -v says which).\n"
	       "Without --kernel the default guest kit (make guest) is booted.\n",
	       verb,
	       !strcmp(verb, "run") ?
		       "[--name NAME] [--device TYPE[,OPTS]]...\n"
		       "           [--net tap=NAME|bridge=NAME[,mac=M]]...\n"
		       "           [--network NAME [-p [IP:]HPORT:PORT[/udp]]...] [-v] " :
		       "[--network NAME [-p [IP:]HPORT:PORT[/udp]]...] [--autostart] ");
	if (!strcmp(verb, "run"))
		printf("Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n");
}

__attribute__((format(printf, 1, 2))) static int bad_option(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vessel: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int parse_number(struct vs_vm_spec *s, int opt, const char *arg)
{
	uint64_t v;

	if (opt == OPT_CPUS) {
		if (vs_parse_uint(arg, 0, UINT32_MAX, &v) < 0)
			return bad_option("--cpus '%s': not a number", arg);
		s->cpus = (unsigned)v;
		return 0;
	}
	if (vs_parse_size(arg, VS_MIB, &v) < 0)
		return bad_option("--mem '%s': not a size (e.g. 512M, 2G)", arg);
	s->mem = v;
	return 0;
}

/* PATH[,ro][,format=raw|qcow2|vdi|vmdk|vhdx][,cache=MODE][,aio=ENGINE] */
static int parse_disk(struct vs_vm_spec *s, const char *arg)
{
	char *copy = xstrdup(arg), *save = NULL, *path = strtok_r(copy, ",", &save), *t;
	const char *fmt = NULL;
	bool ro = false;
	int r = 0, cache = VS_DISK_CACHE_WRITEBACK, aio = VS_DISK_AIO_AUTO;

	while (path && r == 0 && (t = strtok_r(NULL, ",", &save))) {
		if (!strcmp(t, "ro") || !strcmp(t, "readonly"))
			ro = true;
		else if (!strncmp(t, "format=", 7) && vs_blk_format_known(t + 7))
			fmt = t + strlen("format=");
		else if (!strncmp(t, "cache=", 6) && (cache = vs_disk_cache_parse(t + 6)) < 0)
			r = bad_option("--disk %s: unknown cache mode '%s' (none, writeback, "
				       "unsafe, directsync)",
				       arg, t + 6);
		else if (!strncmp(t, "aio=", 4) && (aio = vs_disk_aio_parse(t + 4)) < 0)
			r = bad_option(
				"--disk %s: unknown aio engine '%s' (auto, threads, io_uring)", arg,
				t + 4);
		else if (strncmp(t, "cache=", 6) && strncmp(t, "aio=", 4))
			r = bad_option(
				"--disk %s: unknown '%s' (PATH[,ro][,format=raw|qcow2|vdi|vmdk|"
				"vhdx][,cache=MODE][,aio=threads|io_uring])",
				arg, t);
	}
	if (!path)
		r = bad_option("--disk: a path is needed");
	if (r == 0 && vs_vm_spec_add_disk(s, path, fmt, ro) < 0)
		r = bad_option("--disk %s: at most %d disks", arg, VS_VM_MAX_DISKS);
	if (r == 0) {
		s->disks[s->ndisks - 1].cache = (enum vs_disk_cache)cache;
		s->disks[s->ndisks - 1].aio = (enum vs_disk_aio)aio;
	}
	free(copy);
	return r;
}

/* tap=NAME|bridge=NAME[,mac=M]: a virtio-net device (virtio/net-vm.c
 * checks the rest when the VM is made). */
static int parse_net(struct vm_opts *o, const char *arg)
{
	if (o->allow_autostart) /* vm create: the stored spec has no devices yet */
		return bad_option(
			"--net %s: only vm run takes --net for now (vm create: --network)", arg);
	if (strncmp(arg, "tap=", 4) && strncmp(arg, "bridge=", 7))
		return bad_option(
			"--net '%s': expected tap=NAME or bridge=NAME[,mac=XX:XX:XX:XX:XX:XX]",
			arg);
	if (o->ndevices == VS_VM_MAX_DEVICES)
		return bad_option("--net %s: at most %d devices", arg, VS_VM_MAX_DEVICES);
	o->net_devices[o->nnet_devices] = xasprintf("virtio-net,%s", arg);
	o->devices[o->ndevices++] = o->net_devices[o->nnet_devices++];
	return 0;
}

static int parse_one(struct vm_opts *o, int opt, char *arg)
{
	struct vs_vm_spec *s = &o->spec;

	switch (opt) {
	case OPT_KERNEL:
		s->kernel = arg;
		return 0;
	case OPT_INITRD:
		s->initrd = arg;
		return 0;
	case OPT_APPEND:
		s->append = arg;
		return 0;
	case OPT_OVERCOMMIT:
		s->overcommit = true;
		return 0;
	case OPT_NAME:
		s->name = arg;
		return 0;
	case OPT_CPUS:
	case OPT_MEM:
		return parse_number(s, opt, arg);
	case OPT_CPU_MODEL:
		if (strcmp(arg, "host") && strcmp(arg, "baseline"))
			return bad_option("--cpu-model '%s': expected host or baseline", arg);
		s->cpu_model = strcmp(arg, "host") ? VS_CPU_BASELINE : VS_CPU_HOST;
		return 0;
	case OPT_ACCEL:
		if (vs_accel_parse(arg, &s->accel) < 0)
			return bad_option("--accel '%s': expected kvm, emu or auto", arg);
		return 0;
	case OPT_AUTOSTART:
		if (!o->allow_autostart)
			return bad_option("--autostart is for vm create");
		s->autostart = true;
		return 0;
	case OPT_DISK:
		return parse_disk(s, arg);
	case OPT_DEVICE:
		if (o->allow_autostart) /* vm create: the stored spec has no devices yet */
			return bad_option("--device %s: only vm run takes devices for now", arg);
		if (o->ndevices == VS_VM_MAX_DEVICES)
			return bad_option("--device %s: at most %d devices", arg,
					  VS_VM_MAX_DEVICES);
		o->devices[o->ndevices++] = arg;
		return 0;
	case OPT_NET:
		return parse_net(o, arg);
	case OPT_NETWORK:
		if (s->network)
			return bad_option("--network %s: one network per VM", arg);
		s->network = arg;
		return 0;
	case OPT_PUBLISH:
		vs_vm_spec_add_port(s, arg); /* checked with the network's rules */
		return 0;
	default:
		return -EINVAL;
	}
}

int vm_opts_parse(struct vm_opts *o, const char *verb, int argc, char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hvp:", vm_options, NULL)) != -1) {
		if (opt == 'p')
			opt = OPT_PUBLISH;
		if (opt == 'h' || opt == OPT_HELP) {
			usage(verb);
			return 1;
		}
		if (opt == 'v' && !o->allow_autostart) { /* vm run only */
			o->verbose = true;
			continue;
		}
		if (opt == '?')
			return bad_option("vm %s: unknown or incomplete option '%s'", verb,
					  argv[optind - 1]);
		if (parse_one(o, opt, optarg) < 0)
			return -EINVAL;
	}
	if (o->spec.nports && !o->spec.network)
		return bad_option("published ports (-p) need --network NAME");
	if (optind < argc) {
		size_t n = argc - optind;

		o->spec.command = xzalloc((n + 1) * sizeof(char *));
		for (size_t i = 0; i < n; i++)
			o->spec.command[i] = xstrdup(argv[optind + i]);
	}
	return 0;
}

void vm_opts_clear(struct vm_opts *o)
{
	for (char **a = o->spec.command; a && *a; a++)
		free(*a);
	free(o->spec.command);
	o->spec.command = NULL;
	for (size_t i = 0; i < o->spec.ndisks; i++) {
		free(o->spec.disks[i].path);
		free(o->spec.disks[i].format);
	}
	free(o->spec.disks);
	o->spec.disks = NULL;
	for (size_t i = 0; i < o->spec.nports; i++)
		free(o->spec.ports[i]);
	free(o->spec.ports);
	o->spec.ports = NULL;
	o->spec.nports = 0;
	for (unsigned i = 0; i < o->nnet_devices; i++)
		free(o->net_devices[i]);
	o->nnet_devices = 0;
	o->spec.ndisks = 0;
}
