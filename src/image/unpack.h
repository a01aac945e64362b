/* The layer unpacker's private state, shared by unpack.c (the stream,
 * hashing, limits) and unpack-entry.c (one tar entry onto the layer). */
#ifndef VS_IMAGE_UNPACK_H
#define VS_IMAGE_UNPACK_H

#include "image/image.h"

#include <stdbool.h>
#include <stdint.h>

struct archive;
struct archive_entry;
struct vs_err;
struct vs_sha256;

struct unpack_ctx {
	struct archive *outer, *inner;
	struct vs_sha256 *hash;
	struct vs_image_limits lim;
	int layer; /* the layer directory */
	uint8_t *buf;
	uint64_t bytes; /* decompressed so far */
	uint64_t entries;
	uint64_t total; /* blob size, for progress */
	const char *bomb; /* why a limit stopped the stream */
	bool eof;
	vs_image_progress_fn *progress;
	void *pctx;
};

/* Creates entry e in the layer (reading its data from u->inner). */
int unpack_entry(struct unpack_ctx *u, struct archive_entry *e, struct vs_err **err);

#endif
