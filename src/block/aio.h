/* Asynchronous block requests: an engine that runs reads, writes, flushes,
 * discards and write-zeroes on an open image (block.h) off the caller's
 * thread and reports each through a completion callback, in whatever order
 * they finish (review §5.1 item 6; kvmtool's disk_req_cb, QEMU's
 * aio=threads).
 *
 * The engine is a bounded pool of worker threads per image, started on
 * demand up to the limit given at creation. Each worker runs one request
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
 * until the callback. The callback runs on a worker thread without engine
 * locks held; it may free the request and submit more. */
#ifndef VS_BLOCK_AIO_H
#define VS_BLOCK_AIO_H

#include <stdbool.h>
#include <stdint.h>

struct iovec;
struct vs_blk;
struct vs_blk_aio;

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
};

/* vs_blk_aio_new() flags */
#define VS_BLK_AIO_WRITETHROUGH 0x1u
#define VS_BLK_AIO_NO_FLUSH 0x2u

#define VS_BLK_AIO_MAX_WORKERS 64

/* Creates an engine for b (which must outlive it) with at most
 * max_workers threads (1..VS_BLK_AIO_MAX_WORKERS). Returns 0 or -errno. */
int vs_blk_aio_new(struct vs_blk *b, unsigned max_workers, unsigned flags, struct vs_blk_aio **out);
/* Waits for every submitted request to complete, stops the workers and
 * frees the engine. NULL is a no-op. */
void vs_blk_aio_free(struct vs_blk_aio *a);

/* Queues req (filled by the caller, which keeps it alive until done). The
 * callback is always called, exactly once, possibly before this returns on
 * another thread. Never blocks on I/O. */
void vs_blk_aio_submit(struct vs_blk_aio *a, struct vs_blk_req *req);
/* Returns once every request submitted before the call has completed. Not
 * from a completion callback. */
void vs_blk_aio_drain(struct vs_blk_aio *a);
/* Changes VS_BLK_AIO_WRITETHROUGH for requests that start from now on. */
void vs_blk_aio_set_writethrough(struct vs_blk_aio *a, bool on);

#endif
