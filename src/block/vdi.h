/* VDI (VirtualBox's native format, block/vdi.c): what the block layer and
 * `vessel img` use beyond the generic interface. */
#ifndef VS_BLOCK_VDI_H
#define VS_BLOCK_VDI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

struct vdi_create_opts {
	uint64_t size; /* rounded up to 512 bytes */
	bool fixed; /* static=on: every block mapped at creation (image type 2) */
	bool prealloc_falloc, prealloc_full; /* static images: allocate the data area */
};

/* True if sector (len bytes of the file's start) carries the VDI signature. */
bool vdi_is_magic(const uint8_t *sector, size_t len);

/* Opens path as VDI (flags: VS_BLK_*). Returns 0 and *out, or -errno with a
 * one-line *err. */
int vdi_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err);

/* Creates (or truncates) path. Returns 0 or -errno with *err; on failure
 * nothing is left at path. */
int vdi_create(const char *path, const struct vdi_create_opts *o, struct vs_err **err);

#endif
