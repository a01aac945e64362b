/* Opening image files: refuse what is not a regular file or a block device
 * (without blocking on FIFOs), and take QEMU's image locks.
 *
 * Locks are QEMU's (block/file-posix.c): open file description (OFD) read
 * locks on single bytes, 100 + bit for each permission held and 200 + bit
 * for each permission not shared with others; bits are QEMU's
 * BLK_PERM_CONSISTENT_READ (0), WRITE (1), WRITE_UNCHANGED (2), RESIZE (3).
 * qemu-img, qemu-io, QEMU and vessel thus see each other's opens. A
 * read-write open holds consistent read, write and resize and shares
 * consistent read and write unchanged; a read-only open holds consistent read
 * and shares the same; VS_BLK_SHARE (qemu-img's -U, read-only only) shares
 * everything. The locks live as long as the file description. */
#ifndef VS_BLOCK_FILE_H
#define VS_BLOCK_FILE_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;

/* Opens path for an image: read-only with VS_BLK_RDONLY (else read-write,
 * created with mode 0644 if create), refuses anything but a regular file or
 * a block device, then takes the locks VS_BLK_RDONLY / VS_BLK_SHARE ask for.
 * Never truncates. Returns 0 and *fd, or -errno with a one-line *err
 * (-EAGAIN: another process holds a conflicting lock, in qemu-img's words). */
int vs_blk_file_open(const char *path, unsigned flags, bool create, int *fd, struct vs_err **err);

/* Opens path read-only without locks, refusing what vs_blk_file_open
 * refuses (for probing). Returns 0 and *fd, or -errno with *err. */
int vs_blk_file_open_nolock(const char *path, int *fd, struct vs_err **err);

/* Refines *st (a data extent at st->host_offset, st->len bytes) with the
 * file's holes: a hole reads as zeros (VS_BLK_ST_ZERO added), and the
 * extent ends where the file changes between data and hole. For formats
 * whose data is stored in place (flat extents, static images), as QEMU's
 * BDRV_BLOCK_RECURSE looks into the file. */
struct vs_blk_status;
void vs_blk_file_status(int fd, struct vs_blk_status *st);

/* For VS_BLK_DIRECT: a second description of the file open as fd, with
 * O_DIRECT (read-only if ro), without locks (fd holds them). Returns 0 and
 * *dfd, or -errno with a one-line *err (-EINVAL: the file system refuses
 * O_DIRECT). */
int vs_blk_file_open_direct(int fd, const char *path, bool ro, int *dfd, struct vs_err **err);

/* Whether iov[0..n) and off suit an O_DIRECT transfer (sector-aligned
 * addresses, lengths and offset). */
struct iovec;
bool vs_blk_direct_ok(const struct iovec *iov, unsigned n, uint64_t off);

#endif
