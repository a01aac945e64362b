/* Small allocation and parsing helpers shared by every layer. */
#ifndef VS_COMMON_UTIL_H
#define VS_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VS_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define VS_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define VS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VS_KIB (1024ULL)
#define VS_MIB (1024ULL * 1024)
#define VS_GIB (1024ULL * 1024 * 1024)

/* Aborts the process with a message: the one abort the style allows. */
__attribute__((noreturn)) void xoom(void);
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses "512", "64K", "256M", "2G", "1T" (binary units; a plain number is
 * bytes unless default_unit says otherwise, e.g. VS_MIB for --mem).
 * Returns 0 or -EINVAL (syntax) / -ERANGE (overflow). */
int vs_parse_size(const char *s, uint64_t default_unit, uint64_t *out);

/* Parses a decimal unsigned integer in [min, max]. Returns 0, -EINVAL or -ERANGE. */
int vs_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Reads a whole file (at most max bytes). Returns 0 or -errno (-EFBIG if larger). */
int vs_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);

/* Monotonic clock in nanoseconds. */
uint64_t vs_now_ns(void);

/* The host's MemTotal in bytes (/proc/meminfo); UINT64_MAX if unknown. */
uint64_t vs_host_mem_total(void);

#endif
