/* Asynchronous block requests: an engine that runs reads, writes, flushes,
 * discards and write-zeroes on an open image (block.h) off the caller's
 * thread and reports each through a completion callback, in whatever order
 * they finish (review §5.1 item 6; kvmtool's disk_req_cb, QEMU's
 * aio=threads and aio=io_uring).
 *
 * Two engines, chosen per image (VS_BLK_AIO_THREADS / _IO_URING / _AUTO):
 * - threads: a bounded pool of worker threads, started on demand up to the
 *   limit given at creation (below);
 * - io_uring (aio-uring.c): reads and writes whose bytes the driver can
 *   place in a host file (block.h vs_blk_map_io: raw, allocated qcow2
 *   clusters) go to an io_uring of bounded depth (O_DIRECT writes, while a
 *   pool worker is free, are issued by that worker with pwritev at the
 *   place the ring mapped: aio-uring.c says why), completed through an
 *   eventfd on an event loop (the caller's, e.g. a virtio device's I/O
 *   thread, or one the engine runs itself); everything else (flush,
 *   discard, write-zeroes, unallocated or compressed clusters, a full
 *   ring, write-through) runs on the same worker pool, so both engines
 *   keep the contract below. AUTO is io_uring when io_uring_queue_init
 *   works (kernel, io_uring_disabled, seccomp) and threads otherwise.
 *
 * The pool: Each worker runs one request
 * through the image's driver (block.h: drivers are thread-safe), so reads
 * and overwrites of a raw file or of allocated qcow2 clusters go in
 * parallel while the qcow2 driver serializes its metadata updates under
 * its own layout lock, in the crash-safe order of qcow2/io.c.
 *
 * Ordering contract:
 * - requests start in submission order and may complete in any order;
 * - a FLUSH starts only after every write (WRITE, DISCARD, WRITE_ZEROES)
 *   submitted before it has completed (its callback returned), then makes
 *   them durable; writes submitted after it do not wait for it;
 * - with VS_BLK_AIO_WRITETHROUGH each write is followed by a flush before
 *   it completes (cache=directsync, or a guest that turned its write cache
 *   off); with VS_BLK_AIO_NO_FLUSH flushes complete at once (cache=unsafe).
 *
 * Buffers (iov) may point straight into guest memory; they must stay valid
 * until the callback. The callback runs on a worker thread (io_uring: or
 * on the completion loop's thread) without engine locks held; it may free
 * the request and submit more. Discards and write-zeroes also wait for the
 * io_uring operations in flight, and requests submitted while one is
 * pending take the pool (a mapping must not outlive the clusters it
 * names: block.h vs_blk_map_io). */
#ifndef VS_BLOCK_AIO_H
#define VS_BLOCK_AIO_H

#include <stdbool.h>
#include <stdint.h>

struct iovec;
struct vs_blk;
struct vs_blk_aio;
struct vs_evloop;

enum vs_blk_op {
	VS_BLK_OP_READ,
	VS_BLK_OP_WRITE,
	VS_BLK_OP_FLUSH,
	VS_BLK_OP_DISCARD,
	VS_BLK_OP_WRITE_ZEROES,
};

/* One extent of a DISCARD or WRITE_ZEROES request, in bytes. */
struct vs_blk_range {
	uint64_t off, len;
};

struct vs_blk_req;
/* ret is 0 or -errno (-EINVAL: a range past the end, -EROFS: a write to a
 * read-only image, else the driver's error). */
typedef void (*vs_blk_done_fn)(struct vs_blk_req *req, int ret);

struct vs_blk_req {
	enum vs_blk_op op;
	const struct iovec *iov; /* READ, WRITE: the buffers, in order from off */
	unsigned niov;
	uint64_t off;
	const struct vs_blk_range *ranges; /* DISCARD, WRITE_ZEROES: done in order */
	unsigned nranges;
	vs_blk_done_fn done;
	void *opaque; /* the caller's */
	/* The engine's, until the callback. */
	struct vs_blk_req *next;
	uint64_t seq;
	void *track;
	void *sync; /* a write the ring mapped for a worker to issue */
};

/* vs_blk_aio_new() flags */
#define VS_BLK_AIO_WRITETHROUGH 0x1u
#define VS_BLK_AIO_NO_FLUSH 0x2u

#define VS_BLK_AIO_MAX_WORKERS 64

enum vs_blk_aio_kind { VS_BLK_AIO_AUTO, VS_BLK_AIO_THREADS, VS_BLK_AIO_IO_URING };

#define VS_BLK_AIO_DEPTH 128 /* io_uring operations in flight per image */

struct vs_blk_aio_opts {
	enum vs_blk_aio_kind kind;
	unsigned max_workers; /* 1..VS_BLK_AIO_MAX_WORKERS */
	unsigned flags; /* VS_BLK_AIO_* */
	unsigned depth; /* io_uring: operations in flight (0: VS_BLK_AIO_DEPTH) */
	/* io_uring: the loop whose thread runs completions (it must run
	 * whenever requests are in flight, and until vs_blk_aio_free
	 * returns); NULL: the engine runs a loop on a thread of its own. */
	struct vs_evloop *loop;
};

/* Creates an engine of opts->kind for b (which must outlive it). AUTO
 * falls back to threads when io_uring cannot be set up, and *why (if not
 * NULL) then holds the reason (a static string; NULL when not fallen
 * back). Returns 0, -EINVAL for bad opts, or -errno (IO_URING asked for
 * and unavailable: io_uring_queue_init's error). */
int vs_blk_aio_open(struct vs_blk *b, const struct vs_blk_aio_opts *opts, struct vs_blk_aio **out,
		    const char **why);
/* vs_blk_aio_open with the threads engine. */
int vs_blk_aio_new(struct vs_blk *b, unsigned max_workers, unsigned flags, struct vs_blk_aio **out);
/* Waits for every submitted request to complete, stops the workers and
 * the ring and frees the engine. NULL is a no-op. */
void vs_blk_aio_free(struct vs_blk_aio *a);
/* The engine a runs (THREADS or IO_URING, never AUTO). */
enum vs_blk_aio_kind vs_blk_aio_kind(const struct vs_blk_aio *a);
/* "threads", "io_uring" or "auto" (vmm/spec.c parses the disk option). */
const char *vs_blk_aio_kind_name(enum vs_blk_aio_kind k);
/* Requests now in flight on the io_uring (for tests; 0 with threads). */
unsigned vs_blk_aio_ring_inflight(struct vs_blk_aio *a);
/* Operations so far the io_uring issued inline, from its submission, rather
 * than through its kernel workers: the ones that found it idle (for tests). */
uint64_t vs_blk_aio_ring_inline(struct vs_blk_aio *a);
/* Requests so far that the io_uring took; O_DIRECT writes it mapped and a
 * pool worker issued (aio-uring.c: while a worker is free, rather than
 * queued on the ring); and requests the pool ran through the driver. */
void vs_blk_aio_counts(struct vs_blk_aio *a, uint64_t *ring, uint64_t *sync, uint64_t *pool);

/* Queues req (filled by the caller, which keeps it alive until done). The
 * callback is always called, exactly once, possibly before this returns on
 * another thread. Never blocks on I/O. */
void vs_blk_aio_submit(struct vs_blk_aio *a, struct vs_blk_req *req);
/* Returns once every request submitted before the call has completed. Not
 * from a completion callback. */
void vs_blk_aio_drain(struct vs_blk_aio *a);
/* For shutdown: requests queued on the pool and not started complete with
 * -ECANCELED, io_uring operations are cancelled where the kernel can (those
 * already at the device finish), then as vs_blk_aio_drain. */
void vs_blk_aio_cancel(struct vs_blk_aio *a);
/* Batches submissions (io_uring: one system call for all the requests
 * submitted between plug and unplug; threads: no effect). Pairs nest;
 * requests wait for the unplug, so the caller unplugs before it waits. */
void vs_blk_aio_plug(struct vs_blk_aio *a);
void vs_blk_aio_unplug(struct vs_blk_aio *a);
/* Changes VS_BLK_AIO_WRITETHROUGH for requests that start from now on. */
void vs_blk_aio_set_writethrough(struct vs_blk_aio *a, bool on);

#endif
