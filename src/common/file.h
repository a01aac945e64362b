/* Files a person names as input (kernels, initrds, disk images): opened
 * without ever blocking, refused unless they are regular files or block
 * devices, sized before anything is read. */
#ifndef VS_COMMON_FILE_H
#define VS_COMMON_FILE_H

#include <stddef.h>
#include <stdint.h>

struct vs_err;

/* Opens path with flags (O_RDONLY or O_RDWR; O_CLOEXEC, O_NOCTTY and, for
 * the open itself, O_NONBLOCK are added, so a FIFO cannot hang us) and
 * checks its type. On success *fd is a blocking fd the caller owns and
 * *size the file's (or block device's) size in bytes. Returns 0 or -errno
 * with *err set to one line naming what and path: "cannot read <what>
 * <path>: <strerror>", or "<what> <path> is a FIFO, not a regular file or
 * block device" (-EINVAL; -EISDIR for a directory). */
int vs_input_open(const char *what, const char *path, int flags, int *fd, uint64_t *size,
		  struct vs_err **err);

/* Reads exactly len bytes at offset off (pread, EINTR retried). Returns 0,
 * -errno, or -EIO when the file ends early (it shrank since it was sized). */
int vs_read_at(int fd, void *buf, size_t len, uint64_t off);

#endif
