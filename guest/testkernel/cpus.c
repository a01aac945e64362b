/* cpus.c - MP table (Intel MP spec 1.4 ch. 4) and ACPI MADT (ACPI 6.x §5.2.12) parsing. */
#include "cpus.h"

#include "arch.h"
#include "boot.h"
#include "lib.h"

#define BDA_EBDA_SEG 0x40E
#define BDA_BASE_KIB 0x413
#define BIOS_ROM_START 0xE0000
#define BIOS_ROM_END 0x100000

#define MPC_ENTRY_COUNT 34
#define MPC_HEADER_SIZE 44
#define MPC_PROCESSOR 0
#define MPC_CPU_ENABLED 1
#define MPC_CPU_BSP 2

#define ACPI_HDR_SIZE 36
#define MADT_ENTRIES 44
#define MADT_LAPIC 0
#define MADT_X2APIC 9

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Finds a @len-byte structure starting with @sig on a 16-byte boundary in
 * [start, end) whose bytes sum to 0. Returns its address or 0. The loop is
 * a 4-byte compare per step: where KVM emulates CPL0, scanning the 128 KiB
 * BIOS area with memcmp() took ~0.2 s. */
static uint64_t scan(uint64_t start, uint64_t end, const char *sig, size_t len)
{
	uint32_t sig4 = get_le32(sig);
	size_t siglen = strlen(sig);

	for (uint64_t a = start; a + len <= end; a += 16) {
		const uint8_t *p = phys(a);

		if (*(const uint32_t *)p == sig4 && !memcmp(p, sig, siglen) && !checksum(p, len))
			return a;
	}
	return 0;
}

/* The MP spec's three places, in its order. @len: bytes to checksum. */
static uint64_t scan_bios_areas(const char *sig, size_t len, uint64_t rom_start)
{
	uint64_t ebda = (uint64_t)get_le16(phys(BDA_EBDA_SEG)) << 4;
	uint64_t base_top = (uint64_t)get_le16(phys(BDA_BASE_KIB)) * 1024;
	uint64_t a = 0;

	/* A VMM without a BIOS may leave the BDA zero: then, like Linux, also
	 * try the first KiB and the KiB below 640 KiB. */
	if (base_top < 1024 || base_top > 0xA0000)
		base_top = 0xA0000;
	if (ebda >= 0x400 && ebda < 0xA0000)
		a = scan(ebda, ebda + 1024, sig, len);
	if (!a)
		a = scan(base_top - 1024, base_top, sig, len);
	if (!a)
		a = scan(0, 1024, sig, len);
	if (!a)
		a = scan(rom_start, BIOS_ROM_END, sig, len);
	return a;
}

static void add_cpu(struct cpu_list *out, uint32_t apic_id, bool bsp)
{
	if (out->count >= TK_MAX_CPUS)
		return;
	if (bsp)
		out->bsp = out->count;
	out->apic_id[out->count++] = apic_id;
}

static int parse_mptable(struct cpu_list *out)
{
	uint64_t mpf = scan_bios_areas("_MP_", 16, 0xF0000);
	const uint8_t *f, *t, *e;
	uint16_t n;

	if (!mpf)
		return -1;
	f = phys(mpf);
	if (f[11]) { /* a default configuration: two CPUs, APIC ids 0 and 1 */
		out->source = "mptable-default";
		add_cpu(out, 0, true);
		add_cpu(out, 1, false);
		return 0;
	}
	t = phys(get_le32(f + 4));
	if (!get_le32(f + 4) || memcmp(t, "PCMP", 4) || checksum(t, get_le16(t + 4)))
		return -1;
	out->source = "mptable";
	n = get_le16(t + MPC_ENTRY_COUNT);
	e = t + MPC_HEADER_SIZE;
	for (uint16_t i = 0; i < n && e < t + get_le16(t + 4); i++) {
		if (e[0] != MPC_PROCESSOR) {
			e += 8;
			continue;
		}
		if (e[3] & MPC_CPU_ENABLED)
			add_cpu(out, e[1], e[3] & MPC_CPU_BSP);
		e += 20;
	}
	return 0;
}

static uint64_t find_table(uint64_t rsdp, const char *sig)
{
	const uint8_t *r = phys(rsdp);
	bool x = r[15] >= 2 && get_le64(r + 24);
	const uint8_t *sdt = phys(x ? get_le64(r + 24) : get_le32(r + 16));
	uint32_t len = get_le32(sdt + 4), step = x ? 8 : 4;

	for (uint32_t off = ACPI_HDR_SIZE; off + step <= len; off += step) {
		uint64_t a = x ? get_le64(sdt + off) : get_le32(sdt + off);

		if (a && !memcmp(phys(a), sig, 4))
			return a;
	}
	return 0;
}

static int parse_madt(struct cpu_list *out)
{
	uint64_t rsdp = boot.rsdp ? boot.rsdp : scan_bios_areas("RSD PTR ", 20, BIOS_ROM_START);
	uint64_t madt_pa;
	const uint8_t *m, *e;

	if (!rsdp || !(madt_pa = find_table(rsdp, "APIC")))
		return -1;
	m = phys(madt_pa);
	out->source = "madt";
	for (e = m + MADT_ENTRIES; e + 2 <= m + get_le32(m + 4) && e[1]; e += e[1]) {
		/* No BSP flag in the MADT: the firmware lists the BSP first. */
		if (e[0] == MADT_LAPIC && (get_le32(e + 4) & 1))
			add_cpu(out, e[3], out->count == 0);
		else if (e[0] == MADT_X2APIC && (get_le32(e + 8) & 1))
			add_cpu(out, get_le32(e + 4), out->count == 0);
	}
	return 0;
}

int cpus_find(struct cpu_list *out)
{
	static struct cpu_list madt;

	*out = (struct cpu_list){ .source = "none (no MP table, no MADT)", .bsp = -1 };
	madt = *out;
	if (parse_mptable(out))
		*out = (struct cpu_list){ .source = "none (no MP table, no MADT)", .bsp = -1 };
	/* SeaBIOS' MP table may list only the BSP (QEMU q35): then, if the MADT
	 * knows more CPUs, it wins. */
	if (out->count <= 1 && !parse_madt(&madt) && madt.count > out->count)
		*out = madt;
	return out->count ? 0 : -1;
}
