/* One fuzz iteration over an image of any format but qcow2 (which has its
 * own harness, qcow2-one.c) held in a memfd: the format is probed from the
 * content, as `vessel img` does without -f; then reads at a few places, a
 * block-status walk and a check; read-write, also writes, zeroes, discards,
 * a repairing check and a flush (the held-back metadata path). Errors are
 * expected; the sanitizers judge crashes, leaks and undefined behaviour. */
#include "fuzz.h"

#include "block/block.h"
#include "common/err.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_IO (1u << 20) /* one VDI block, several VMDK grains */

static void read_pass(struct vs_blk *b, uint8_t *buf)
{
	uint64_t size = vs_blk_size(b),
		 offs[] = { 0, size / 2, size > FUZZ_IO ? size - FUZZ_IO : 0 };
	struct vs_blk_check_result res;
	struct vs_blk_status st;
	struct vs_err *e = NULL;
	uint64_t off = 0;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		(void)vs_blk_pread(b, buf, size - offs[i] < FUZZ_IO ? size - offs[i] : FUZZ_IO,
				   offs[i]);
	for (int i = 0; i < 256 && off < size; i++) {
		if (vs_blk_block_status(b, off, size - off, &st) < 0)
			break;
		off += st.len;
	}
	if (vs_blk_check(b, VS_BLK_REPAIR_NONE, &res, &e) < 0)
		vs_err_free(e);
}

static void write_pass(struct vs_blk *b, uint8_t *buf)
{
	uint64_t size = vs_blk_size(b), n = size < 8192 ? size : 8192;
	struct vs_blk_check_result res;
	struct vs_err *e = NULL;

	memset(buf, 0x5a, 8192);
	if (vs_blk_check(b, VS_BLK_REPAIR_ALL, &res, &e) < 0)
		vs_err_free(e), e = NULL;
	if (!n)
		return;
	(void)vs_blk_pwrite(b, buf, n, 0);
	(void)vs_blk_pwrite(b, buf, n / 2 + 1, size / 2 - (size / 2 ? 1 : 0));
	(void)vs_blk_flush(b);
	(void)vs_blk_write_zeroes(b, 0, n / 2);
	(void)vs_blk_discard(b, size / 2, size - size / 2);
	(void)vs_blk_pwrite(b, buf, n, size - n);
	(void)vs_blk_pread(b, buf, n, 0);
	(void)vs_blk_flush(b);
	if (vs_blk_check(b, VS_BLK_REPAIR_NONE, &res, &e) < 0)
		vs_err_free(e);
}

static int open_and_run(const char *path, unsigned flags, uint8_t *buf)
{
	struct vs_blk *b = NULL;
	struct vs_err *e = NULL;

	if (vs_blk_open(path, NULL, flags | VS_BLK_PROBE | VS_BLK_NO_BACKING, &b, &e) < 0) {
		vs_err_free(e);
		return 0;
	}
	if (strcmp(vs_blk_format(b), "raw") == 0 || strcmp(vs_blk_format(b), "qcow2") == 0) {
		vs_blk_close(b); /* not this harness's formats */
		return 0;
	}
	read_pass(b, buf);
	if (!(flags & VS_BLK_RDONLY))
		write_pass(b, buf);
	vs_blk_close(b);
	return 1;
}

int fuzz_img_one(const uint8_t *data, size_t size)
{
	char path[64];
	uint8_t *buf;
	int fd = fuzz_memfd(data, size, path), opened;

	if (fd < 0)
		return fd;
	vs_log_set_level(VS_LOG_ERROR); /* check's findings are expected here */
	buf = malloc(FUZZ_IO);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	opened = open_and_run(path, VS_BLK_RDONLY, buf);
	opened |= open_and_run(path, VS_BLK_REPAIR, buf);
	close(fd);
	free(buf);
	return opened;
}
