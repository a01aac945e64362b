/* VHDX (Hyper-V, Azure; [MS-VHDX] v20160714, block/vhdx*.c): what the block
 * layer and `vessel img` use beyond the generic interface. */
#ifndef VS_BLOCK_VHDX_H
#define VS_BLOCK_VHDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

struct vhdx_create_opts {
	uint64_t size;
	uint64_t block_size; /* 1..256 MiB, a power of two; 0: qemu-img's choice */
	uint64_t log_size; /* a multiple of 1 MiB, >= 1 MiB; 0: 1 MiB */
	bool fixed; /* subformat=fixed: every block present at creation */
	bool zero_state; /* block_state_zero: new BAT entries say ZERO (else NOT_PRESENT) */
	bool prealloc_full, prealloc_falloc; /* fixed: allocate the payload */
};

/* True if buf (len bytes of the file's start) is a VHDX file identifier. */
bool vhdx_is_magic(const uint8_t *buf, size_t len);

/* Opens path. A log left by a crashed writer is replayed when the image is
 * opened read-write, and refused in one line when read-only. Returns 0 and
 * *out, or -errno with a one-line *err. */
int vhdx_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err);

/* Creates path. Returns 0 or -errno with *err; nothing is left on failure. */
int vhdx_create(const char *path, const struct vhdx_create_opts *o, struct vs_err **err);

#endif
