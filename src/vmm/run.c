/* The main thread while a VM runs: it owns signals (through a signalfd),
 * the console input, and the stop; vCPU threads only run the guest. */
#include "vmm/accel.h"
#include "vmm/console.h"
#include "vmm/internal.h"
#include "vmm/sys.h"
#include "hw/serial.h"
#include "cmdline-abi.h"
#include "stdin-frame.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define INPUT_RETRY_MS 10 /* serial FIFO full: try again after this long */

struct run_state {
	struct vs_vm *vm;
	struct vs_console con;
	int sig_fd;
	int rx_fd; /* eventfd: the serial port can take more input (or -1) */
	uint8_t pending[256]; /* console bytes the serial FIFO had no room for */
	size_t npending;
	bool eof_queued; /* framed input: the end marker is in pending */
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

/* Bytes of stdin to read at most now: framed input may double each. */
static size_t input_room(const struct run_state *st)
{
	size_t room = sizeof(st->pending) - st->npending;

	return st->vm->cfg.console_framed ? room / 2 : room;
}

/*
 * Framed input (vm.h console_framed, guest/init/cmdline-abi.h): stdin's end
 * is queued once it is seen and there is room; nothing reaches the UART
 * before the guest's reader raised OUT1 -- a byte the guest's console took
 * in cooked mode would be edited or echoed -- nor while the guest holds RTS
 * down, its tty being full (the reader sets CRTSCTS): the overrun would
 * lose data, or the end, when the command reads slower than stdin comes.
 */
static void flush_pending(struct run_state *st)
{
	bool framed = st->vm->cfg.console_framed;
	size_t n;

	if (framed && st->con.eof && !st->eof_queued && input_room(st) >= 1) {
		st->pending[st->npending++] = VS_GUEST_STDIN_ESC;
		st->pending[st->npending++] = VS_GUEST_STDIN_EOF;
		st->eof_queued = true;
	}
	if (framed && !(vs_serial_out1(st->vm->serial) && vs_serial_rts(st->vm->serial)))
		return;
	n = vs_serial_input(st->vm->serial, st->pending, st->npending);
	memmove(st->pending, st->pending + n, st->npending - n);
	st->npending -= n;
}

/* Reads stdin into pending: framed, or through the Ctrl-A filter. */
static void on_input(struct run_state *st)
{
	uint8_t in[sizeof(st->pending)];
	bool quit = false, framed = st->vm->cfg.console_framed;
	uint8_t *dst = framed ? in : st->pending + st->npending;
	ssize_t n = read(st->con.fd, dst, input_room(st));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			st->con.eof = true;
		flush_pending(st);
		return;
	}
	if (framed) {
		st->npending += vs_guest_stdin_encode(in, (size_t)n, st->pending + st->npending);
	} else {
		st->npending += vs_console_filter(&st->con, dst, (size_t)n, &quit);
		if (quit)
			vs_vm_request_stop(st->vm, VS_STOP_USER, 0, "console escape (Ctrl-A x)");
	}
	flush_pending(st);
}

static void event_loop(struct run_state *st)
{
	struct vs_vm *vm = st->vm;

	while (!atomic_load(&vm->stopping)) {
		bool want_input = vm->cfg.console_input && !st->con.eof && input_room(st) > 0;
		struct pollfd p[4] = {
			{ .fd = vm->wake_fd, .events = POLLIN },
			{ .fd = st->sig_fd, .events = POLLIN },
			{ .fd = want_input ? st->con.fd : -1, .events = POLLIN },
			{ .fd = st->npending ? st->rx_fd : -1, .events = POLLIN },
		};
		int r = poll(p, 4, st->npending ? INPUT_RETRY_MS : -1);
		uint64_t count;

		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			on_signal(st);
		if ((p[3].revents & POLLIN) && read(st->rx_fd, &count, sizeof(count)) < 0) {
			/* EAGAIN: drained already; flush_pending() runs anyway */
		}
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
	struct run_state st = { .vm = vm, .sig_fd = -1, .rx_fd = -1 };
	sigset_t old;
	int r;

	if ((r = setup_signals(&st, &old)) < 0)
		return vs_err_setsys(err, r, "setting up signal handling");
	if (vm->cfg.console_input && (r = vs_console_open(&st.con, STDIN_FILENO)) < 0) {
		close(st.sig_fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return vs_err_setsys(err, r, "setting up the console");
	}
	/* Without it (no eventfd), pending input is retried every INPUT_RETRY_MS:
	 * 16 bytes per retry, about 1.6 KB/s. */
	if (vm->cfg.console_input && vm->serial &&
	    (st.rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0)
		vs_serial_set_notify(vm->serial, st.rx_fd);
	if ((r = vs_vm_start_vcpus(vm, err)) == 0)
		event_loop(&st);
	vs_vm_stop_vcpus(vm);
	if (st.rx_fd >= 0) {
		vs_serial_set_notify(vm->serial, -1);
		close(st.rx_fd);
	}
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
