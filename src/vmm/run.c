/* The main thread while a VM runs: it owns signals (through a signalfd),
 * the console input, and the stop; vCPU threads only run the guest. */
#include "vmm/accel.h"
#include "vmm/console.h"
#include "vmm/internal.h"
#include "vmm/sys.h"
#include "hw/serial.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define INPUT_RETRY_MS 10 /* serial FIFO full: try again after this long */

struct run_state {
	struct vs_vm *vm;
	struct vs_console con;
	int sig_fd;
	uint8_t pending[256]; /* console bytes the serial FIFO had no room for */
	size_t npending;
};

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static int setup_signals(struct run_state *st, sigset_t *old)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	/* Threads inherit this mask; vCPU threads unblock SIGUSR1 only. */
	if (pthread_sigmask(SIG_BLOCK, &set, old) != 0)
		return -EINVAL;
	sigaction(SIGUSR1, &sa, NULL);
	sigdelset(&set, SIGUSR1);
	st->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return st->sig_fd < 0 ? -errno : 0;
}

static void on_signal(struct run_state *st)
{
	struct signalfd_siginfo si;
	char detail[64];

	if (read(st->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(detail, sizeof(detail), "received %s", strsignal(si.ssi_signo));
	vs_vm_request_stop(st->vm, VS_STOP_SIGNAL, si.ssi_signo, detail);
}

static void flush_pending(struct run_state *st)
{
	size_t n = vs_serial_input(st->vm->serial, st->pending, st->npending);

	memmove(st->pending, st->pending + n, st->npending - n);
	st->npending -= n;
}

static void on_input(struct run_state *st)
{
	bool quit = false;
	ssize_t n =
		read(st->con.fd, st->pending + st->npending, sizeof(st->pending) - st->npending);

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			st->con.eof = true;
		return;
	}
	n = vs_console_filter(&st->con, st->pending + st->npending, n, &quit);
	st->npending += n;
	if (quit)
		vs_vm_request_stop(st->vm, VS_STOP_USER, 0, "console escape (Ctrl-A x)");
	flush_pending(st);
}

static void event_loop(struct run_state *st)
{
	struct vs_vm *vm = st->vm;

	while (!atomic_load(&vm->stopping)) {
		bool want_input = vm->cfg.console_input && !st->con.eof &&
				  st->npending < sizeof(st->pending);
		struct pollfd p[3] = {
			{ .fd = vm->wake_fd, .events = POLLIN },
			{ .fd = st->sig_fd, .events = POLLIN },
			{ .fd = want_input ? st->con.fd : -1, .events = POLLIN },
		};
		int r = poll(p, 3, st->npending ? INPUT_RETRY_MS : -1);

		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			on_signal(st);
		if (p[2].revents & (POLLIN | POLLHUP))
			on_input(st);
		if (st->npending)
			flush_pending(st);
	}
}

void vs_vm_stop_vcpus(struct vs_vm *vm)
{
	vs_vm_request_stop(vm, VS_STOP_ERROR, 0, "stopped"); /* no-op if already stopping */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->accel->vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
}

/* A vCPU thread that cannot be created is the VMM failing before the guest
 * ran as configured: the threads already started are stopped by the caller
 * and vs_vm_run() returns the error (its contract), not a guest result. */
int vs_vm_start_vcpus(struct vs_vm *vm, struct vs_err **err)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		int r = vs_sys->pthread_create(&vm->vcpus[i].thread, NULL, vs_vcpu_thread,
					       &vm->vcpus[i]);

		if (r != 0)
			return vs_err_setsys(err, -r, "cannot start the thread of vCPU %u", i);
		vm->vcpus[i].started = true;
	}
	return 0;
}

int vs_vm_run(struct vs_vm *vm, struct vs_vm_result *res, struct vs_err **err)
{
	struct run_state st = { .vm = vm, .sig_fd = -1 };
	sigset_t old;
	int r;

	if ((r = setup_signals(&st, &old)) < 0)
		return vs_err_setsys(err, r, "setting up signal handling");
	if (vm->cfg.console_input && (r = vs_console_open(&st.con, STDIN_FILENO)) < 0) {
		close(st.sig_fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return vs_err_setsys(err, r, "setting up the console");
	}
	if ((r = vs_vm_start_vcpus(vm, err)) == 0)
		event_loop(&st);
	vs_vm_stop_vcpus(vm);
	vs_console_restore(&st.con);
	close(st.sig_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	pthread_mutex_lock(&vm->stop_lock);
	*res = vm->result;
	pthread_mutex_unlock(&vm->stop_lock);
	return 0;
}
