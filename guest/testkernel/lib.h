/* lib.h - the little of libc the test guest needs, plus CRC-32 and a printf. */
#ifndef VS_TK_LIB_H
#define VS_TK_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TK_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* gcc may emit calls to these four for struct copies and loops. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* Parses a decimal or 0x-hex unsigned number filling all of [s, s+n).
 * Returns 0 and sets *out, or -1 if it is empty, malformed or overflows. */
int parse_u64(const char *s, size_t n, uint64_t *out);

/* Reads little-endian integers from possibly unaligned guest structures. */
uint16_t get_le16(const void *p);
uint32_t get_le32(const void *p);
uint64_t get_le64(const void *p);

/* Standard CRC-32 (IEEE 802.3, reflected, as zlib.crc32): pass 0 to start. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* A printf subset: %d %i %u %x %X %s %c %p %%, flags '0' and '-', width,
 * precision (%.Ns, %.*s),
 * the length modifiers l, ll, z. Output goes to @put one character at a time. */
void tk_vformat(void (*put)(char c, void *ctx), void *ctx, const char *fmt, va_list ap);
int tk_snprintf(char *buf, size_t size, const char *fmt, ...) TK_PRINTF(3, 4);
int tk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
