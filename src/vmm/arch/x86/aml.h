/* A small AML (ACPI Machine Language) encoder for the DSDT vessel builds
 * (ACPI 6.4 §20.2): names, integers, strings, packages, buffers, scopes,
 * devices and the resource descriptors of §6.4. Only what acpi.c needs;
 * every object is written in place and nested objects get their PkgLength
 * when closed. The buffer is fixed-size: overflowing it sets a sticky
 * error that vs_aml_len() reports, so callers check once at the end. */
#ifndef VS_VMM_ARCH_X86_AML_H
#define VS_VMM_ARCH_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_AML_MAX_DEPTH 8

struct vs_aml {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
	unsigned depth;
	size_t open[VS_AML_MAX_DEPTH]; /* where each open object's PkgLength goes */
	uint8_t kind[VS_AML_MAX_DEPTH]; /* named object, package or buffer (aml.c) */
	unsigned nelem[VS_AML_MAX_DEPTH]; /* packages: elements so far */
};

void vs_aml_init(struct vs_aml *a, uint8_t *buf, size_t cap);
/* Bytes written, or -ENOSPC if the buffer overflowed or an object is still
 * open (a bug in the caller). */
long vs_aml_len(const struct vs_aml *a);

/* NameString: a path such as "\\_SB_.PCI0" or "_HID" (segments are padded
 * with '_' to four characters). */
void vs_aml_name(struct vs_aml *a, const char *path);
/* Integer with the smallest encoding (ZeroOp, OneOp, BytePrefix, ...). */
void vs_aml_int(struct vs_aml *a, uint64_t v);
void vs_aml_string(struct vs_aml *a, const char *s);
/* EISA ID "PNP0A03" compressed to its 32-bit form (§6.1.5 _HID). */
void vs_aml_eisaid(struct vs_aml *a, const char *id);

/* Name (path, <next object>): the caller writes the object next. */
void vs_aml_name_decl(struct vs_aml *a, const char *path);
/* Scope (path) { ... } / Device (path) { ... }, closed by vs_aml_close(). */
void vs_aml_scope(struct vs_aml *a, const char *path);
void vs_aml_device(struct vs_aml *a, const char *path);
/* Package () { ... }: each element written after this counts (integers,
 * strings and nested packages). Closed by vs_aml_close(). */
void vs_aml_package(struct vs_aml *a);
/* Buffer () { bytes }: a resource template starts with this; close with
 * vs_aml_close() after the descriptors and vs_aml_res_end(). */
void vs_aml_buffer(struct vs_aml *a);
void vs_aml_close(struct vs_aml *a);

/* Resource descriptors (§6.4), inside vs_aml_buffer(). */
void vs_aml_res_io(struct vs_aml *a, uint16_t base, uint8_t len);
void vs_aml_res_irq(struct vs_aml *a, unsigned irq);
/* Word bus-number and I/O windows, DWord memory window: a bridge's
 * producer ranges [min, max], fixed. */
void vs_aml_res_word_bus(struct vs_aml *a, uint16_t min, uint16_t max);
void vs_aml_res_word_io(struct vs_aml *a, uint16_t min, uint16_t max);
void vs_aml_res_dword_mem(struct vs_aml *a, uint32_t min, uint32_t max);
void vs_aml_res_end(struct vs_aml *a);

#endif
