/* `vessel vm`: the verb table, and `vm run`, which builds a spec from the
 * options, boots it in the foreground and turns how it ended into an exit
 * status (docs/vm.md):
 *   N    the guest wrote N to the exit device (with -- COMMAND: its status)
 *   0    guest power-off, reset (vessel exits on reboot) or Ctrl-A x
 *   124  the guest crashed (triple fault, KVM internal/emulation error)
 *   125  vessel itself failed (bad options, files, host limits)
 *   128+N  vessel was stopped by signal N (SIGINT, SIGTERM, SIGHUP)
 * With --name the run is registered in the state store (svc/vm.h). */
#include "cli/cmds.h"
#include "cli/vm-cmds.h"
#include "cli/vm-opts.h"
#include "svc/svc.h"
#include "svc/vm.h"
#include "svc/net.h"
#include "svc/vm-net.h"
#include "vmm/kit.h"
#include "vmm/memory.h"
#include "vmm/vm.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_GUEST_CRASH 124
#define EXIT_VMM_ERROR 125
#define EXIT_SIGNAL_BASE 128

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

/* Boots cfg on this terminal; registers the run when a token is given. */
static int run_vm(struct vs_vm_config *cfg, struct vs_svc_run *token)
{
	_cleanup_(vs_err_freep) struct vs_err *err = NULL;
	struct vs_vm_result res = { 0 };
	struct vs_vm *vm = NULL;
	int status = EXIT_VMM_ERROR;

	if (vs_vm_create(cfg, &vm, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err->msg);
		res = (struct vs_vm_result){ .reason = VS_STOP_ERROR };
		snprintf(res.detail, sizeof(res.detail), "%s", err->msg);
		vs_svc_vm_run_end(token, &res);
		return status;
	}
	if (vs_vm_warning(vm))
		fprintf(stderr, "vessel: warning: %s\n", vs_vm_warning(vm));
	if (vs_vm_run(vm, &res, &err) < 0) {
		fprintf(stderr, "vessel: %s\n", err->msg);
		res = (struct vs_vm_result){ .reason = VS_STOP_ERROR };
	} else {
		status = report(&res);
	}
	vs_svc_vm_run_end(token, &res);
	fflush(stdout);
	fflush(stderr);
	vs_vm_release_after_exit(vm);
	vs_vm_free(vm);
	return status;
}

/* For benchmarks (bench/mem.sh, bench/blk.sh): VESSEL_MEM_BACKING=anon|
 * anon-thp|memfd (vmm/memory.h); unset or unknown: the VM's choice. */
static unsigned mem_backing_from_env(void)
{
	static const struct {
		const char *name;
		enum vs_mem_backing backing;
	} names[] = { { "anon", VS_MEM_ANON },
		      { "anon-thp", VS_MEM_ANON_THP },
		      { "memfd", VS_MEM_MEMFD } };
	const char *v = getenv("VESSEL_MEM_BACKING");

	for (unsigned i = 0; v && i < VS_ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i].name))
			return names[i].backing;
	return VS_MEM_AUTO;
}

static void block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* --network: a lease for this run (owner: the name, or run-PID-START
 * so a sweep can reclaim it after a SIGKILL), the NIC
 * on the network's bridge first (eth0) and vessel.ip for the guest init.
 * *append owns the new command-line tail. */
static int attach_network(struct vs_svc *svc, struct vm_opts *o, const char *owner,
			  struct vs_svc_vm_net *net, char **append, struct vs_err **err)
{
	int r = vs_svc_vm_net_attach(svc, o->spec.network, owner, net, err);

	if (r == 0)
		r = vs_svc_vm_net_publish(svc, o->spec.ports, o->spec.nports, net, err);
	if (r < 0)
		return r;
	if (o->ndevices == VS_VM_MAX_DEVICES)
		return vs_err_set(err, -E2BIG, "--network: at most %d devices", VS_VM_MAX_DEVICES);
	memmove(o->devices + 1, o->devices, o->ndevices * sizeof(o->devices[0]));
	o->devices[0] = net->device;
	o->ndevices++;
	*append = vs_svc_vm_net_append(o->spec.append, net);
	o->spec.append = *append;
	return 0;
}

/* vm run -v: the accelerator, and the devices say what they chose (each
 * disk's aio engine) at the info level. */
static void say_verbose(const struct vs_vm_config *cfg)
{
	const char *why;
	enum vs_accel acc = vs_accel_resolve(cfg->accel, &why);

	if (vs_log_get_level() < VS_LOG_INFO)
		vs_log_set_level(VS_LOG_INFO);
	fprintf(stderr, "vessel: accelerator %s (%s)\n", acc == VS_ACCEL_KVM ? "kvm" : "emu", why);
}

static int vm_run(const struct vs_cli_global *g, int argc, char **argv)
{
	struct vm_opts o = { 0 };
	struct vs_kit_boot boot = { 0 };
	struct vs_vm_config cfg = { .out_fd = STDOUT_FILENO, .console_input = true };
	_cleanup_(vs_err_freep) struct vs_err *err = NULL;
	struct vs_svc *svc = NULL;
	struct vs_svc_run *token = NULL;
	struct vs_svc_vm_net net = { 0 };
	_cleanup_free_ char *append = NULL, *owner = NULL;
	char *user_append;
	int r, status = EXIT_VMM_ERROR;

	vs_vm_spec_init(&o.spec);
	r = vm_opts_parse(&o, "run", argc, argv);
	if (r != 0) {
		vm_opts_clear(&o);
		return r > 0 ? 0 : EXIT_VMM_ERROR;
	}
	user_append = o.spec.append;
	if (o.spec.network) {
		block_stop_signals(); /* a SIGTERM before the VM runs must not skip the release */
		owner = o.spec.name ? xstrdup(o.spec.name) : vs_svc_vm_net_run_owner();
		if (vs_svc_open(g->root, &svc, &err) < 0 ||
		    attach_network(svc, &o, owner, &net, &append, &err) < 0)
			goto out;
	}
	cfg.trace_boot = getenv("VESSEL_TRACE_BOOT") != NULL;
	r = vs_kit_resolve(&o.spec,
			   (isatty(cfg.out_fd) ? VS_KIT_OUT_TTY : 0) |
				   (isatty(STDIN_FILENO) ? 0 : VS_KIT_IN_PIPE),
			   &boot, &err);
	o.spec.append = user_append; /* vessel.ip is for this boot, not for the record */
	if (r < 0)
		goto out;
	vs_kit_config(&o.spec, &boot, &cfg);
	cfg.mem_backing = mem_backing_from_env();
	if (o.verbose)
		say_verbose(&cfg);
	for (unsigned i = 0; i < o.ndevices; i++)
		cfg.devices[cfg.ndevices++] = o.devices[i];
	/* Once registered, `vm stop` may signal us: hold the signals for vs_vm_run(). */
	if (o.spec.name)
		block_stop_signals();
	if (o.spec.name && ((!svc && vs_svc_open(g->root, &svc, &err) < 0) ||
			    vs_svc_vm_run_begin(svc, &o.spec, &token, &err) < 0))
		goto out;
	status = run_vm(&cfg, token);
out:
	if (err)
		fprintf(stderr, "vessel: %s\n", err->msg);
	/* A foreground run gives its address back when it ends, however it ends. */
	if (owner && svc) {
		vs_svc_vm_net_unpublish(&net);
		vs_svc_vm_net_release(svc, o.spec.network, owner);
	}
	vs_svc_close(svc);
	vs_kit_boot_clear(&boot);
	vm_opts_clear(&o);
	return status;
}

struct vm_verb {
	const char *name;
	int (*fn)(const struct vs_cli_global *g, int argc, char **argv);
	const char *help;
};

static const struct vm_verb vm_verbs[] = {
	{ "run", vm_run, "boot a VM in the foreground (--name registers it)" },
	{ "create", vm_create, "register a named VM: NAME [vm run options] [--autostart]" },
	{ "start", vm_start,
	  "start NAME in the background [-a|--attach] [--overcommit]; or --autostart" },
	{ "stop", vm_stop, "power NAME off [-t SECS, then a hard stop; default 10]" },
	{ "kill", vm_kill, "stop NAME at once" },
	{ "restart", vm_restart, "stop NAME [-t SECS], then start it" },
	{ "pause", vm_pause, "pause NAME's vCPUs" },
	{ "resume", vm_resume, "resume NAME" },
	{ "rm", vm_rm, "remove NAME [-f kills it first]" },
	{ "ls", vm_ls, "list VMs [--format json]" },
	{ "inspect", vm_inspect, "NAME's spec and state as JSON" },
	{ "console", vm_console, "attach to NAME's serial console (Ctrl-A d detaches) [--replay]" },
	{ "logs", vm_logs, "print NAME's console log" },
	{ "snapshot", vm_snapshot,
	  "NAME create|apply|delete SNAP, NAME list: its qcow2 disks, stopped" },
};

static void vm_usage(FILE *f)
{
	fprintf(f, "usage: vessel vm VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < VS_ARRAY_SIZE(vm_verbs); i++)
		fprintf(f, "  %-8s %s\n", vm_verbs[i].name, vm_verbs[i].help);
}

int cmd_vm(const struct vs_cli_global *g, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		vm_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(vm_verbs); i++)
		if (!strcmp(argv[1], vm_verbs[i].name))
			return vm_verbs[i].fn(g, argc - 1, argv + 1);
	fprintf(stderr, "vessel: vm: unknown command '%s' (see vessel vm --help)\n", argv[1]);
	return 2;
}
