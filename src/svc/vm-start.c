/* Starting a named VM (vm.h): the sizing rules, the lock, the new run in
 * the store, and the detached VMM process (a fork of the CLI running
 * vmm-main.c) under its reaper (vmm-reaper.h). The CLI takes the VM's lock
 * and hands it to the VMM and the reaper, so the VM counts as running from
 * the first moment until both are gone; the VMM reports on a status pipe
 * when its control socket listens and its vCPUs run, or why it failed.
 *
 * Map: rules - spawn - start - autostart. */
#include "svc/internal.h"
#include "svc/vmm-reaper.h"
#include "store/store.h"
#include "store/vms.h"
#include "vmm/kit.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST_RESERVE (2 * VS_GIB) /* host RAM kept free of VMs */
#define STOPPING_WAIT_MS 3000 /* a VMM still exiting holds the lock this long at most */
#define STATUS_LINE_MAX 512

/* Inside the start transaction: the memory of the VMs running now. */
static int running_mem(struct vs_svc *svc, const char *except, uint64_t *sum, struct vs_err **err)
{
	struct vs_store_vm **rows = NULL;
	size_t n = 0;
	int r = vs_store_vm_list(svc->store, &rows, &n, err);

	if (r < 0)
		return r;
	*sum = 0;
	for (size_t i = 0; i < n && svc->store; i++) {
		enum vs_vm_state st = vs_svc_check_live(svc, rows[i]);

		if (strcmp(rows[i]->name, except) != 0 &&
		    (st == VS_VM_RUNNING || st == VS_VM_PAUSED || st == VS_VM_STARTING))
			*sum += rows[i]->mem;
	}
	vs_store_vm_list_free(rows, n);
	return 0;
}

static int check_memory(struct vs_svc *svc, const struct vs_vm_spec *spec, bool overcommit,
			struct vs_err **err)
{
	uint64_t total = vs_host_mem_total(), others = 0, left;
	int r;

	if (overcommit || spec->overcommit)
		return 0;
	if ((r = running_mem(svc, spec->name, &others, err)) < 0)
		return r;
	left = total > others + spec->mem ? total - others - spec->mem : 0;
	if (left < HOST_RESERVE)
		return vs_err_set(
			err, -ENOMEM,
			"starting '%s' (%llu MiB) next to %llu MiB of running VMs would leave "
			"%llu MiB of this host's %llu MiB (fewer than %llu): stop a VM, "
			"lower --mem, or start with --overcommit",
			spec->name, (unsigned long long)(spec->mem >> 20),
			(unsigned long long)(others >> 20), (unsigned long long)(left >> 20),
			(unsigned long long)(total >> 20),
			(unsigned long long)(HOST_RESERVE >> 20));
	return 0;
}

/* In the VMM: fds 3 and 4, stdio, nothing else of the CLI's, then the VMM.
 * No exec: it would cost another dynamic link and start-up of the binary
 * (~5 ms here); the CLI closed its store connection before the fork, and
 * the row (with the new run) is the VMM's own copy now. */
__attribute__((noreturn)) static void run_vmm(struct vs_svc *svc, struct vs_store_vm *row,
					      int lock_fd, int status_fd)
{
	_cleanup_free_ char *log = vs_svc_vm_file(svc, row->name, VS_SVC_VMM_LOG_FILE);
	int lk = fcntl(lock_fd, F_DUPFD_CLOEXEC, 10), st = fcntl(status_fd, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), logfd;

	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lk < 0 || st < 0 || null < 0 || dup2(lk, VS_SVC_VMM_LOCK_FD) < 0 ||
	    dup2(st, VS_SVC_VMM_STATUS_FD) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(logfd >= 0 ? logfd : null, 2) < 0)
		_exit(127);
	close_range(VS_SVC_VMM_STATUS_FD + 1, ~0U, 0);
	prctl(PR_SET_NAME, "vessel-vmm");
	_exit(vs_svc_vmm_main(svc->root, row));
}

/* In the VMM's parent, once it has forked the VMM: its copy of the lock on
 * fd 3 and nothing else of the CLI's (not the status pipe: the CLI must see
 * the VMM's end there), in the VM's directory, it becomes the small reaper;
 * without that binary it waits in place. If it cannot even get here, the
 * VMM runs on without it, and only the reason of a VMM that dies without a
 * word is lost. */
__attribute__((noreturn)) static void run_reaper(struct vs_svc *svc, const struct vs_store_vm *row,
						 int lock_fd, pid_t vmm)
{
	_cleanup_free_ char *dir = vs_svc_vm_dir(svc, row->name);
	char self[PATH_MAX], exe[PATH_MAX + 32], pid[24], id[24];
	char *args[] = { exe, pid, id, NULL };
	int lk = fcntl(lock_fd, F_DUPFD_CLOEXEC, 10), null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (lk < 0 || null < 0 || chdir(dir) < 0 || dup2(lk, VS_SVC_REAPER_LOCK_FD) < 0 ||
	    dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	close_range(VS_SVC_REAPER_LOCK_FD + 1, ~0U, 0);
	snprintf(pid, sizeof(pid), "%d", (int)vmm);
	snprintf(id, sizeof(id), "%lld", (long long)row->run_id);
	if (vs_exe_sibling(VS_SVC_REAPER_EXE, self, sizeof(self), exe, sizeof(exe)) == 0)
		execv(exe, args);
	prctl(PR_SET_NAME, "vessel-reaper");
	_exit(vs_svc_vmm_reap(vmm, row->run_id) < 0 ? 1 : 0);
}

/* In the reaper-to-be: returns once the VMM has said its verdict on the
 * status pipe (without reading it: it is the CLI's) or has closed it, so
 * that becoming the small reaper (an exec and the teardown of this copy of
 * the CLI) does not take a CPU from the VMM while it builds the VM. */
static void await_verdict(int status_fd)
{
	struct pollfd pf = { .fd = status_fd, .events = POLLIN };

	while (poll(&pf, 1, -1) < 0 && errno == EINTR)
		;
}

/* Forks the reaper, which forks the VMM (both in a session of their own).
 * Returns the read end of the VMM's status pipe, or -errno; *reaper is our
 * child, which lives as long as the VM: the caller does not wait for it. */
static int spawn_vmm(struct vs_svc *svc, struct vs_store_vm *row, int lock_fd, pid_t *reaper)
{
	int p[2];
	pid_t pid, vmm;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		setsid();
		vmm = fork();
		if (vmm == 0)
			run_vmm(svc, row, lock_fd, p[1]);
		if (vmm < 0)
			_exit(127); /* the CLI reads the end of the status pipe */
		close(p[1]);
		await_verdict(p[0]);
		run_reaper(svc, row, lock_fd, vmm);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -EAGAIN;
	}
	*reaper = pid;
	return p[0];
}

/* Reads the VMM's verdict: "ok" or one line of error. Returns 0 or -errno with *err. */
static int read_status(int fd, const char *name, struct vs_err **err)
{
	char buf[STATUS_LINE_MAX];
	size_t have = 0;
	ssize_t n;

	/* Up to the newline: the VMM may be descheduled before it closes the pipe. */
	while (have < sizeof(buf) - 1 && !memchr(buf, '\n', have) &&
	       (n = read(fd, buf + have, sizeof(buf) - 1 - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		have += n;
	}
	buf[have] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (strcmp(buf, "ok") == 0)
		return 0;
	if (!buf[0])
		return vs_err_set(err, -EIO, "VM '%s': the VMM exited during start-up (see %s)",
				  name, VS_SVC_VMM_LOG_FILE);
	return vs_err_set(err, -EIO, "%s", buf);
}

static void record_failed_start(struct vs_svc *svc, struct vs_store_vm *row, const struct vs_err *e)
{
	snprintf(row->state, sizeof(row->state), "stopped");
	free(row->exit_reason);
	row->exit_reason = xasprintf("start failed: %s", e ? e->msg : "unknown");
	row->exit_status = 125;
	row->pid = 0;
	row->stopped_at = vs_svc_now_ms();
	vs_store_vm_update_run(svc->store, row, NULL);
}

static int take_lock(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	_cleanup_free_ char *dir = vs_svc_vm_dir(svc, name);
	_cleanup_free_ char *lock = vs_svc_vm_file(svc, name, VS_SVC_LOCK_FILE);
	_cleanup_free_ char *ended = vs_svc_vm_file(svc, name, VS_SVC_EXIT_FILE);
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vs_err_setsys(err, -errno, "cannot create %s", dir);
	fd = vs_svc_lock_take(lock);
	if (fd == -EBUSY && vs_svc_lock_wait_free(lock, STOPPING_WAIT_MS) == 0)
		fd = vs_svc_lock_take(lock); /* a VMM that was just exiting */
	if (fd == -EBUSY)
		return vs_err_set(err, -EBUSY, "VM '%s' is already running", name);
	if (fd < 0)
		return vs_err_setsys(err, fd, "cannot lock %s", lock);
	/* the last run's end, if its reaper wrote one, is in the store by now
	 * (vs_svc_get_row): a new run starts without it */
	unlink(ended);
	return fd;
}

/* The new run in the store, under the sizing rules, in one transaction. */
static int begin_run(struct vs_svc *svc, struct vs_store_vm *row, const struct vs_vm_spec *spec,
		     const struct vs_vm_start_opts *opts, struct vs_err **err)
{
	int r;

	if ((r = vs_store_begin(svc->store, err)) < 0)
		return r;
	row->pid = getpid();
	row->pid_start = vs_svc_pid_start(getpid());
	row->started_at = vs_svc_now_ms();
	if ((r = check_memory(svc, spec, opts && opts->overcommit, err)) < 0 ||
	    (r = vs_store_vm_begin_run(svc->store, row, err)) < 0) {
		vs_store_rollback(svc->store);
		return r == -ENOENT ? vs_err_set(err, r, "VM '%s' was removed", row->name) : r;
	}
	return vs_store_commit(svc->store, err);
}

static int start_row(struct vs_svc *svc, struct vs_store_vm *row,
		     const struct vs_vm_start_opts *opts, struct vs_err **err)
{
	_cleanup_json_ json_t *j = json_loads(row->spec, 0, NULL);
	struct vs_vm_spec spec;
	struct vs_kit_boot boot;
	_cleanup_close_ int lock = -1, status = -1;
	pid_t reaper = -1;
	int r;

	vs_vm_spec_init(&spec);
	if ((r = vs_vm_spec_from_json(j, &spec, err)) < 0)
		goto out;
	if ((r = vs_kit_resolve(&spec, 0, &boot, err)) < 0)
		goto out;
	vs_kit_boot_clear(&boot);
	if ((r = lock = take_lock(svc, row->name, err)) < 0 ||
	    (r = begin_run(svc, row, &spec, opts, err)) < 0)
		goto out;
	vs_svc_step("start:run");
	/* SQLite connections must not cross fork (its per-process lock state
	 * would be shared with the child's own connection): close, reopen. */
	vs_store_close(svc->store);
	svc->store = NULL;
	r = status = spawn_vmm(svc, row, lock, &reaper);
	if (r < 0) {
		vs_err_setsys(err, r, "cannot start the VMM process");
	} else {
		close(steal_fd(lock)); /* the VMM and its reaper hold it now */
		vs_svc_child_add(svc, reaper);
		r = read_status(status, row->name, err);
	}
	/* after the VMM's verdict: reopening does not delay the guest */
	if (vs_store_open(svc->root, &svc->store, r < 0 ? NULL : err) < 0) {
		r = r < 0 ? r : -EIO;
		goto out;
	}
	if (r < 0)
		record_failed_start(svc, row, err ? *err : NULL);
out:
	vs_vm_spec_clear(&spec);
	return r;
}

int vs_svc_vm_start(struct vs_svc *svc, const char *name, const struct vs_vm_start_opts *opts,
		    struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	enum vs_vm_state st;
	int r = vs_svc_get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	st = vs_svc_state_parse(row->state);
	if (st == VS_VM_RUNNING || st == VS_VM_PAUSED || st == VS_VM_STARTING)
		r = vs_err_set(err, -EBUSY, "VM '%s' is already %s", name, vs_vm_state_name(st));
	else
		r = start_row(svc, row, opts, err);
	vs_store_vm_free(row);
	return r;
}

int vs_svc_vm_autostart(struct vs_svc *svc,
			void (*report)(const char *name, const struct vs_err *e))
{
	struct vs_store_vm **rows = NULL;
	size_t n = 0;
	int failed = 0;
	struct vs_err *e = NULL;

	if (vs_store_vm_list(svc->store, &rows, &n, &e) < 0) {
		report(NULL, e);
		vs_err_free(e);
		return 1;
	}
	for (size_t i = 0; i < n && svc->store; i++) {
		enum vs_vm_state st = vs_svc_check_live(svc, rows[i]);

		if (!rows[i]->autostart || st == VS_VM_RUNNING || st == VS_VM_PAUSED ||
		    st == VS_VM_STARTING)
			continue;
		if (start_row(svc, rows[i], NULL, &e) < 0) {
			report(rows[i]->name, e);
			vs_err_free(e);
			e = NULL;
			failed++;
		} else {
			report(rows[i]->name, NULL);
		}
	}
	vs_store_vm_list_free(rows, n);
	return failed;
}
