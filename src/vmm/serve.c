/* The background VMM's main loop (serve.h): an epoll loop over the VM's
 * wake eventfd, a signalfd, the console pipe, the control socket and its
 * clients, and two timers (the hard stop after `stop`'s grace period, and
 * console input retried while the UART's FIFO is full).
 *
 * Map: console output (ring, log, clients) - console input - state and
 * stop - set-up and teardown. */
#include "vmm/serve-internal.h"
#include "vmm/internal.h"
#include "vmm/pause.h"
#include "hw/serial.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/loop.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define LOG_ROTATE_BYTES (4 * VS_MIB)
#define INPUT_RETRY_MS 10
#define SIGTERM_GRACE_MS 10000 /* as `vm stop` without -t */

static void log_write(struct vs_serve *sv, const uint8_t *buf, size_t n)
{
	_cleanup_free_ char *old = NULL;

	if (sv->log_fd < 0)
		return;
	if (sv->log_bytes + n > LOG_ROTATE_BYTES) {
		old = xasprintf("%s.1", sv->opts->log_path);
		rename(sv->opts->log_path, old);
		close(sv->log_fd);
		sv->log_fd =
			open(sv->opts->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		sv->log_bytes = 0;
		if (sv->log_fd < 0)
			return;
	}
	if (write(sv->log_fd, buf, n) > 0)
		sv->log_bytes += n;
}

static void ring_write(struct vs_serve *sv, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sv->ring[(sv->ring_total + i) % VS_SERVE_RING_SIZE] = buf[i];
	sv->ring_total += n;
}

/* Writes the ring's content, oldest first, to a console client. */
void vs_serve_replay(struct vs_serve *sv, int fd)
{
	uint64_t n = VS_MIN(sv->ring_total, (uint64_t)VS_SERVE_RING_SIZE);
	uint64_t start = sv->ring_total - n;

	while (n) {
		size_t at = start % VS_SERVE_RING_SIZE;
		size_t chunk = VS_MIN(n, (uint64_t)(VS_SERVE_RING_SIZE - at));

		if (write(fd, sv->ring + at, chunk) <= 0)
			return;
		start += chunk;
		n -= chunk;
	}
}

/* A console client that does not keep up loses output (the log has it all). */
static void fan_out(struct vs_serve *sv, const uint8_t *buf, size_t n)
{
	for (struct vs_serve_client *c = sv->clients; c; c = c->next)
		if (c->console && write(c->fd, buf, n) < 0 && errno != EAGAIN)
			c->console = false; /* gone: its read side will see the hang-up */
}

static bool drain_console(struct vs_serve *sv)
{
	uint8_t buf[4096];
	ssize_t n = read(sv->opts->console_fd, buf, sizeof(buf));

	if (n <= 0)
		return false;
	ring_write(sv, buf, n);
	log_write(sv, buf, n);
	fan_out(sv, buf, n);
	return true;
}

static void on_console(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	drain_console(ctx);
}

static void set_input_blocked(struct vs_serve *sv, bool blocked)
{
	if (sv->input_blocked == blocked)
		return;
	sv->input_blocked = blocked;
	for (struct vs_serve_client *c = sv->clients; c; c = c->next)
		if (c->console)
			vs_loop_mod(sv->loop, c->fd, blocked ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP);
}

/* Moves pending console input into the UART; retries later when its FIFO is full. */
void vs_serve_feed_input(struct vs_serve *sv)
{
	size_t n = vs_serial_input(sv->vm->serial, sv->input, sv->ninput);

	memmove(sv->input, sv->input + n, sv->ninput - n);
	sv->ninput -= n;
	set_input_blocked(sv, sv->ninput == sizeof(sv->input));
	vs_loop_arm_timer(sv->input_timer, sv->ninput ? INPUT_RETRY_MS : 0);
}

static void on_input_timer(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	uint64_t ticks;

	(void)loop;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0) {
		/* spurious wake-up: nothing to do */
	}
	vs_serve_feed_input(ctx);
}

void vs_serve_set_state(struct vs_serve *sv, const char *state)
{
	if (sv->opts->hooks && sv->opts->hooks->state_changed)
		sv->opts->hooks->state_changed(sv->opts->hook_ctx, state);
}

/* Stops the VM now. Parked vCPUs are released so that they can see the stop. */
void vs_serve_hard_stop(struct vs_serve *sv, const char *detail)
{
	vs_vm_request_stop(sv->vm, VS_STOP_USER, 0, detail);
	vs_vm_resume(sv->vm);
}

void vs_serve_soft_stop(struct vs_serve *sv, uint64_t timeout_ms)
{
	vs_button_press(&sv->button); /* vessel's init and the test guest */
	vs_vm_power_button(sv->vm); /* ACPI: any Linux with the button driver */
	if (vs_vm_is_paused(sv->vm)) {
		vs_vm_resume(sv->vm);
		vs_serve_set_state(sv, "running");
	}
	sv->soft_stopping = true;
	vs_loop_arm_timer(sv->stop_timer, timeout_ms);
}

static void on_stop_timer(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	vs_serve_hard_stop(ctx, "hard stop: the guest did not power off within the stop timeout");
}

static void on_wake(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_serve *sv = ctx;

	(void)fd;
	(void)events;
	if (atomic_load(&sv->vm->stopping))
		vs_loop_quit(loop);
}

static void on_signal(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_serve *sv = ctx;
	struct signalfd_siginfo si;
	char detail[64];

	(void)loop;
	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	/* SIGTERM (systemd at host shutdown, kill) asks the guest to power off
	 * as `vm stop` does; a second one, or SIGINT/SIGHUP, stops it now. */
	if (si.ssi_signo == SIGTERM && !sv->soft_stopping) {
		vs_serve_soft_stop(sv, SIGTERM_GRACE_MS);
		return;
	}
	snprintf(detail, sizeof(detail), "received %s", strsignal(si.ssi_signo));
	vs_vm_request_stop(sv->vm, VS_STOP_SIGNAL, si.ssi_signo, detail);
	vs_vm_resume(sv->vm);
}

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static int setup_signals(struct vs_serve *sv)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -EINVAL;
	sigaction(SIGUSR1, &sa, NULL);
	sigdelset(&set, SIGUSR1);
	sv->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return sv->sig_fd < 0 ? -errno : 0;
}

static int setup(struct vs_serve *sv, struct vs_err **err)
{
	const struct vs_vm_serve_opts *o = sv->opts;
	int r;

	if ((r = vs_loop_new(&sv->loop)) < 0 || (r = setup_signals(sv)) < 0)
		return vs_err_setsys(err, r, "setting up the VMM's event loop");
	if ((r = vs_button_attach(&sv->button, &sv->vm->pio)) < 0)
		return vs_err_setsys(err, r, "registering the power button");
	fcntl(o->console_fd, F_SETFL, O_NONBLOCK);
	sv->log_fd = o->log_path ?
			     open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) :
			     -1;
	sv->log_bytes = sv->log_fd >= 0 ? (uint64_t)lseek(sv->log_fd, 0, SEEK_END) : 0;
	sv->stop_timer = vs_loop_add_timer(sv->loop, 0, on_stop_timer, sv);
	sv->input_timer = vs_loop_add_timer(sv->loop, 0, on_input_timer, sv);
	if (sv->stop_timer < 0 || sv->input_timer < 0 ||
	    (r = vs_loop_add(sv->loop, sv->vm->wake_fd, EPOLLIN, on_wake, sv)) < 0 ||
	    (r = vs_loop_add(sv->loop, sv->sig_fd, EPOLLIN, on_signal, sv)) < 0 ||
	    (r = vs_loop_add(sv->loop, o->console_fd, EPOLLIN, on_console, sv)) < 0 ||
	    (r = vs_loop_add(sv->loop, o->control_fd, EPOLLIN, vs_serve_accept, sv)) < 0)
		return vs_err_setsys(err, r < 0 ? r : -EMFILE, "setting up the VMM's event loop");
	return 0;
}

static void teardown(struct vs_serve *sv)
{
	while (sv->clients)
		vs_serve_client_close(sv->clients);
	vs_loop_free(sv->loop);
	if (sv->stop_timer >= 0)
		close(sv->stop_timer);
	if (sv->input_timer >= 0)
		close(sv->input_timer);
	if (sv->sig_fd >= 0)
		close(sv->sig_fd);
	if (sv->log_fd >= 0)
		close(sv->log_fd);
}

int vs_vm_serve(struct vs_vm *vm, const struct vs_vm_serve_opts *opts, struct vs_vm_result *res,
		struct vs_err **err)
{
	struct vs_serve *sv = xzalloc(sizeof(*sv));
	int r;

	*sv = (struct vs_serve){ .vm = vm,
				 .opts = opts,
				 .sig_fd = -1,
				 .stop_timer = -1,
				 .input_timer = -1,
				 .log_fd = -1,
				 .started_ns = vs_now_ns() };
	if ((r = setup(sv, err)) == 0) {
		if ((r = vs_vm_start_vcpus(vm, err)) == 0) {
			if (opts->hooks && opts->hooks->ready)
				opts->hooks->ready(opts->hook_ctx);
			vs_loop_run(sv->loop);
		}
		vs_vm_resume(vm);
		vs_vm_stop_vcpus(vm);
		vs_vm_pause_free(vm);
		while (drain_console(sv))
			; /* the guest's last words reach the log and the clients */
		pthread_mutex_lock(&vm->stop_lock);
		*res = vm->result;
		pthread_mutex_unlock(&vm->stop_lock);
	}
	teardown(sv);
	free(sv);
	return r;
}
