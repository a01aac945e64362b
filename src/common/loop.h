/* A small epoll event loop: file descriptors with a callback each, run on
 * one thread until vs_loop_quit(). Timers and signals come in as timerfds
 * and signalfds; other threads wake the loop through an eventfd they write.
 * Not thread-safe: add, modify and remove sources from the loop's thread. */
#ifndef VS_COMMON_LOOP_H
#define VS_COMMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct vs_loop;

/* Called with the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLHUP...). */
typedef void (*vs_loop_fn)(struct vs_loop *loop, int fd, uint32_t events, void *ctx);

/* Returns 0 or -errno; *out owns an epoll fd. */
int vs_loop_new(struct vs_loop **out);

/* Frees the loop; the registered fds are not closed (their owners close them). */
void vs_loop_free(struct vs_loop *loop);

/* Watches fd for events (EPOLLIN...). fd may be watched once. Returns 0 or
 * -errno (-EEXIST when already watched). */
int vs_loop_add(struct vs_loop *loop, int fd, uint32_t events, vs_loop_fn fn, void *ctx);

/* Changes the events fd is watched for. Returns 0 or -errno. */
int vs_loop_mod(struct vs_loop *loop, int fd, uint32_t events);

/* Stops watching fd (call it before closing fd). Safe from inside a callback,
 * also for an fd whose event is still pending in the current batch. */
void vs_loop_del(struct vs_loop *loop, int fd);

/* Dispatches events until vs_loop_quit() or an epoll error. Returns 0 or -errno. */
int vs_loop_run(struct vs_loop *loop);

/* Makes vs_loop_run() return after the current batch. */
void vs_loop_quit(struct vs_loop *loop);

/* A timerfd that fires once after ms milliseconds (0: disarmed), watched
 * with fn. Returns the fd (owned by the caller, who vs_loop_del()s and closes
 * it) or -errno. */
int vs_loop_add_timer(struct vs_loop *loop, uint64_t ms, vs_loop_fn fn, void *ctx);

/* Re-arms a timer from vs_loop_add_timer (0 disarms). Returns 0 or -errno. */
int vs_loop_arm_timer(int tfd, uint64_t ms);

#endif
