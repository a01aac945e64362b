/* Shared between the worker pool (aio.c) and the io_uring path
 * (aio-uring.c) of the asynchronous block engine (aio.h). */
#ifndef VS_BLOCK_AIO_INTERNAL_H
#define VS_BLOCK_AIO_INTERNAL_H

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iovec;
struct vs_blk;
struct vs_blk_aio;
struct vs_blk_req;
struct vs_evloop;
struct vs_uring;

/* aio.c, for the ring: a request the ring took (vs_uring_submit returned
 * true) ends through exactly one of these, without engine locks held.
 * complete: calls its callback with ret and retires it; to_pool: the ring
 * gives it back (a refusal, e.g. O_DIRECT's EINVAL) and the pool runs it. */
void vs_blk_aio_ring_complete(struct vs_blk_aio *a, struct vs_blk_req *req, int ret);
void vs_blk_aio_ring_to_pool(struct vs_blk_aio *a, struct vs_blk_req *req);
/* The engine's ring, or NULL (threads). */
struct vs_uring *vs_blk_aio_ring(struct vs_blk_aio *a);

#if HAVE_LIBURING
/* Sets up a ring of depth operations for b's data, with its completions on
 * loop (NULL: a loop on a thread of the ring's own). Returns 0 or -errno
 * (io_uring_queue_init's when the kernel or a seccomp filter refuses). */
int vs_uring_new(struct vs_blk_aio *a, struct vs_blk *b, unsigned depth, struct vs_evloop *loop,
		 struct vs_uring **out);
/* Nothing in flight any more (the engine drained it). NULL is a no-op. */
void vs_uring_free(struct vs_uring *u);
/* Maps req (READ or WRITE) through vs_blk_map_io and queues its pieces on
 * the ring: VS_URING_QUEUED. VS_URING_REFUSED when it cannot (a piece the
 * driver must do itself, too many pieces, the ring full): the caller runs
 * it on the pool. With sync_writes, a WRITE whose every piece goes to the
 * O_DIRECT twin is mapped but not queued (VS_URING_SYNC): the caller has
 * a pool worker issue it with vs_uring_write_sync (see aio-uring.c's head:
 * the host file system completes an asynchronous O_DIRECT write through a
 * per-CPU kernel worker, a synchronous one wakes its waiter directly). */
enum vs_uring_took { VS_URING_REFUSED, VS_URING_QUEUED, VS_URING_SYNC };
enum vs_uring_took vs_uring_submit(struct vs_uring *u, struct vs_blk_req *req, bool sync_writes);
/* Issues a write that vs_uring_submit handed back as VS_URING_SYNC, piece
 * by piece with pwritev on the calling thread, and frees the mapping.
 * Returns 0, -errno, or 1 when O_DIRECT refused it (EINVAL: a device with
 * larger blocks) and the driver must run it (vs_blk_pwritev). */
int vs_uring_write_sync(struct vs_blk_req *req);
/* Frees the mapping of a VS_URING_SYNC write that will not be issued from
 * it after all (req->sync back to NULL). */
void vs_uring_sync_drop(struct vs_blk_req *req);
/* Whether the ring was set up to queue O_DIRECT writes as well
 * (VESSEL_AIO_URING_WRITES=1, for comparisons) rather than hand them back. */
bool vs_uring_queues_direct_writes(const struct vs_uring *u);
/* on: operations are queued without entering the kernel until the last
 * plug is undone (one io_uring_enter for a batch); off: undoes one. */
void vs_uring_plug(struct vs_uring *u, bool on);
/* Asks the kernel to cancel every operation in flight (they complete with
 * -ECANCELED, or normally if already at the device). */
void vs_uring_cancel(struct vs_uring *u);
/* True on the completion loop's thread: a drain there must reap itself. */
bool vs_uring_on_loop_thread(struct vs_uring *u);
/* Waits for at least one completion and handles what arrived. */
void vs_uring_reap_wait(struct vs_uring *u);
unsigned vs_uring_inflight(struct vs_uring *u);
/* Operations so far issued inline rather than by io_uring's workers. */
uint64_t vs_uring_inline_ops(struct vs_uring *u);
/* Tests (a seam, not a build option: one branch per completion): fn sees
 * each completion's result before it is handled, with the buffers the
 * operation had to fill or send (iov[0..niov)), and returns the result to
 * handle, so a test can make transfers short (and spoil a read's bytes past
 * what it reports) or answer -EAGAIN/-EINTR/-EIO. NULL: none. Set it while
 * nothing is in flight. */
void vs_uring_test_hook(struct vs_uring *u,
			int (*fn)(int res, const struct iovec *iov, unsigned niov, bool write,
				  void *arg),
			void *arg);
#else
static inline int vs_uring_new(struct vs_blk_aio *a, struct vs_blk *b, unsigned depth,
			       struct vs_evloop *loop, struct vs_uring **out)
{
	(void)a, (void)b, (void)depth, (void)loop, (void)out;
	return -ENOSYS;
}
static inline void vs_uring_free(struct vs_uring *u)
{
	(void)u;
}
enum vs_uring_took { VS_URING_REFUSED, VS_URING_QUEUED, VS_URING_SYNC };
static inline enum vs_uring_took vs_uring_submit(struct vs_uring *u, struct vs_blk_req *req,
						 bool sync_writes)
{
	(void)u, (void)req, (void)sync_writes;
	return VS_URING_REFUSED;
}
static inline int vs_uring_write_sync(struct vs_blk_req *req)
{
	(void)req;
	return 1;
}
static inline void vs_uring_sync_drop(struct vs_blk_req *req)
{
	(void)req;
}
static inline bool vs_uring_queues_direct_writes(const struct vs_uring *u)
{
	(void)u;
	return false;
}
static inline void vs_uring_cancel(struct vs_uring *u)
{
	(void)u;
}
static inline void vs_uring_plug(struct vs_uring *u, bool on)
{
	(void)u, (void)on;
}
static inline bool vs_uring_on_loop_thread(struct vs_uring *u)
{
	(void)u;
	return false;
}
static inline void vs_uring_reap_wait(struct vs_uring *u)
{
	(void)u;
}
static inline unsigned vs_uring_inflight(struct vs_uring *u)
{
	(void)u;
	return 0;
}
static inline uint64_t vs_uring_inline_ops(struct vs_uring *u)
{
	(void)u;
	return 0;
}
static inline void vs_uring_test_hook(struct vs_uring *u,
				      int (*fn)(int res, const struct iovec *iov, unsigned niov,
						bool write, void *arg),
				      void *arg)
{
	(void)u, (void)fn, (void)arg;
}
#endif

#endif
