/* Unit tests for the ACPI tables (vmm/arch/x86/acpi.c) and the AML encoder:
 * the RSDP -> XSDT -> FADT/MADT -> DSDT/FACS pointer chain, every checksum
 * and length, the FADT's PM blocks, SCI and reset register, the MADT's
 * vCPUs and IOAPIC (consistent with the MP table), and the DSDT walked as
 * AML: every PkgLength must end exactly where its object does, package
 * element counts must match, _S5 and the _PRT routing must be what the
 * devices implement. */
#include "vmm/arch/x86/acpi.h"
#include "vmm/arch/x86/aml.h"
#include "vmm/arch/x86/layout.h"
#include "hw/acpi-pm.h"
#include "hw/pci.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define GPA VS_X86_ACPI_START

static uint8_t buf[VS_ACPI_MAX_SIZE];

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The table at guest address gpa: signature and checksum checked. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t;

	assert_true(gpa >= GPA && gpa + 36 <= GPA + sizeof(buf));
	t = buf + (gpa - GPA);
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + rd32(t + 4) <= GPA + sizeof(buf));
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	assert_memory_equal(t + 10, "VESSEL", 6);
	return t;
}

/* ---- a minimal AML reader: the subset aml.c writes ---- */

struct rd {
	const uint8_t *p, *end;
	unsigned prt_entries, s5_typ, names;
};

static size_t pkglen(struct rd *r)
{
	uint8_t lead = *r->p;
	unsigned n = lead >> 6;
	size_t len = n ? lead & 0xf : lead & 0x3f;

	for (unsigned i = 0; i < n; i++)
		len |= (size_t)r->p[1 + i] << (4 + 8 * i);
	assert_true(len > n && r->p + len <= r->end);
	return len;
}

static void skip_name(struct rd *r)
{
	unsigned segs = 1;

	while (*r->p == '\\' || *r->p == '^')
		r->p++;
	if (*r->p == 0x2e) {
		segs = 2;
		r->p++;
	} else if (*r->p == 0x2f) {
		segs = r->p[1];
		r->p += 2;
	}
	r->p += 4 * segs;
	assert_true(r->p <= r->end);
}

static uint64_t read_int(struct rd *r)
{
	uint8_t op = *r->p++;
	uint64_t v = 0;
	unsigned n = op == 0x0a ? 1 : op == 0x0b ? 2 : op == 0x0c ? 4 : op == 0x0e ? 8 : 0;

	if (op == 0x00 || op == 0x01)
		return op;
	if (op == 0xff)
		return UINT64_MAX;
	assert_true(n != 0);
	memcpy(&v, r->p, n);
	r->p += n;
	return v;
}

/* A resource template: descriptors up to the end tag, which ends it. */
static void check_resources(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (*p == 0x79) {
			assert_ptr_equal(p + 2, end);
			return;
		}
		p += (*p & 0x80) ? 3 + (p[1] | p[2] << 8) : 1 + (*p & 7);
	}
	fail_msg("resource template without an end tag");
}

static void data_object(struct rd *r);

static void package(struct rd *r, unsigned *count)
{
	const uint8_t *start = r->p, *end;
	unsigned n;

	r->p++;
	end = r->p + pkglen(r);
	r->p += (*r->p >> 6) + 1;
	n = *r->p++;
	for (unsigned i = 0; i < n; i++)
		data_object(r);
	assert_ptr_equal(r->p, end);
	(void)start;
	if (count)
		*count = n;
}

static void data_object(struct rd *r)
{
	const uint8_t *end;
	uint64_t size;

	switch (*r->p) {
	case 0x12:
		package(r, NULL);
		return;
	case 0x0d:
		r->p += strlen((const char *)r->p + 1) + 2;
		return;
	case 0x11:
		r->p++;
		end = r->p + pkglen(r);
		r->p += (*r->p >> 6) + 1;
		size = read_int(r);
		assert_int_equal(size, (uint64_t)(end - r->p));
		check_resources(r->p, end);
		r->p = end;
		return;
	default:
		read_int(r);
	}
}

/* Name (X, obj): _PRT entries are checked against hw/pci.h, _S5 read. */
static void name_decl(struct rd *r)
{
	const uint8_t *name = ++r->p;
	const uint8_t *pk;
	unsigned n;

	skip_name(r);
	r->names++;
	if (memcmp(name, "_PRT", 4) == 0) {
		pk = r->p;
		package(r, &n);
		r->prt_entries = n;
		r->p = pk + 1;
		r->p += (*r->p >> 6) + 2;
		for (unsigned i = 0; i < n; i++) {
			uint64_t adr, pin, src, gsi;

			r->p += 1 + (*(r->p + 1) >> 6) + 1 + 1; /* op, pkglen, count */
			adr = read_int(r), pin = read_int(r), src = read_int(r), gsi = read_int(r);
			assert_int_equal(adr & 0xffff, 0xffff);
			assert_true(pin < 4 && src == 0);
			assert_int_equal(gsi, VS_PCI_INTX_GSI_BASE +
						      ((adr >> 16) + pin) % VS_PCI_INTX_GSIS);
		}
		return;
	}
	if (memcmp(name, "\\_S5", 4) == 0 || memcmp(name, "_S5_", 4) == 0) {
		pk = r->p;
		package(r, &n);
		assert_int_equal(n, 4);
		r->p = pk + 3;
		r->s5_typ = (unsigned)read_int(r);
		r->p = pk;
		package(r, NULL);
		return;
	}
	data_object(r);
}

static void term_list(struct rd *r, const uint8_t *end)
{
	const uint8_t *obj_end;

	while (r->p < end) {
		if (*r->p == 0x08) {
			name_decl(r);
			continue;
		}
		if (*r->p == 0x10)
			r->p++;
		else if (r->p[0] == 0x5b && r->p[1] == 0x82)
			r->p += 2;
		else
			fail_msg("unexpected AML opcode 0x%02x", *r->p);
		obj_end = r->p + pkglen(r);
		r->p += (*r->p >> 6) + 1;
		skip_name(r);
		term_list(r, obj_end);
		assert_ptr_equal(r->p, obj_end);
	}
	assert_ptr_equal(r->p, end);
}

static void check_dsdt(const uint8_t *t)
{
	struct rd r = { .p = t + 36, .end = t + rd32(t + 4) };

	term_list(&r, r.end);
	assert_int_equal(r.s5_typ, VS_ACPI_S5_TYP);
	assert_int_equal(r.prt_entries, (VS_PCI_MAX_SLOTS - 1) * 4);
	assert_non_null(memmem(t, rd32(t + 4), "PCI0", 4));
	assert_non_null(memmem(t, rd32(t + 4), "\x0dQEMU0001", 10)); /* pvpanic's _HID */
	assert_true(r.names >= 10);
}

static void check_fadt(const uint8_t *f)
{
	const uint8_t *facs, *dsdt;
	uint32_t flags = rd32(f + 112);

	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6); /* revision */
	assert_int_equal(rd64(f + 140), rd32(f + 40)); /* X_DSDT == DSDT */
	assert_int_equal(rd64(f + 132), rd32(f + 36)); /* X_FIRMWARE_CTRL == FIRMWARE_CTRL */
	facs = buf + (rd32(f + 36) - GPA);
	assert_int_equal((rd32(f + 36)) % 64, 0);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd32(facs + 4), 64);
	dsdt = table(rd32(f + 40), "DSDT");
	check_dsdt(dsdt);
	assert_int_equal(f[46] | f[47] << 8, VS_ACPI_SCI_IRQ);
	assert_int_equal(rd32(f + 48), 0); /* no SMI_CMD: always in ACPI mode */
	assert_int_equal(rd32(f + 56), VS_ACPI_PM1A_EVT);
	assert_int_equal(rd32(f + 64), VS_ACPI_PM1A_CNT);
	assert_int_equal(f[88], VS_ACPI_PM1_EVT_LEN);
	assert_int_equal(f[89], VS_ACPI_PM1_CNT_LEN);
	/* X_PM1a_EVT_BLK / X_PM1a_CNT_BLK: system I/O, same ports, bit widths */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 8 * VS_ACPI_PM1_EVT_LEN);
	assert_int_equal(rd64(f + 152), VS_ACPI_PM1A_EVT);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 8 * VS_ACPI_PM1_CNT_LEN);
	assert_int_equal(rd64(f + 176), VS_ACPI_PM1A_CNT);
	assert_int_equal(rd64(f + 208), 0); /* no PM timer */
	/* fixed power button (bit 4 clear), no sleep button, reset register */
	assert_int_equal(flags & (1u << 4), 0);
	assert_int_not_equal(flags & (1u << 5), 0);
	assert_int_not_equal(flags & (1u << 10), 0);
	assert_int_equal(f[116], 1); /* RESET_REG: system I/O */
	assert_int_equal(rd64(f + 120), 0xcf9);
	assert_int_equal(f[128], 6);
	assert_int_equal(f[109] & 2, 0); /* no 8042 */
	assert_int_equal(rd32(f + 268) | rd32(f + 272), 0); /* no hypervisor id */
}

static void check_madt(const uint8_t *m, unsigned ncpus)
{
	const uint8_t *e = m + 44, *end = m + rd32(m + 4);
	unsigned cpus = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(rd32(m + 36), VS_X86_LAPIC_ADDR);
	assert_int_equal(rd32(m + 40) & 1, 1); /* PC/AT PICs */
	for (; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		if (e[0] == 0) {
			assert_int_equal(e[3], cpus); /* APIC IDs 0..n-1, as the MP table */
			assert_int_equal(rd32(e + 4) & 1, 1);
			cpus++;
		} else if (e[0] == 1) {
			assert_int_equal(e[2], ncpus); /* the MP table's IOAPIC ID */
			assert_int_equal(rd32(e + 4), VS_X86_IOAPIC_ADDR);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
		} else if (e[0] == 2) {
			assert_int_equal(e[3], VS_ACPI_SCI_IRQ); /* only the SCI: level, high */
			assert_int_equal(rd32(e + 4), VS_ACPI_SCI_IRQ);
			assert_int_equal(e[8] | e[9] << 8, 0x0d);
			isos++;
		} else if (e[0] == 4) {
			assert_int_equal(e[5], 1); /* LINT1 = NMI, as the MP table */
			nmis++;
		} else {
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
	assert_int_equal(cpus, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static void check_all(unsigned ncpus)
{
	long n = vs_acpi_build(buf, sizeof(buf), GPA, ncpus);
	const uint8_t *x;
	uint32_t xlen;

	assert_true(n > 0 && (size_t)n <= sizeof(buf));
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(buf[15], 2);
	assert_int_equal(rd32(buf + 20), 36);
	assert_int_equal(sum(buf, 36), 0);
	x = table(rd64(buf + 24), "XSDT");
	xlen = rd32(x + 4);
	assert_int_equal(xlen, 36 + 2 * 8);
	check_fadt(table(rd64(x + 36), "FACP"));
	check_madt(table(rd64(x + 44), "APIC"), ncpus);
}

static void test_tables(void **state)
{
	(void)state;
	check_all(1);
	check_all(4);
	check_all(254);
}

static void test_limits(void **state)
{
	long n;

	(void)state;
	assert_int_equal(vs_acpi_build(buf, sizeof(buf), GPA, 0), -ENOSPC);
	assert_int_equal(vs_acpi_build(buf, sizeof(buf), GPA, 255), -ENOSPC);
	assert_int_equal(vs_acpi_build(buf, sizeof(buf), GPA + 8, 1), -EINVAL);
	n = vs_acpi_build(buf, sizeof(buf), GPA, 254);
	assert_true(n > 0 && n <= VS_X86_BIOS_START - VS_X86_ACPI_START);
	/* every length short of what is needed fails cleanly */
	for (long len = 0; len < n; len += 37)
		assert_int_equal(vs_acpi_build(buf, (size_t)len, GPA, 254), -ENOSPC);
	assert_int_equal(vs_acpi_build(buf, (size_t)n - 1, GPA, 254), -ENOSPC);
	assert_int_equal(vs_acpi_build(buf, (size_t)n, GPA, 254), n);
}

/* PkgLength at each encoding size boundary (1-4 bytes, ACPI §20.2.4). */
static void test_aml_pkglength(void **state)
{
	static uint8_t out[1 << 17];
	static const size_t bodies[] = { 0, 60, 61, 62, 63, 64, 4000, 4093, 4094, 70000 };
	struct vs_aml a;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct rd r;
		size_t len;

		vs_aml_init(&a, out, sizeof(out));
		vs_aml_buffer(&a);
		for (size_t k = 0; k + 2 < bodies[i]; k += 3)
			vs_aml_res_irq(&a, 3);
		vs_aml_res_end(&a);
		vs_aml_close(&a);
		assert_true(vs_aml_len(&a) > 0);
		r = (struct rd){ .p = out, .end = out + vs_aml_len(&a) };
		data_object(&r);
		assert_ptr_equal(r.p, r.end);
		len = (size_t)vs_aml_len(&a);
		assert_true(len > bodies[i]);
	}
	/* unclosed objects and overflow are reported */
	vs_aml_init(&a, out, sizeof(out));
	vs_aml_package(&a);
	assert_int_equal(vs_aml_len(&a), -ENOSPC);
	vs_aml_init(&a, out, 8);
	vs_aml_string(&a, "too long for eight bytes");
	assert_int_equal(vs_aml_len(&a), -ENOSPC);
}

static void test_aml_encodings(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
	} ints[] = { { 0, 1 },	 { 1, 1 },     { 2, 2 },	  { 255, 2 },
		     { 256, 3 }, { 65536, 5 }, { 1ull << 32, 9 }, { UINT64_MAX, 1 } };
	uint8_t out[64];
	struct vs_aml a;

	(void)state;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct rd r = { .p = out, .end = out + sizeof(out) };

		vs_aml_init(&a, out, sizeof(out));
		vs_aml_int(&a, ints[i].v);
		assert_int_equal(vs_aml_len(&a), ints[i].len);
		assert_true(read_int(&r) == ints[i].v);
	}
	vs_aml_init(&a, out, sizeof(out));
	vs_aml_eisaid(&a, "PNP0A03");
	assert_memory_equal(out, "\x0c\x41\xd0\x0a\x03", 5);
	vs_aml_init(&a, out, sizeof(out));
	vs_aml_name(&a, "\\_SB.PCI0.S1");
	assert_int_equal(vs_aml_len(&a), 3 + 12);
	assert_memory_equal(out, "\\\x2f\x03_SB_PCI0S1__", 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_aml_pkglength),
		cmocka_unit_test(test_aml_encodings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
