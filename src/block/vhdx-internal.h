/* Shared by src/block/vhdx*.c: on-disk layout and the open image. */
#ifndef VS_BLOCK_VHDX_INTERNAL_H
#define VS_BLOCK_VHDX_INTERNAL_H

#include "block/block.h"
#include "block/vhdx.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VHDX_MIB (1ull << 20)
#define VHDX_HEADER1 (64u << 10)
#define VHDX_HEADER2 (128u << 10)
#define VHDX_REGION1 (192u << 10)
#define VHDX_REGION2 (256u << 10)
#define VHDX_HEADER_LEN 4096u
#define VHDX_REGION_LEN (64u << 10)
#define VHDX_MAX_BLOCK (256ull << 20)
#define VHDX_MIN_BLOCK VHDX_MIB
#define VHDX_MAX_SIZE (64ull << 40) /* 64 TiB */
#define VHDX_META_ITEMS_OFF (64u << 10) /* item data in the metadata region */

/* BAT entry states (low 3 bits) and the offset (MiB, bits 20-63) */
#define VHDX_BAT_NOT_PRESENT 0u
#define VHDX_BAT_UNDEFINED 1u
#define VHDX_BAT_ZERO 2u
#define VHDX_BAT_UNMAPPED 3u
#define VHDX_BAT_FULLY_PRESENT 6u
#define VHDX_BAT_PARTIALLY_PRESENT 7u
#define VHDX_BAT_STATE(e) ((unsigned)((e)&7))
#define VHDX_BAT_OFFSET(e) ((e) & ~((1ull << 20) - 1))

struct vhdx_header {
	uint32_t signature; /* "head" */
	uint32_t checksum;
	uint64_t sequence;
	uint8_t file_write_guid[16], data_write_guid[16], log_guid[16];
	uint16_t log_version, version;
	uint32_t log_length;
	uint64_t log_offset;
	uint8_t reserved[4016];
} __attribute__((packed));
_Static_assert(sizeof(struct vhdx_header) == VHDX_HEADER_LEN, "VHDX header is 4 KiB");

/* GUIDs as their 16 bytes appear in the file */
extern const uint8_t vhdx_guid_bat[16], vhdx_guid_meta[16], vhdx_guid_file_params[16],
	vhdx_guid_disk_size[16], vhdx_guid_page83[16], vhdx_guid_lsec[16], vhdx_guid_psec[16],
	vhdx_guid_parent[16];

struct vhdx {
	struct vs_blk blk;
	int fd;
	bool barriers;
	struct vhdx_header hdr; /* the current header, host order */
	unsigned hdr_slot; /* 0: at 64 KiB, 1: at 128 KiB */
	uint32_t block_size, lsec, chunk_ratio;
	uint64_t payload_blocks, n_bat, bat_off, bat_len;
	uint64_t *bat; /* host order */
	uint8_t *bat_dirty; /* per 4 KiB page of the BAT */
	uint64_t next; /* file offset for the next payload block (1 MiB aligned) */
	uint64_t size; /* the file's size: at open, then as we grow it (lock held) */
	pthread_mutex_t lock;
};

/* vhdx.c: checksum of a header/region/log buffer with its checksum field
 * (at byte 4) taken as zero. */
uint32_t vhdx_checksum(const void *buf, size_t len);

/* vhdx.c: writes header h as the next one (sequence + 1, to the slot that
 * is not current), with a barrier before. Returns 0 or -errno. */
int vhdx_header_commit(struct vhdx *v, struct vhdx_header *h);

/* vhdx-log.c: replays the log the current header names (read-write opens
 * only), then commits a header without it. Returns 0 or -errno with *err. */
int vhdx_log_replay(struct vhdx *v, uint64_t file_size, struct vs_err **err);

#endif
