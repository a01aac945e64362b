/* VMDK (VMware, block/vmdk*.c): what the block layer and `vessel img` use
 * beyond the generic interface. */
#ifndef VS_BLOCK_VMDK_H
#define VS_BLOCK_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_blk;
struct vs_err;

/* The subformats qemu-img creates (`-o subformat=`). */
enum vmdk_subformat {
	VMDK_MONOLITHIC_SPARSE,
	VMDK_MONOLITHIC_FLAT,
	VMDK_TWO_GB_SPARSE,
	VMDK_TWO_GB_FLAT,
	VMDK_STREAM_OPTIMIZED,
};

struct vmdk_create_opts {
	uint64_t size; /* rounded up to 512 bytes */
	enum vmdk_subformat sub;
	const char *adapter_type; /* ide (default), lsilogic, buslogic, legacyESX */
	bool compat6; /* virtualHWVersion 6 */
	bool zeroed_grain; /* the zeroed-grain GTE feature */
	bool prealloc_full; /* flat extents: write zeros (else sparse files) */
	bool prealloc_falloc; /* flat extents: fallocate */
	const char *backing; /* a parent VMDK (sparse subformats only), as stored */
};

struct vmdk_extent_info {
	uint64_t size; /* bytes */
	const char *filename; /* as named in the descriptor (relative) */
	uint64_t cluster_size; /* grain size in bytes, 0 for flat/zero */
	const char *format; /* "" (sparse), "FLAT", "ZERO" */
	bool compressed;
};

struct vmdk_info {
	uint32_t cid, parent_cid;
	const char *parent; /* parentFileNameHint as stored, or NULL */
	const char *parent_full; /* the path it resolves to */
	const char *create_type;
	size_t n_extents;
	const struct vmdk_extent_info *extents;
};

/* True if the file's first bytes (len of them) are a VMDK: a sparse extent
 * header ("KDMV") or a descriptor file ("# Disk DescriptorFile"). */
bool vmdk_is_magic(const uint8_t *buf, size_t len);

/* Opens path (a descriptor file or a sparse extent with its descriptor
 * inside) and every extent it names. Returns 0 and *out, or -errno with a
 * one-line *err. */
int vmdk_open(const char *path, unsigned flags, struct vs_blk **out, struct vs_err **err);

/* The parent disk opened under b (NULL if none or not opened). */
struct vs_blk *vmdk_parent(struct vs_blk *b);

/* True if b is a VMDK image (then vmdk_get_info applies). */
bool vmdk_is(const struct vs_blk *b);
void vmdk_get_info(struct vs_blk *b, struct vmdk_info *info);

/* Creates path (and its extent files). Returns 0 or -errno with *err;
 * nothing is left behind on failure. */
int vmdk_create(const char *path, const struct vmdk_create_opts *o, struct vs_err **err);

/* Parses a subformat name. Returns 0 or -EINVAL. */
int vmdk_parse_subformat(const char *s, enum vmdk_subformat *out);

#endif
