/* `vessel vm run`: parses the options, builds a vs_vm_config, runs the VM
 * and turns how it ended into an exit status (docs/vm.md):
 *   N    the guest wrote N to the exit device (with -- COMMAND: its status)
 *   0    guest power-off, reset (vessel exits on reboot) or Ctrl-A x
 *   124  the guest crashed (triple fault, KVM internal/emulation error)
 *   125  vessel itself failed (bad options, files, host limits)
 *   128+N  vessel was stopped by signal N (SIGINT, SIGTERM, SIGHUP) */
#include "cli/cmds.h"
#include "cmd-encode.h"
#include "vmm/vm.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_GUEST_CRASH 124
#define EXIT_VMM_ERROR	 125
#define EXIT_SIGNAL_BASE 128
#define DEFAULT_MEM	 (512 * VS_MIB)
#define KIT_CMDLINE	 "console=ttyS0 reboot=k panic=-1 quiet"

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_CPUS, OPT_MEM, OPT_CPU_MODEL, OPT_ACCEL,
       OPT_OVERCOMMIT, OPT_NAME, OPT_DISK, OPT_NET, OPT_NETWORK, OPT_HELP };

static const struct option run_opts[] = {
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
	{ "help", no_argument, NULL, OPT_HELP },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void run_usage(FILE *f)
{
	fputs("usage: vessel vm run [--kernel K] [--initrd I] [--append ARGS] [--cpus N]\n"
	      "                     [--mem SIZE] [--cpu-model host|baseline] [--accel kvm|emu|auto]\n"
	      "                     [--overcommit] [--name NAME] [-v] [-- COMMAND...]\n"
	      "Without --kernel the default guest kit (make guest) is booted.\n"
	      "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n",
	      f);
}

struct run_args {
	struct vs_vm_config cfg;
	const char *append;
	char **command; /* after "--": run by the guest kit's init */
	bool kernel_given;
	bool verbose; /* -v: say which accelerator runs the VM, and why */
	char *kit_kernel, *kit_initrd, *cmdline; /* owned */
};

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

static int parse_one(struct run_args *a, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case OPT_KERNEL: a->cfg.kernel = arg; a->kernel_given = true; return 0;
	case OPT_INITRD: a->cfg.initrd = arg; return 0;
	case OPT_APPEND: a->append = arg; return 0;
	case OPT_OVERCOMMIT: a->cfg.overcommit = true; return 0;
	case OPT_NAME: return 0;
	case OPT_CPUS:
		if (vs_parse_uint(arg, 0, UINT32_MAX, &v) < 0)
			return bad_option("--cpus '%s': not a number", arg);
		a->cfg.cpus = (unsigned)v;
		return 0;
	case OPT_MEM:
		if (vs_parse_size(arg, VS_MIB, &v) < 0)
			return bad_option("--mem '%s': not a size (e.g. 512M, 2G)", arg);
		a->cfg.mem = v;
		return 0;
	case OPT_CPU_MODEL:
		if (strcmp(arg, "host") && strcmp(arg, "baseline"))
			return bad_option("--cpu-model '%s': expected host or baseline", arg);
		a->cfg.cpu_model = strcmp(arg, "host") ? VS_CPU_BASELINE : VS_CPU_HOST;
		return 0;
	case OPT_ACCEL:
		if (!strcmp(arg, "kvm"))
			a->cfg.accel = VS_ACCEL_KVM;
		else if (!strcmp(arg, "auto"))
			a->cfg.accel = VS_ACCEL_AUTO;
		else if (!strcmp(arg, "emu"))
			a->cfg.accel = VS_ACCEL_EMU;
		else
			return bad_option("--accel '%s': expected kvm, emu or auto", arg);
		return 0;
	case OPT_DISK: return bad_option("--disk %s: virtio-blk is not part of this build yet", arg);
	case OPT_NET:
	case OPT_NETWORK: return bad_option("--net %s: virtio-net is not part of this build yet", arg);
	default: return -EINVAL;
	}
}

static int parse_run(struct run_args *a, int argc, char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hv", run_opts, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			run_usage(stdout);
			return 1;
		}
		if (opt == 'v') {
			a->verbose = true;
			continue;
		}
		if (opt == '?') {
			fprintf(stderr, "vessel: vm run: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (parse_one(a, opt, optarg) < 0)
			return -EINVAL;
	}
	if (optind < argc)
		a->command = argv + optind;
	return 0;
}

/* Appends the guest kit's vessel.cmd= fragment (guest/init/cmdline-abi.h). */
static int add_command(struct run_args *a)
{
	_cleanup_free_ char *frag = NULL;
	char *full;
	int r;

	if (!a->command)
		return 0;
	r = vs_guest_cmd_encode(a->command, &frag);
	if (r < 0) {
		fprintf(stderr, "vessel: vm run: cannot pass the command to the guest: %s\n",
			r == -E2BIG ? "too long for the kernel command line" : strerror(-r));
		return r;
	}
	/* Output to a pipe or file: ask the init for a byte-exact console. */
	full = xasprintf("%s%s%s%s", a->cmdline, *a->cmdline ? " " : "",
			 isatty(a->cfg.out_fd) ? "" : "vessel.tty=0 ", frag);
	free(a->cmdline);
	a->cmdline = full;
	a->cfg.cmdline = full;
	return 0;
}

/* Fills kernel/initrd/cmdline defaults from the guest kit when --kernel is absent. */
static int apply_defaults(struct run_args *a)
{
	const char *dir = getenv("VESSEL_GUEST_DIR");
	_cleanup_free_ char *home_dir = NULL;

	if (a->kernel_given) {
		a->cmdline = xstrdup(a->append ? a->append : "");
	} else {
		if (!dir) {
			home_dir = xasprintf("%s/.cache/vessel/guest", getenv("HOME") ? getenv("HOME") : "/root");
			dir = home_dir;
		}
		a->kit_kernel = xasprintf("%s/vmlinuz", dir);
		a->kit_initrd = xasprintf("%s/initramfs.cpio.gz", dir);
		if (access(a->kit_kernel, R_OK) != 0) {
			fprintf(stderr, "vessel: no default guest kit in %s (run 'make guest', or pass --kernel)\n", dir);
			return -ENOENT;
		}
		a->cfg.kernel = a->kit_kernel;
		if (!a->cfg.initrd)
			a->cfg.initrd = a->kit_initrd;
		a->cmdline = a->append ? xasprintf("%s %s", KIT_CMDLINE, a->append) : xstrdup(KIT_CMDLINE);
	}
	a->cfg.cmdline = a->cmdline;
	return add_command(a);
}

static int report(const struct vs_vm_result *res)
{
	switch (res->reason) {
	case VS_STOP_EXIT_DEVICE:
		return res->status & 0xff;
	case VS_STOP_POWEROFF:
	case VS_STOP_USER:
		return 0;
	case VS_STOP_RESET:
		fprintf(stderr, "vessel: the guest rebooted; vessel exits on reboot\n");
		return 0;
	case VS_STOP_CRASH:
		fprintf(stderr, "vessel: guest crashed: %s\n", res->detail);
		return EXIT_GUEST_CRASH;
	case VS_STOP_SIGNAL:
		fprintf(stderr, "vessel: %s; VM stopped\n", res->detail);
		return EXIT_SIGNAL_BASE + res->status;
	default:
		fprintf(stderr, "vessel: VM stopped: %s%s%s\n", res->detail,
			res->status < 0 ? ": " : "", res->status < 0 ? strerror(-res->status) : "");
		return EXIT_VMM_ERROR;
	}
}

static int vm_run(int argc, char **argv)
{
	struct run_args a = { .cfg = { .cpus = 1, .mem = DEFAULT_MEM, .out_fd = STDOUT_FILENO,
				       .console_input = true } };
	_cleanup_(vs_err_freep) struct vs_err *err = NULL;
	struct vs_vm_result res = { 0 };
	struct vs_vm *vm = NULL;
	int r, status = EXIT_VMM_ERROR;

	a.cfg.trace_boot = getenv("VESSEL_TRACE_BOOT") != NULL;
	r = parse_run(&a, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : EXIT_VMM_ERROR;
	if (apply_defaults(&a) < 0)
		goto out;
	if (a.verbose) {
		const char *why;
		enum vs_accel acc = vs_accel_resolve(a.cfg.accel, &why);

		fprintf(stderr, "vessel: accelerator %s (%s)\n", acc == VS_ACCEL_KVM ? "kvm" : "emu",
			why);
	}
	if (vs_vm_create(&a.cfg, &vm, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err->msg);
		goto out;
	}
	if (a.cfg.accel == VS_ACCEL_KVM && !vs_host_has_hw_virt() && !vs_vm_is_testkernel(vm))
		fprintf(stderr, "vessel: warning: this host's KVM has no hardware virtualization "
				"(no vmx/svm); an unmodified kernel runs its CPL0 code emulated at "
				"about 2 MIPS and will boot extremely slowly\n");
	if (vs_vm_run(vm, &res, &err) < 0)
		fprintf(stderr, "vessel: %s\n", err->msg);
	else
		status = report(&res);
	fflush(stdout);
	fflush(stderr);
	vs_vm_release_after_exit(vm);
out:
	vs_vm_free(vm);
	free(a.kit_kernel);
	free(a.kit_initrd);
	free(a.cmdline);
	return status;
}

int cmd_vm(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: vessel vm run [OPTIONS] [-- COMMAND...]\n");
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return vm_run(argc - 1, argv + 1);
	fprintf(stderr, "vessel: vm: unknown command '%s'\n", argv[1]);
	return 2;
}
