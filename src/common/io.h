/* File I/O helpers every layer may use: whole-buffer pread/pwrite, a gate
 * that queues long buffered writes to one file, a zero test, and the test
 * hooks that every write, hole punch and sync of src/block goes through.
 *
 * Test hooks (io-hooks.c), only in builds with the block_test_hooks meson
 * option (HAVE_BLOCK_TEST_HOOKS; on for test builds, off with
 * buildtype=release, where they are empty inline functions and the
 * variables below are ignored). Driven by the environment (read once per
 * process); without those variables each is one predictable branch.
 *   VESSEL_BLOCK_KILL_AFTER_WRITES=N  the process SIGKILLs itself instead of
 *       making its (N+1)-th file write: a test can stop an operation between
 *       any two of its writes (process death).
 *   VESSEL_BLOCK_TRACE=FILE  every file write, hole punch and fdatasync is
 *       appended to FILE ('W' off len data, 'P' off len, 'S'; offsets and
 *       lengths as little-endian u64), so a test can replay any subset of
 *       the writes between two syncs (power loss). */
#ifndef VS_COMMON_IO_H
#define VS_COMMON_IO_H

#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iovec;

/* Whole-buffer helpers on a file descriptor: retry short I/O and EINTR.
 * pread past EOF fills zeros. Return 0 or -errno. vs_pwrite_full passes
 * through vs_io_hook_write. */
int vs_pread_full(int fd, void *buf, size_t len, uint64_t off);
int vs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* The same for n iovecs in order from off (one preadv/pwritev, piecewise
 * after a short transfer). vs_pwritev_full passes through vs_io_hook_write. */
int vs_preadv_full(int fd, const struct iovec *iov, unsigned n, uint64_t off);
int vs_pwritev_full(int fd, const struct iovec *iov, unsigned n, uint64_t off);

/* Buffered writes to one regular file serialize on its inode lock in the
 * kernel (ext4, xfs), whose waiters spin and burn CPU: for long writes it is
 * cheaper to queue them here (short ones finish before a sleep would pay
 * off, so they are not gated). Block devices are not gated. */
#define VS_WRITE_GATE_MIN (64u << 10)
struct vs_write_gate {
	bool on;
	pthread_mutex_t lock;
};

void vs_write_gate_init(struct vs_write_gate *g, bool on);
void vs_write_gate_destroy(struct vs_write_gate *g);
void vs_write_gate_enter(struct vs_write_gate *g, size_t len);
void vs_write_gate_leave(struct vs_write_gate *g, size_t len);

/* Writes len zero bytes at off (through vs_pwrite_full). 0 or -errno. */
int vs_pwrite_zeros(int fd, uint64_t off, uint64_t len);

/* Makes [off, off+len) of a file read as zeros: a hole where the file
 * system punches one (the file stays thin; through vs_io_hook_punch),
 * written zeros elsewhere. 0 or -errno. */
int vs_zero_range(int fd, uint64_t off, uint64_t len);

/* Reserves [off, off+len) of a file: fallocate, or with full written zeros
 * (qemu-img's preallocation=falloc / full). 0 or -errno. */
int vs_preallocate(int fd, uint64_t off, uint64_t len, bool full);

/* True if buf is all zero bytes. */
bool vs_buf_is_zero(const void *buf, size_t len);

/* Test hooks (see the head of this file): call before the write, hole punch
 * or fdatasync they describe. */
#if HAVE_BLOCK_TEST_HOOKS
void vs_io_hook_write(const struct iovec *iov, int n, uint64_t off);
void vs_io_hook_punch(uint64_t off, uint64_t len);
void vs_io_hook_sync(void);
#else
static inline void vs_io_hook_write(const struct iovec *iov, int n, uint64_t off)
{
	(void)iov, (void)n, (void)off;
}
static inline void vs_io_hook_punch(uint64_t off, uint64_t len)
{
	(void)off, (void)len;
}
static inline void vs_io_hook_sync(void)
{
}
#endif

#endif
