/* libarchive, loaded on first use (common/dl.h) instead of at every
 * vessel's start: with libxml2, ICU and libstdc++ behind it, it cost every
 * command ~1.4 ms of dynamic linking and every VMM ~0.25 MiB resident, and
 * only image and container commands read or write a tar.
 *
 * Include this instead of <archive.h> and <archive_entry.h>: each function
 * vessel calls is redefined as a call through vs_archive, a table of
 * pointers typed by the library's own prototypes and filled once. A name
 * used here must be in VS_ARCHIVE_FNS (the build fails otherwise only for
 * names the headers do not declare: add new ones to the list). */
#ifndef VS_IMAGE_ARCHIVE_DL_H
#define VS_IMAGE_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#define VS_ARCHIVE_FNS(X)                     \
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

#define VS_ARCHIVE_FN_PTR(f) __typeof__(f) *f;
struct vs_archive_fns {
	VS_ARCHIVE_FNS(VS_ARCHIVE_FN_PTR)
};
#undef VS_ARCHIVE_FN_PTR

extern struct vs_archive_fns vs_archive;

/* Loads libarchive once; a host without it cannot take a tar apart, which,
 * like running out of memory, no caller can handle: it aborts with one line. */
void vs_archive_need(void);

#define archive_entry_atime (vs_archive_need(), vs_archive.archive_entry_atime)
#define archive_entry_atime_is_set (vs_archive_need(), vs_archive.archive_entry_atime_is_set)
#define archive_entry_atime_nsec (vs_archive_need(), vs_archive.archive_entry_atime_nsec)
#define archive_entry_filetype (vs_archive_need(), vs_archive.archive_entry_filetype)
#define archive_entry_free (vs_archive_need(), vs_archive.archive_entry_free)
#define archive_entry_gid (vs_archive_need(), vs_archive.archive_entry_gid)
#define archive_entry_hardlink (vs_archive_need(), vs_archive.archive_entry_hardlink)
#define archive_entry_mtime (vs_archive_need(), vs_archive.archive_entry_mtime)
#define archive_entry_mtime_is_set (vs_archive_need(), vs_archive.archive_entry_mtime_is_set)
#define archive_entry_mtime_nsec (vs_archive_need(), vs_archive.archive_entry_mtime_nsec)
#define archive_entry_new (vs_archive_need(), vs_archive.archive_entry_new)
#define archive_entry_pathname (vs_archive_need(), vs_archive.archive_entry_pathname)
#define archive_entry_perm (vs_archive_need(), vs_archive.archive_entry_perm)
#define archive_entry_rdev (vs_archive_need(), vs_archive.archive_entry_rdev)
#define archive_entry_set_filetype (vs_archive_need(), vs_archive.archive_entry_set_filetype)
#define archive_entry_set_mtime (vs_archive_need(), vs_archive.archive_entry_set_mtime)
#define archive_entry_set_pathname (vs_archive_need(), vs_archive.archive_entry_set_pathname)
#define archive_entry_set_perm (vs_archive_need(), vs_archive.archive_entry_set_perm)
#define archive_entry_set_size (vs_archive_need(), vs_archive.archive_entry_set_size)
#define archive_entry_size (vs_archive_need(), vs_archive.archive_entry_size)
#define archive_entry_size_is_set (vs_archive_need(), vs_archive.archive_entry_size_is_set)
#define archive_entry_symlink (vs_archive_need(), vs_archive.archive_entry_symlink)
#define archive_entry_uid (vs_archive_need(), vs_archive.archive_entry_uid)
#define archive_entry_xattr_next (vs_archive_need(), vs_archive.archive_entry_xattr_next)
#define archive_entry_xattr_reset (vs_archive_need(), vs_archive.archive_entry_xattr_reset)
#define archive_error_string (vs_archive_need(), vs_archive.archive_error_string)
#define archive_filter_bytes (vs_archive_need(), vs_archive.archive_filter_bytes)
#define archive_read_data (vs_archive_need(), vs_archive.archive_read_data)
#define archive_read_data_block (vs_archive_need(), vs_archive.archive_read_data_block)
#define archive_read_free (vs_archive_need(), vs_archive.archive_read_free)
#define archive_read_new (vs_archive_need(), vs_archive.archive_read_new)
#define archive_read_next_header (vs_archive_need(), vs_archive.archive_read_next_header)
#define archive_read_open (vs_archive_need(), vs_archive.archive_read_open)
#define archive_read_open_fd (vs_archive_need(), vs_archive.archive_read_open_fd)
#define archive_read_open_filename (vs_archive_need(), vs_archive.archive_read_open_filename)
#define archive_read_support_filter_all \
	(vs_archive_need(), vs_archive.archive_read_support_filter_all)
#define archive_read_support_format_gnutar \
	(vs_archive_need(), vs_archive.archive_read_support_format_gnutar)
#define archive_read_support_format_raw \
	(vs_archive_need(), vs_archive.archive_read_support_format_raw)
#define archive_read_support_format_tar \
	(vs_archive_need(), vs_archive.archive_read_support_format_tar)
#define archive_set_error (vs_archive_need(), vs_archive.archive_set_error)
#define archive_write_close (vs_archive_need(), vs_archive.archive_write_close)
#define archive_write_data (vs_archive_need(), vs_archive.archive_write_data)
#define archive_write_free (vs_archive_need(), vs_archive.archive_write_free)
#define archive_write_header (vs_archive_need(), vs_archive.archive_write_header)
#define archive_write_new (vs_archive_need(), vs_archive.archive_write_new)
#define archive_write_open_filename (vs_archive_need(), vs_archive.archive_write_open_filename)
#define archive_write_set_format_pax_restricted \
	(vs_archive_need(), vs_archive.archive_write_set_format_pax_restricted)

#endif
