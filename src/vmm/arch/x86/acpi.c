/* ACPI table writer (acpi.h). Layout from gpa: RSDP, FACS (64-byte
 * aligned), XSDT, FADT, MADT, DSDT, each 16-byte aligned. Field layouts:
 * ACPI 6.4 §5.2.5 (RSDP), §5.2.6 (header), §5.2.8 (XSDT), §5.2.9 (FADT),
 * §5.2.10 (FACS), §5.2.12 (MADT), §5.2.3.2 (GAS).
 *
 * Map: structures - header and checksum helpers - FADT - MADT - DSDT -
 * vs_acpi_build(). */
#include "vmm/arch/x86/acpi.h"
#include "vmm/arch/x86/aml.h"
#include "vmm/arch/x86/layout.h"
#include "vmm/memory.h"
#include "hw/acpi-pm.h"
#include "hw/pci.h"
#include "hw/pvpanic.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ACPI_OEM_ID "VESSEL"
#define ACPI_OEM_TABLE "VESSELVM"
#define ACPI_CREATOR "VSSL"
#define ACPI_ALIGN 16
#define FACS_ALIGN 64

struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char sig[8]; /* "RSD PTR " */
	uint8_t checksum; /* of the first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 2: ACPI 2.0+ with an XSDT */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum; /* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space; /* 1: system I/O */
	uint8_t bit_width, bit_offset, access_size; /* access size 2: word */
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t facs, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_facs, x_dsdt;
	struct acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt, x_pm2_cnt, x_pm_tmr;
	struct acpi_gas x_gpe0, x_gpe1, sleep_control, sleep_status;
	uint64_t hypervisor_id;
} __attribute__((packed));

struct acpi_facs {
	char sig[4];
	uint32_t length;
	uint32_t hw_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version, reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");
static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
static_assert(sizeof(struct acpi_gas) == 12, "generic address structure");
static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
static_assert(sizeof(struct acpi_facs) == 64, "FACS");
static_assert(sizeof(struct madt_lapic) == 8 && sizeof(struct madt_ioapic) == 12 &&
		      sizeof(struct madt_iso) == 10 && sizeof(struct madt_nmi) == 6,
	      "MADT entries");

/* FADT Flags (§5.2.9 table 5.10) and IA-PC boot architecture flags (§5.2.9.3). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6) /* set: no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0) /* ISA devices (COM1, RTC) exist */
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_ASPM (1u << 4)
/* No 8042 bit: Linux then skips probing a keyboard controller (the reset
 * line at port 0x64 still works, hw/legacy.c). */
#define FADT_C2_NONE 101 /* latency > 100 us: C2 unsupported */
#define FADT_C3_NONE 1001 /* latency > 1000 us: C3 unsupported */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_BYTE 1
#define RESET_PORT 0xcf9
#define RESET_VALUE 0x06 /* CPU reset (bit 2) and system reset (bit 1) */
#define RTC_CENTURY_INDEX 0x32

#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC_ENABLED 1u
#define MADT_ISO_LEVEL_HIGH 0x000d /* polarity 01 active high, trigger 11 level */
#define MADT_ALL_CPUS 0xff
#define MADT_LINT1 1
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_NMI = 4 };

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* Writes a table header at p. Built in a local and copied: an earlier
 * version stored through a pointer to the packed header nested in the FADT
 * and gcc 12 -O2 lost those stores once inlined (UBSan and ASan found
 * nothing; test-acpi.c caught the blank header). */
static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	struct acpi_header h = {
		.length = len, .revision = rev, .oem_revision = 1, .creator_revision = 1
	};

	memcpy(h.sig, sig, 4);
	memcpy(h.oem_id, ACPI_OEM_ID, 6);
	memcpy(h.oem_table_id, ACPI_OEM_TABLE, 8);
	memcpy(h.creator_id, ACPI_CREATOR, 4);
	memcpy(p, &h, sizeof(h));
}

/* The table at p has its header's length; sets its checksum. */
static void seal(uint8_t *p)
{
	struct acpi_header h;

	memcpy(&h, p, sizeof(h));
	p[offsetof(struct acpi_header, checksum)] = 0;
	p[offsetof(struct acpi_header, checksum)] = checksum(p, h.length);
}

static struct acpi_gas io_gas(uint16_t port, unsigned bytes, uint8_t access)
{
	return (struct acpi_gas){ .space = GAS_SYSTEM_IO,
				  .bit_width = (uint8_t)(8 * bytes),
				  .access_size = access,
				  .address = port };
}

static void build_fadt(uint8_t *p, uint64_t facs, uint64_t dsdt)
{
	struct acpi_fadt f = { 0 };

	f.minor_revision = 4;
	f.facs = (uint32_t)facs;
	f.dsdt = (uint32_t)dsdt;
	f.x_facs = facs;
	f.x_dsdt = dsdt;
	f.sci_int = VS_ACPI_SCI_IRQ;
	f.pm1a_evt = VS_ACPI_PM1A_EVT;
	f.pm1a_cnt = VS_ACPI_PM1A_CNT;
	f.pm1_evt_len = VS_ACPI_PM1_EVT_LEN;
	f.pm1_cnt_len = VS_ACPI_PM1_CNT_LEN;
	f.x_pm1a_evt = io_gas(VS_ACPI_PM1A_EVT, VS_ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD);
	f.x_pm1a_cnt = io_gas(VS_ACPI_PM1A_CNT, VS_ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD);
	f.p_lvl2_lat = FADT_C2_NONE;
	f.p_lvl3_lat = FADT_C3_NONE;
	f.century = RTC_CENTURY_INDEX;
	f.iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_ASPM;
	f.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_RESET_REG_SUP;
	f.reset_reg = io_gas(RESET_PORT, 1, GAS_ACCESS_BYTE);
	f.reset_value = RESET_VALUE;
	memcpy(p, &f, sizeof(f));
	header(p, "FACP", sizeof(f), 6);
	seal(p);
}

static size_t madt_size(unsigned ncpus)
{
	return sizeof(struct acpi_header) + 8 + ncpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + sizeof(struct madt_iso) + sizeof(struct madt_nmi);
}

static void build_madt(uint8_t *p, unsigned ncpus)
{
	uint32_t lapic = VS_X86_LAPIC_ADDR, flags = MADT_PCAT_COMPAT;
	uint8_t *e = p + sizeof(struct acpi_header) + 8;

	header(p, "APIC", (uint32_t)madt_size(ncpus), 5);
	memcpy(p + sizeof(struct acpi_header), &lapic, 4);
	memcpy(p + sizeof(struct acpi_header) + 4, &flags, 4);
	for (unsigned i = 0; i < ncpus; i++, e += sizeof(struct madt_lapic))
		memcpy(e,
		       &(struct madt_lapic){ MADT_LAPIC, sizeof(struct madt_lapic), (uint8_t)i,
					     (uint8_t)i, MADT_LAPIC_ENABLED },
		       sizeof(struct madt_lapic));
	memcpy(e,
	       &(struct madt_ioapic){ MADT_IOAPIC, sizeof(struct madt_ioapic), (uint8_t)ncpus, 0,
				      VS_X86_IOAPIC_ADDR, 0 },
	       sizeof(struct madt_ioapic));
	e += sizeof(struct madt_ioapic);
	memcpy(e,
	       &(struct madt_iso){ MADT_ISO, sizeof(struct madt_iso), 0, VS_ACPI_SCI_IRQ,
				   VS_ACPI_SCI_IRQ, MADT_ISO_LEVEL_HIGH },
	       sizeof(struct madt_iso));
	e += sizeof(struct madt_iso);
	memcpy(e,
	       &(struct madt_nmi){ MADT_NMI, sizeof(struct madt_nmi), MADT_ALL_CPUS, 0,
				   MADT_LINT1 },
	       sizeof(struct madt_nmi));
	seal(p);
}

/* _PRT (ACPI 6.4 §6.2.13): slot s pin p (0 = INTA) -> the GSI hw/pci.h
 * raises, VS_PCI_INTX_GSI_BASE + (s + p) % VS_PCI_INTX_GSIS (its pin
 * numbers start at 1). Source 0 means "a GSI, not a link device": Linux
 * then programs the pin level-triggered, active low; both interrupt
 * controllers treat lines as logical levels, so polarity does not matter. */
static void dsdt_prt(struct vs_aml *a)
{
	vs_aml_name_decl(a, "_PRT");
	vs_aml_package(a);
	for (unsigned slot = 1; slot < VS_PCI_MAX_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			vs_aml_package(a);
			vs_aml_int(a, (uint64_t)slot << 16 | 0xffff); /* _ADR: any function */
			vs_aml_int(a, pin);
			vs_aml_int(a, 0);
			vs_aml_int(a, VS_PCI_INTX_GSI_BASE + (slot + pin) % VS_PCI_INTX_GSIS);
			vs_aml_close(a);
		}
	}
	vs_aml_close(a);
}

/* \_SB.PCI0: bus 0-255, config ports, I/O below and above them, and the
 * 32-bit hole below the IOAPIC where the VMM puts BARs. */
static void dsdt_pci0(struct vs_aml *a)
{
	vs_aml_device(a, "PCI0");
	vs_aml_name_decl(a, "_HID");
	vs_aml_eisaid(a, "PNP0A03");
	vs_aml_name_decl(a, "_UID");
	vs_aml_int(a, 0);
	vs_aml_name_decl(a, "_ADR");
	vs_aml_int(a, 0);
	vs_aml_name_decl(a, "_CRS");
	vs_aml_buffer(a);
	vs_aml_res_word_bus(a, 0, 0xff);
	vs_aml_res_io(a, VS_PCI_CONFIG_ADDR, 8);
	vs_aml_res_word_io(a, 0, VS_PCI_CONFIG_ADDR - 1);
	vs_aml_res_word_io(a, VS_PCI_CONFIG_ADDR + 8, 0xffff);
	vs_aml_res_dword_mem(a, (uint32_t)VS_MEM_HOLE_START, VS_X86_IOAPIC_ADDR - 1);
	vs_aml_res_end(a);
	vs_aml_close(a);
	dsdt_prt(a);
	vs_aml_close(a);
}

/* An ISA device: _HID, _UID and _CRS = one I/O range and one IRQ. */
static void dsdt_isa(struct vs_aml *a, const char *name, const char *hid, uint16_t port,
		     uint8_t len, unsigned irq)
{
	vs_aml_device(a, name);
	vs_aml_name_decl(a, "_HID");
	vs_aml_eisaid(a, hid);
	vs_aml_name_decl(a, "_UID");
	vs_aml_int(a, 1);
	vs_aml_name_decl(a, "_CRS");
	vs_aml_buffer(a);
	vs_aml_res_io(a, port, len);
	vs_aml_res_irq(a, irq);
	vs_aml_res_end(a);
	vs_aml_close(a);
	vs_aml_close(a);
}

/* QEMU's ISA pvpanic device (hw/pvpanic.h): _HID is a string, not an EISA ID. */
static void dsdt_pvpanic(struct vs_aml *a)
{
	vs_aml_device(a, "PEVT");
	vs_aml_name_decl(a, "_HID");
	vs_aml_string(a, "QEMU0001");
	vs_aml_name_decl(a, "_CRS");
	vs_aml_buffer(a);
	vs_aml_res_io(a, VS_PVPANIC_PORT, 1);
	vs_aml_res_end(a);
	vs_aml_close(a);
	vs_aml_close(a);
}

/* Returns the DSDT's length or -ENOSPC. The AML is encoded in a scratch
 * buffer first: the encoder needs a few bytes of slack while a PkgLength is
 * open, and a caller's exactly-sized buffer must still work. */
static long build_dsdt(uint8_t *p, size_t room)
{
	uint8_t aml[VS_ACPI_MAX_SIZE];
	struct acpi_header h;
	struct vs_aml a;
	long n;

	vs_aml_init(&a, aml, sizeof(aml));
	/* \_S5: SLP_TYP for PM1a and PM1b, two reserved (§7.4.2) */
	vs_aml_name_decl(&a, "\\_S5");
	vs_aml_package(&a);
	vs_aml_int(&a, VS_ACPI_S5_TYP);
	vs_aml_int(&a, VS_ACPI_S5_TYP);
	vs_aml_int(&a, 0);
	vs_aml_int(&a, 0);
	vs_aml_close(&a);
	vs_aml_scope(&a, "\\_SB");
	dsdt_pci0(&a);
	dsdt_isa(&a, "COM1", "PNP0501", 0x3f8, 8, 4);
	dsdt_isa(&a, "RTC", "PNP0B00", 0x70, 2, 8);
	dsdt_pvpanic(&a);
	vs_aml_close(&a);
	if ((n = vs_aml_len(&a)) < 0)
		return n;
	if (room < sizeof(h) + (size_t)n)
		return -ENOSPC;
	memcpy(p + sizeof(h), aml, (size_t)n);
	header(p, "DSDT", (uint32_t)(sizeof(h) + (size_t)n), 2);
	seal(p);
	return (long)sizeof(h) + n;
}

static size_t align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void build_rsdp(uint8_t *p, uint64_t xsdt)
{
	struct acpi_rsdp r = { .revision = 2, .length = sizeof(r), .xsdt = xsdt };

	memcpy(r.sig, "RSD PTR ", 8);
	memcpy(r.oem_id, ACPI_OEM_ID, 6);
	r.checksum = checksum(&r, 20);
	r.ext_checksum = checksum(&r, sizeof(r));
	memcpy(p, &r, sizeof(r));
}

long vs_acpi_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned ncpus)
{
	size_t facs = align(sizeof(struct acpi_rsdp), FACS_ALIGN);
	size_t xsdt = facs + sizeof(struct acpi_facs);
	size_t fadt = align(xsdt + sizeof(struct acpi_header) + 2 * 8, ACPI_ALIGN);
	size_t madt = align(fadt + sizeof(struct acpi_fadt), ACPI_ALIGN);
	size_t dsdt = align(madt + madt_size(ncpus), ACPI_ALIGN);
	struct acpi_facs f = { .sig = { 'F', 'A', 'C', 'S' }, .length = sizeof(f), .version = 2 };
	struct acpi_header h = { 0 };
	uint64_t ent[2] = { gpa + fadt, gpa + madt };
	long n;

	if (gpa % FACS_ALIGN)
		return -EINVAL;
	if (ncpus == 0 || ncpus > 254 || len < dsdt)
		return -ENOSPC;
	memset(buf, 0, dsdt);
	if ((n = build_dsdt(buf + dsdt, len - dsdt)) < 0)
		return n;
	memcpy(buf + facs, &f, sizeof(f));
	header(buf + xsdt, "XSDT", (uint32_t)(sizeof(h) + sizeof(ent)), 1);
	memcpy(buf + xsdt + sizeof(h), ent, sizeof(ent));
	seal(buf + xsdt);
	build_fadt(buf + fadt, gpa + facs, gpa + dsdt);
	build_madt(buf + madt, ncpus);
	build_rsdp(buf, gpa + xsdt);
	return (long)dsdt + n;
}
