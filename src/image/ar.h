/* libarchive, loaded on first use (dlopen) rather than at start: with its
 * own dependencies (libxml2, ICU, libstdc++, the compressors) it costs
 * every vessel process about 2 MiB of resident pages, and only image
 * import, unpack and export need it (docs/api.md "Memory"). Calls go
 * through vs_ar, whose members have libarchive's own prototypes (the
 * headers still come from libarchive-dev). */
#ifndef VS_IMAGE_AR_H
#define VS_IMAGE_AR_H

#include <archive.h>
#include <archive_entry.h>

struct vs_err;

/* Every libarchive function src/image calls. */
#define VS_AR_FUNCS(X)                        \
	X(archive_entry_atime)                \
	X(archive_entry_atime_is_set)         \
	X(archive_entry_atime_nsec)           \
	X(archive_entry_filetype)             \
	X(archive_entry_free)                 \
	X(archive_entry_gid)                  \
	X(archive_entry_hardlink)             \
	X(archive_entry_mtime)                \
	X(archive_entry_mtime_is_set)         \
	X(archive_entry_mtime_nsec)           \
	X(archive_entry_new)                  \
	X(archive_entry_pathname)             \
	X(archive_entry_perm)                 \
	X(archive_entry_rdev)                 \
	X(archive_entry_set_filetype)         \
	X(archive_entry_set_mtime)            \
	X(archive_entry_set_pathname)         \
	X(archive_entry_set_perm)             \
	X(archive_entry_set_size)             \
	X(archive_entry_size)                 \
	X(archive_entry_size_is_set)          \
	X(archive_entry_symlink)              \
	X(archive_entry_uid)                  \
	X(archive_entry_xattr_next)           \
	X(archive_entry_xattr_reset)          \
	X(archive_error_string)               \
	X(archive_filter_bytes)               \
	X(archive_read_data)                  \
	X(archive_read_data_block)            \
	X(archive_read_free)                  \
	X(archive_read_new)                   \
	X(archive_read_next_header)           \
	X(archive_read_open)                  \
	X(archive_read_open_fd)               \
	X(archive_read_open_filename)         \
	X(archive_read_support_filter_all)    \
	X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_raw)    \
	X(archive_read_support_format_tar)    \
	X(archive_set_error)                  \
	X(archive_write_close)                \
	X(archive_write_data)                 \
	X(archive_write_free)                 \
	X(archive_write_header)               \
	X(archive_write_new)                  \
	X(archive_write_open_filename)        \
	X(archive_write_set_format_pax_restricted)

#define VS_AR_PTR(f) __typeof__(f) *f;
struct vs_ar_syms {
	VS_AR_FUNCS(VS_AR_PTR)
};
#undef VS_AR_PTR

/* Valid after a vs_ar_load() that returned 0. */
extern struct vs_ar_syms vs_ar;

/* Loads libarchive once (thread-safe); later calls return the first
 * result. Returns 0, or -ELIBACC with one line in *err. */
int vs_ar_load(struct vs_err **err);

#endif
