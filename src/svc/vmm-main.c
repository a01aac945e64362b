/* The background VMM process of a named VM (forked by vm-start.c): it holds
 * the VM's lock on fd 3, builds the VM from the run's row (the copy of the
 * starting CLI's, which the fork gave it: nothing to read before the guest
 * boots), listens on control.sock, starts the vCPUs, then opens the store,
 * records "running" and says "ok" on the status pipe (fd 4), serves until
 * the VM stops, and records how it ended. Its working directory is the VM's
 * directory; its parent is the reaper (vmm-reaper.h). */
#include "svc/internal.h"
#include "svc/vm-net.h"
#include "store/store.h"
#include "store/vms.h"
#include "vmm/kit.h"
#include "vmm/serve.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONSOLE_PIPE_SIZE (1024 * 1024)
#define LISTEN_BACKLOG 16

struct vmm {
	const char *root;
	char *dir; /* <root>/vms/<name> */
	struct vs_svc *svc; /* opened once the vCPUs run (at once with a network) */
	struct vs_store_vm *row;
	struct vs_vm_spec spec;
	struct vs_kit_boot boot;
	struct vs_vm *vm;
	int console[2];
	int listen_fd;
	struct vs_svc_vm_net net; /* spec.network: its NIC and vessel.ip */
};

static void record(struct vmm *m)
{
	struct vs_err *e = NULL;

	if ((!m->svc && vs_svc_open(m->root, &m->svc, &e) < 0) ||
	    vs_store_vm_update_run(m->svc->store, m->row, &e) < 0) {
		fprintf(stderr, "vessel: VMM: %s\n", e->msg);
		vs_err_free(e);
	}
}

static void state_changed(void *ctx, const char *state)
{
	struct vmm *m = ctx;

	snprintf(m->row->state, sizeof(m->row->state), "%s", state);
	record(m);
}

static void say(const char *line);

/* Up: recorded as running, then "ok" to the starting CLI (after the vCPUs
 * started, so the guest boots while the CLI returns). */
static void ready(void *ctx)
{
	struct vmm *m = ctx;

	snprintf(m->row->state, sizeof(m->row->state), "running");
	m->row->pid = getpid();
	m->row->pid_start = vs_svc_pid_start(getpid());
	record(m);
	say("ok");
}

static const struct vs_vm_serve_hooks hooks = { .ready = ready, .state_changed = state_changed };

static int listen_control(struct vmm *m, struct vs_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	/* We hold the lock: a socket file left by a killed VMM is stale. */
	unlink(VS_SVC_SOCK_FILE);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", VS_SVC_SOCK_FILE);
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->listen_fd, LISTEN_BACKLOG) < 0)
		return vs_err_setsys(err, -errno, "control socket %s/%s", m->row->name,
				     VS_SVC_SOCK_FILE);
	return 0;
}

/* The boot files and command line; with a network, its lease (kept across
 * starts, released by vm rm) and vessel.ip on the command line. */
static int resolve(struct vmm *m, const char *name, struct vs_err **err)
{
	char *user = m->spec.append, *with_ip;
	int r;

	if (!m->spec.network)
		return vs_kit_resolve(&m->spec, 0, &m->boot, err);
	if ((r = vs_svc_open(m->root, &m->svc, err)) < 0 ||
	    (r = vs_svc_vm_net_attach(m->svc, m->spec.network, name, &m->net, err)) < 0 ||
	    (r = vs_svc_vm_net_publish(m->svc, m->spec.ports, m->spec.nports, &m->net, err)) < 0)
		return vs_err_wrap(err, r, "VM '%s'", name);
	with_ip = vs_svc_vm_net_append(user, &m->net);
	m->spec.append = with_ip;
	r = vs_kit_resolve(&m->spec, 0, &m->boot, err);
	m->spec.append = user;
	free(with_ip);
	return r;
}

static int build(struct vmm *m, struct vs_err **err)
{
	_cleanup_json_ json_t *j = json_loads(m->row->spec, 0, NULL);
	const char *name = m->row->name;
	struct vs_vm_config cfg = { 0 };
	int r;

	if ((r = vs_vm_spec_from_json(j, &m->spec, err)) < 0 || (r = resolve(m, name, err)) < 0)
		return r;
	if (chdir(m->dir) < 0)
		return vs_err_setsys(err, -errno, "cannot enter %s", m->dir);
	if (pipe2(m->console, O_CLOEXEC) < 0)
		return vs_err_setsys(err, -errno, "console pipe");
	/* The serial never blocks a vCPU on a full pipe: the loop drains it. */
	fcntl(m->console[1], F_SETPIPE_SZ, CONSOLE_PIPE_SIZE);
	fcntl(m->console[1], F_SETFL, O_NONBLOCK);
	vs_kit_config(&m->spec, &m->boot, &cfg);
	if (m->spec.network)
		cfg.devices[cfg.ndevices++] = m->net.device; /* eth0 */
	cfg.out_fd = m->console[1];
	cfg.console_input = false;
	if ((r = vs_vm_create(&cfg, &m->vm, err)) < 0)
		return vs_err_wrap(err, r, "VM '%s'", name);
	return listen_control(m, err);
}

static void say(const char *line)
{
	static bool said;

	if (said)
		return;
	said = true;
	size_t len = strlen(line);

	if (write(VS_SVC_VMM_STATUS_FD, line, len) < 0 ||
	    write(VS_SVC_VMM_STATUS_FD, "\n", 1) < 0) {
		/* the starting CLI is gone; the store says the rest */
	}
	close(VS_SVC_VMM_STATUS_FD);
}

static int serve(struct vmm *m)
{
	_cleanup_free_ char *log = xasprintf("%s/%s", m->dir, VS_SVC_LOG_FILE);
	struct vs_vm_serve_opts o = { .control_fd = m->listen_fd,
				      .console_fd = m->console[0],
				      .log_path = log,
				      .hooks = &hooks,
				      .hook_ctx = m };
	struct vs_vm_result res = { 0 };
	struct vs_err *err = NULL;
	char reason[256];
	int status = 125;

	if (vs_vm_serve(m->vm, &o, &res, &err) < 0) {
		say(err->msg); /* before ready(): the CLI is still waiting */
		snprintf(reason, sizeof(reason), "VMM error: %s", err->msg);
		vs_err_free(err);
	} else {
		vs_svc_result_text(&res, reason, sizeof(reason), &status);
	}
	unlink(VS_SVC_SOCK_FILE);
	snprintf(m->row->state, sizeof(m->row->state), "stopped");
	free(m->row->exit_reason);
	m->row->exit_reason = xstrdup(reason);
	m->row->exit_status = status;
	m->row->pid = 0;
	m->row->stopped_at = vs_svc_now_ms();
	record(m);
	return status;
}

int vs_svc_vmm_main(const char *root, struct vs_store_vm *row)
{
	struct vmm m = { .root = root, .row = row, .console = { -1, -1 }, .listen_fd = -1 };
	struct vs_err *err = NULL;
	int status = 125;

	m.dir = xasprintf("%s/vms/%s", root, row->name);
	vs_vm_spec_init(&m.spec);
	if (build(&m, &err) < 0) {
		say(err->msg);
		fprintf(stderr, "vessel: VMM: %s\n", err->msg);
		vs_err_free(err);
	} else {
		status = serve(&m);
		vs_vm_release_after_exit(m.vm);
	}
	vs_svc_vm_net_unpublish(&m.net); /* its ports go; a named VM keeps its lease */
	vs_vm_free(m.vm);
	vs_kit_boot_clear(&m.boot);
	vs_vm_spec_clear(&m.spec);
	vs_store_vm_free(m.row);
	vs_svc_close(m.svc);
	free(m.dir);
	return status;
}
