/* The raw driver: the image file is the disk. */
#ifndef VS_BLOCK_RAW_H
#define VS_BLOCK_RAW_H

#include <stdbool.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

/* Opens path as a raw image (flags: VS_BLK_*). Returns 0 and *out or -errno. */
int raw_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err);

/* Creates (or truncates) path as a sparse raw image of size bytes; with
 * falloc, allocates the blocks; with full, writes zeros over them (as
 * qemu-img: no extent is left unwritten). Returns 0 or -errno with *err. */
int raw_create(const char *path, uint64_t size, bool falloc, bool full, struct vs_err **err);

#endif
