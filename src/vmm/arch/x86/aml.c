/* The AML encoder (aml.h). Opcodes and encodings: ACPI 6.4 §20.2 (AML
 * grammar) and §6.4 (resource data types). */
#include "vmm/arch/x86/aml.h"

#include <errno.h>
#include <string.h>

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_ONES 0xff
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f
#define AML_PKGLEN_RESERVE 4 /* the longest PkgLength; trimmed at close */

/* Resource descriptor tags (§6.4.2, §6.4.3). */
#define RES_IRQ_NOFLAGS 0x22 /* small item 4, length 2 */
#define RES_IO 0x47 /* small item 8, length 7 */
#define RES_END 0x79 /* small item 0xf, length 1 */
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR 0x88
#define RES_SPACE_MEM 0
#define RES_SPACE_IO 1
#define RES_SPACE_BUS 2
/* General flags: MaxFixed | MinFixed, positive decode, producer (§6.4.3.5.1). */
#define RES_FLAGS_FIXED_PRODUCER 0x0c
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_RW 0x01 /* read-write, non-cacheable */

enum { OBJ_NAMED = 1, OBJ_PACKAGE, OBJ_BUFFER };

static void put(struct vs_aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct vs_aml *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put16(struct vs_aml *a, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(a, b, 2);
}

static void put32(struct vs_aml *a, uint32_t v)
{
	put16(a, (uint16_t)v);
	put16(a, (uint16_t)(v >> 16));
}

/* A data object written inside a package is one more element of it. */
static void count_element(struct vs_aml *a)
{
	if (a->depth && a->kind[a->depth - 1] == OBJ_PACKAGE)
		a->nelem[a->depth - 1]++;
}

void vs_aml_init(struct vs_aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

long vs_aml_len(const struct vs_aml *a)
{
	return a->overflow || a->depth ? -ENOSPC : (long)a->len;
}

static void put_seg(struct vs_aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };

	memcpy(seg, s, n > 4 ? 4 : n);
	put(a, seg, 4);
}

void vs_aml_name(struct vs_aml *a, const char *path)
{
	const char *p = path, *dot;
	unsigned nseg = 1;

	while (*p == AML_ROOT || *p == '^')
		put8(a, (uint8_t)*p++);
	for (const char *q = p; *q; q++)
		nseg += *q == '.';
	if (nseg == 2)
		put8(a, AML_DUAL_NAME);
	else if (nseg > 2) {
		put8(a, AML_MULTI_NAME);
		put8(a, (uint8_t)nseg);
	}
	for (; (dot = strchr(p, '.')); p = dot + 1)
		put_seg(a, p, (size_t)(dot - p));
	put_seg(a, p, strlen(p));
}

void vs_aml_int(struct vs_aml *a, uint64_t v)
{
	count_element(a);
	if (v == 0 || v == 1) {
		put8(a, v ? AML_ONE : AML_ZERO);
	} else if (v == UINT64_MAX) {
		put8(a, AML_ONES);
	} else if (v <= UINT8_MAX) {
		put8(a, AML_BYTE);
		put8(a, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		put8(a, AML_WORD);
		put16(a, (uint16_t)v);
	} else if (v <= UINT32_MAX) {
		put8(a, AML_DWORD);
		put32(a, (uint32_t)v);
	} else {
		put8(a, AML_QWORD);
		put32(a, (uint32_t)v);
		put32(a, (uint32_t)(v >> 32));
	}
}

void vs_aml_string(struct vs_aml *a, const char *s)
{
	count_element(a);
	put8(a, AML_STRING);
	put(a, s, strlen(s) + 1);
}

/* "PNP0A03": three letters of 5 bits each ('A' = 1), then four hex digits,
 * stored big-endian (§6.1.5). */
void vs_aml_eisaid(struct vs_aml *a, const char *id)
{
	uint16_t w = (uint16_t)((id[0] - '@') << 10 | (id[1] - '@') << 5 | (id[2] - '@'));
	unsigned long prod = 0;

	for (int i = 3; i < 7; i++)
		prod = prod << 4 |
		       (unsigned long)(id[i] <= '9' ? id[i] - '0' : (id[i] | 0x20) - 'a' + 10);
	count_element(a);
	put8(a, AML_DWORD);
	put8(a, (uint8_t)(w >> 8));
	put8(a, (uint8_t)w);
	put8(a, (uint8_t)(prod >> 8));
	put8(a, (uint8_t)prod);
}

void vs_aml_name_decl(struct vs_aml *a, const char *path)
{
	put8(a, AML_NAME);
	vs_aml_name(a, path);
}

static void open_obj(struct vs_aml *a, int kind)
{
	static const uint8_t zero[AML_PKGLEN_RESERVE];

	if (a->depth == VS_AML_MAX_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth] = a->len;
	a->kind[a->depth] = (uint8_t)kind;
	a->nelem[a->depth] = 0;
	a->depth++;
	put(a, zero, sizeof(zero));
	if (kind == OBJ_PACKAGE)
		put8(a, 0); /* NumElements, patched at close */
	else if (kind == OBJ_BUFFER)
		put(a, (uint8_t[]){ AML_DWORD, 0, 0, 0, 0 }, 5); /* BufferSize, patched at close */
}

void vs_aml_scope(struct vs_aml *a, const char *path)
{
	put8(a, AML_SCOPE);
	open_obj(a, OBJ_NAMED);
	vs_aml_name(a, path);
}

void vs_aml_device(struct vs_aml *a, const char *path)
{
	put8(a, AML_EXT);
	put8(a, AML_EXT_DEVICE);
	open_obj(a, OBJ_NAMED);
	vs_aml_name(a, path);
}

void vs_aml_package(struct vs_aml *a)
{
	count_element(a);
	put8(a, AML_PACKAGE);
	open_obj(a, OBJ_PACKAGE);
}

void vs_aml_buffer(struct vs_aml *a)
{
	count_element(a);
	put8(a, AML_BUFFER);
	open_obj(a, OBJ_BUFFER);
}

/* PkgLength (§20.2.4) counts itself and what follows: one byte up to 63,
 * else a lead byte (bits 7-6: how many bytes follow, bits 3-0: the low
 * nibble) and 1-3 bytes with the rest. */
void vs_aml_close(struct vs_aml *a)
{
	size_t at, body;
	unsigned n;
	uint8_t *p;

	if (a->overflow || a->depth == 0) {
		a->overflow = true;
		return;
	}
	a->depth--;
	at = a->open[a->depth];
	p = a->buf + at;
	body = a->len - at - AML_PKGLEN_RESERVE;
	if (a->kind[a->depth] == OBJ_PACKAGE) {
		if (a->nelem[a->depth] > UINT8_MAX) {
			a->overflow = true;
			return;
		}
		p[AML_PKGLEN_RESERVE] = (uint8_t)a->nelem[a->depth];
	} else if (a->kind[a->depth] == OBJ_BUFFER) {
		for (unsigned i = 0; i < 4; i++)
			p[AML_PKGLEN_RESERVE + 1 + i] = (uint8_t)((body - 5) >> (8 * i));
	}
	n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	memmove(p + n, p + AML_PKGLEN_RESERVE, body);
	body += n;
	if (n == 1) {
		p[0] = (uint8_t)body;
	} else {
		p[0] = (uint8_t)((n - 1) << 6 | (body & 0xf));
		for (unsigned i = 1; i < n; i++)
			p[i] = (uint8_t)(body >> (4 + 8 * (i - 1)));
	}
	a->len -= AML_PKGLEN_RESERVE - n;
}

void vs_aml_res_io(struct vs_aml *a, uint16_t base, uint8_t len)
{
	put8(a, RES_IO);
	put8(a, 1); /* 16-bit decode */
	put16(a, base);
	put16(a, base);
	put8(a, 1); /* alignment */
	put8(a, len);
}

void vs_aml_res_irq(struct vs_aml *a, unsigned irq)
{
	put8(a, RES_IRQ_NOFLAGS);
	put16(a, (uint16_t)(1u << irq));
}

static void word_addr(struct vs_aml *a, uint8_t space, uint8_t tflags, uint16_t min, uint16_t max)
{
	put8(a, RES_WORD_ADDR);
	put16(a, 13); /* length of what follows */
	put8(a, space);
	put8(a, RES_FLAGS_FIXED_PRODUCER);
	put8(a, tflags);
	put16(a, 0); /* granularity */
	put16(a, min);
	put16(a, max);
	put16(a, 0); /* translation */
	put16(a, (uint16_t)(max - min + 1));
}

void vs_aml_res_word_bus(struct vs_aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, RES_SPACE_BUS, 0, min, max);
}

void vs_aml_res_word_io(struct vs_aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, RES_SPACE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

void vs_aml_res_dword_mem(struct vs_aml *a, uint32_t min, uint32_t max)
{
	put8(a, RES_DWORD_ADDR);
	put16(a, 23);
	put8(a, RES_SPACE_MEM);
	put8(a, RES_FLAGS_FIXED_PRODUCER);
	put8(a, RES_MEM_RW);
	put32(a, 0);
	put32(a, min);
	put32(a, max);
	put32(a, 0);
	put32(a, max - min + 1);
}

/* End tag with a zero checksum byte ("treated as if the checksum was
 * correct", §6.4.2.9). */
void vs_aml_res_end(struct vs_aml *a)
{
	put8(a, RES_END);
	put8(a, 0);
}
