/* MP table writer (MP spec 1.4, chapter 4). Entries: one processor per
 * vCPU, PCI bus 0 and an ISA bus (id 1; the PCI bus's MP id must equal its
 * bus number), the IOAPIC, ISA IRQs 0-15 to IOAPIC pins 0-15 (the routing
 * KVM's in-kernel irqchip uses by default), every PCI slot's INTA-INTD to
 * the IOAPIC pins hw/pci.h routes them to (level, active high), and
 * LINT0=ExtINT, LINT1=NMI. */
#include "vmm/arch/x86/mptable.h"
#include "vmm/arch/x86/layout.h"
#include "hw/pci.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define MP_SPEC_REV 4
#define MP_LAPIC_VER 0x14
#define MP_IOAPIC_VER 0x11
#define MP_ISA_IRQS 16
#define MP_PCI_BUS 0
#define MP_ISA_BUS 1
#define MP_PCI_INTS ((VS_PCI_MAX_SLOTS - 1) * 4) /* slots 1-31, INTA-INTD */
#define MP_IRQ_LEVEL_HIGH 0x0d /* polarity 01 active high, trigger 11 level */
#define MP_CPU_EN 0x01
#define MP_CPU_BP 0x02
#define MP_CPU_SIG 0x600 /* family 6 */
#define MP_CPU_FEATURES 0x201 /* FPU, APIC */

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

struct mpf {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_header {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature_sig;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

static_assert(sizeof(struct mpf) == 16, "MP floating pointer");
static_assert(sizeof(struct mpc_header) == 44, "MP config header");
static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry");
static_assert(sizeof(struct mpc_bus) == 8, "MP bus entry");
static_assert(sizeof(struct mpc_ioapic) == 8, "MP IOAPIC entry");
static_assert(sizeof(struct mpc_intsrc) == 8, "MP interrupt entry");

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

size_t vs_mptable_size(unsigned ncpus)
{
	return sizeof(struct mpf) + sizeof(struct mpc_header) + ncpus * sizeof(struct mpc_cpu) +
	       2 * sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (MP_ISA_IRQS + MP_PCI_INTS + 2) * sizeof(struct mpc_intsrc);
}

static uint8_t *put_intsrc(uint8_t *p, uint8_t type, uint8_t irqtype, uint8_t irq, uint8_t dst,
			   uint8_t pin)
{
	struct mpc_intsrc e = { .type = type,
				.irqtype = irqtype,
				.srcbus = MP_ISA_BUS,
				.srcbusirq = irq,
				.dstapic = dst,
				.dstirq = pin };

	if (type == MP_LINTSRC)
		e.srcbus = 0;
	memcpy(p, &e, sizeof(e));
	return p + sizeof(e);
}

/* PCI interrupt entries: source IRQ is (slot << 2) | (pin - 1) (MP 1.4
 * §4.3.4), the destination the pin vs_pci_intx_gsi() raises. */
static uint8_t *put_pci_ints(uint8_t *p, uint8_t ioapic_id)
{
	for (unsigned slot = 1; slot < VS_PCI_MAX_SLOTS; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			struct mpc_intsrc e = {
				.type = MP_INTSRC,
				.irqtype = MP_INT,
				.irqflag = MP_IRQ_LEVEL_HIGH,
				.srcbus = MP_PCI_BUS,
				.srcbusirq = (uint8_t)(slot << 2 | (pin - 1)),
				.dstapic = ioapic_id,
				.dstirq = (uint8_t)(VS_PCI_INTX_GSI_BASE +
						    (slot + pin - 1) % VS_PCI_INTX_GSIS),
			};

			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
		}
	}
	return p;
}

int vs_mptable_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned ncpus)
{
	struct mpf mpf = { .signature = { '_', 'M', 'P', '_' },
			   .length = 1,
			   .specification = MP_SPEC_REV };
	struct mpc_header h = { .signature = { 'P', 'C', 'M', 'P' },
				.spec = MP_SPEC_REV,
				.lapic = VS_X86_LAPIC_ADDR };
	uint8_t *start = buf + sizeof(mpf), *p = start + sizeof(h);
	uint8_t ioapic_id = (uint8_t)ncpus;

	if (len < vs_mptable_size(ncpus) || ncpus == 0 || ncpus > 254)
		return -ENOSPC;
	memset(buf, 0, vs_mptable_size(ncpus));
	for (unsigned i = 0; i < ncpus; i++) {
		struct mpc_cpu c = { .type = MP_PROCESSOR,
				     .apicid = (uint8_t)i,
				     .apicver = MP_LAPIC_VER,
				     .cpuflag = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0),
				     .cpufeature_sig = MP_CPU_SIG,
				     .featureflag = MP_CPU_FEATURES };

		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	memcpy(p, &(struct mpc_bus){ .type = MP_BUS, .busid = MP_PCI_BUS, .bustype = "PCI   " },
	       sizeof(struct mpc_bus));
	p += sizeof(struct mpc_bus);
	memcpy(p, &(struct mpc_bus){ .type = MP_BUS, .busid = MP_ISA_BUS, .bustype = "ISA   " },
	       sizeof(struct mpc_bus));
	p += sizeof(struct mpc_bus);
	memcpy(p,
	       &(struct mpc_ioapic){ .type = MP_IOAPIC,
				     .apicid = ioapic_id,
				     .apicver = MP_IOAPIC_VER,
				     .flags = 1,
				     .apicaddr = VS_X86_IOAPIC_ADDR },
	       sizeof(struct mpc_ioapic));
	p += sizeof(struct mpc_ioapic);
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++)
		p = put_intsrc(p, MP_INTSRC, MP_INT, irq, ioapic_id, irq);
	p = put_pci_ints(p, ioapic_id);
	p = put_intsrc(p, MP_LINTSRC, MP_EXTINT, 0, 0xff, 0);
	p = put_intsrc(p, MP_LINTSRC, MP_NMI, 0, 0xff, 1);
	memcpy(h.oem, "VESSEL  ", 8);
	memcpy(h.product, "VESSEL-VM   ", 12);
	h.length = (uint16_t)(p - start);
	h.count = (uint16_t)(ncpus + 3 + MP_ISA_IRQS + MP_PCI_INTS + 2);
	memcpy(start, &h, sizeof(h));
	start[offsetof(struct mpc_header, checksum)] = checksum(start, h.length);
	mpf.physptr = (uint32_t)(gpa + sizeof(mpf));
	mpf.checksum = checksum(&mpf, sizeof(mpf));
	memcpy(buf, &mpf, sizeof(mpf));
	return (int)(p - buf);
}
