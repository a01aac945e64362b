/* vs_evloop: an epoll event loop for device I/O threads and the VMM's main
 * thread (review §5.1 item 4): fd handlers, timers (timerfd), a cross-thread
 * wake (eventfd) with calls queued to the loop's thread, and run/stop.
 *
 * Unlike the control socket's single-threaded vs_loop (common/loop.h on the
 * control-plane branch), sources may be added and removed from any thread:
 * a vCPU thread registers a queue's ioeventfd when the guest enables it.
 *
 * Threading contract:
 * - vs_evloop_run() runs on one thread, "the loop thread"; handlers and
 *   queued calls run there, one at a time.
 * - add/del/timer/call/wake/stop may be called from any thread.
 * - After vs_evloop_del(fd) returns, fd's handler is not started again; on
 *   another thread it may still be finishing a call that began before. To
 *   be sure it is done, delete from the loop thread (in a handler or a
 *   vs_evloop_call), which is also the place to free the handler's ctx. */
#ifndef VS_COMMON_EVLOOP_H
#define VS_COMMON_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct vs_evloop;

/* An fd became ready: events are epoll's (EPOLLIN, EPOLLOUT, EPOLLHUP...). */
typedef void (*vs_evloop_fd_fn)(struct vs_evloop *loop, int fd, uint32_t events, void *ctx);
/* A timer expired expirations times since its last call. */
typedef void (*vs_evloop_timer_fn)(struct vs_evloop *loop, int tfd, uint64_t expirations,
				   void *ctx);
/* A call queued with vs_evloop_call(). */
typedef void (*vs_evloop_call_fn)(struct vs_evloop *loop, void *ctx);

/* Returns 0 or -errno; *out owns an epoll fd and an eventfd. */
int vs_evloop_new(struct vs_evloop **out);
/* Frees the loop (not running). Closes the timers it made, not the fds
 * added with vs_evloop_add(); queued calls that never ran are dropped. */
void vs_evloop_free(struct vs_evloop *loop);

/* Watches fd for events (level-triggered). Returns 0, -EEXIST when fd is
 * already watched, or -errno. The caller keeps owning fd; del it before
 * closing it. */
int vs_evloop_add(struct vs_evloop *loop, int fd, uint32_t events, vs_evloop_fd_fn fn, void *ctx);
/* Stops watching fd (or a timer, which it also closes). Returns 0 or -ENOENT. */
int vs_evloop_del(struct vs_evloop *loop, int fd);

/* A timer firing first after first_ms, then every period_ms (0: once).
 * Returns its fd (owned by the loop: vs_evloop_del closes it) or -errno. */
int vs_evloop_timer_add(struct vs_evloop *loop, uint64_t first_ms, uint64_t period_ms,
			vs_evloop_timer_fn fn, void *ctx);
/* Re-arms a timer (first_ms 0 disarms it). Returns 0 or -errno. */
int vs_evloop_timer_arm(struct vs_evloop *loop, int tfd, uint64_t first_ms, uint64_t period_ms);

/* Runs fn(loop, ctx) on the loop thread soon, in call order. Returns 0. */
int vs_evloop_call(struct vs_evloop *loop, vs_evloop_call_fn fn, void *ctx);
/* Makes a blocked vs_evloop_run() look at its state (calls, stop). */
void vs_evloop_wake(struct vs_evloop *loop);

/* Dispatches until vs_evloop_stop(). Returns 0 after a stop, or -errno
 * when epoll fails. A stop before run makes it return at once; run clears
 * the stop when it returns, so the loop can run again. */
int vs_evloop_run(struct vs_evloop *loop);
void vs_evloop_stop(struct vs_evloop *loop);

/* True on the thread inside vs_evloop_run(). */
bool vs_evloop_on_thread(const struct vs_evloop *loop);

#endif
