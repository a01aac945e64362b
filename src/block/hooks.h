/* Test hooks of src/block, driven by the environment (read once per
 * process); without those variables each is one predictable branch.
 *   VESSEL_BLOCK_KILL_AFTER_WRITES=N  the process SIGKILLs itself instead of
 *       making its (N+1)-th file write: a test can stop an operation between
 *       any two of its writes (process death).
 *   VESSEL_BLOCK_TRACE=FILE  every file write, hole punch and fdatasync is
 *       appended to FILE ('W' off len data, 'P' off len, 'S'; offsets and
 *       lengths as little-endian u64), so a test can replay any subset of
 *       the writes between two syncs (power loss). */
#ifndef VS_BLOCK_HOOKS_H
#define VS_BLOCK_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct iovec;

void vs_hook_write(const struct iovec *iov, int n, uint64_t off);
void vs_hook_punch(uint64_t off, uint64_t len);
void vs_hook_sync(void);

#endif
