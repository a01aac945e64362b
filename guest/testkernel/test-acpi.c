/* test-acpi.c - the VMM's ACPI tables and PM1 hardware, as an OSPM sees them.
 *
 * acpi         finds the RSDP by scanning the BIOS area (as Linux does) and
 *              checks it is the one boot_params.acpi_rsdp_addr names; walks
 *              RSDP -> XSDT -> FADT (-> DSDT, FACS) and MADT, checking every
 *              signature, length and checksum; prints the PM1 ports, the
 *              SCI, the MADT's CPUs/IOAPIC and the _S5 sleep type.
 * acpi-poweroff enters S5 the way Linux's acpi_power_off() does (SLP_TYP
 *              from \_S5, then SLP_EN in PM1a_CNT): the VM must power off.
 * acpi-button  enables the fixed power button, routes the SCI (IOAPIC pin
 *              from the FADT, level-triggered) and sleeps until the VMM
 *              presses the button (`vessel vm stop`); the SCI handler sees
 *              PM1_STS.PWRBTN_STS, clears it, and the guest powers off
 *              through S5. Ignores vessel's private button (port 0x504).
 * pvpanic      reads the pvpanic port of the DSDT's QEMU0001 (0x505): it must
 *              offer PANICKED; writes PANICKED, which must stop the VM as a
 *              guest crash (status 124). */
#include "apic.h"
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"
#include "tsc.h"

#define BIOS_SCAN_START 0xE0000
#define BIOS_SCAN_END 0x100000
#define PM1_PWRBTN 0x0100
#define PM1_SCI_EN 0x0001
#define PM1_SLP_EN 0x2000
#define PM1_SLP_TYP_SHIFT 10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define IOAPIC_LEVEL (1u << 15)
#define TK_VEC_SCI 0x2C
#define S5_GRACE_US 200000

struct acpi_info {
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
	uint16_t pm1a_evt, pm1a_cnt, sci;
	int s5; /* SLP_TYP of \_S5, -1 if absent */
};

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static bool memmem_tk(const uint8_t *p, uint32_t n, const char *s)
{
	size_t k = strlen(s);

	for (uint32_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return true;
	return false;
}

static const uint8_t *find_rsdp(void)
{
	for (uint64_t a = BIOS_SCAN_START; a < BIOS_SCAN_END; a += 16) {
		const uint8_t *p = phys(a);

		if (memcmp(p, "RSD PTR ", 8) == 0 && sum(p, 20) == 0)
			return p;
	}
	return NULL;
}

/* The table at physical address pa if its signature and checksum hold. */
static const uint8_t *table(uint64_t pa, const char *sig)
{
	const uint8_t *t;

	if (pa == 0 || pa >= 0x100000000ull)
		return NULL;
	t = phys(pa);
	if (memcmp(t, sig, 4) != 0 || rd32(t + 4) < 36 || sum(t, rd32(t + 4)) != 0)
		return NULL;
	return t;
}

/* \_S5: NameOp '\' "_S5_" PackageOp PkgLength NumElements, then an integer
 * (ZeroOp/OneOp or BytePrefix N). */
static int find_s5(const uint8_t *dsdt)
{
	uint32_t len = rd32(dsdt + 4);

	for (uint32_t i = 36; i + 8 < len; i++) {
		const uint8_t *p = dsdt + i;

		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		p += 5 + (p[5] >> 6) + 2; /* PackageOp, PkgLength, NumElements */
		return *p == 0x0A ? p[1] : *p <= 1 ? *p : -1;
	}
	return -1;
}

static int acpi_walk(struct acpi_info *ai)
{
	uint32_t n;

	ai->rsdp = find_rsdp();
	if (!ai->rsdp)
		return test_fail("no RSDP in 0x%x-0x%x", BIOS_SCAN_START, BIOS_SCAN_END);
	if (ai->rsdp[15] < 2 || sum(ai->rsdp, rd32(ai->rsdp + 20)) != 0)
		return test_fail("RSDP revision %u or extended checksum wrong", ai->rsdp[15]);
	if (boot.rsdp && boot.rsdp != (uint64_t)(uintptr_t)ai->rsdp)
		return test_fail("boot_params RSDP 0x%lx, scan found %p", boot.rsdp, ai->rsdp);
	if (!(ai->xsdt = table(rd64(ai->rsdp + 24), "XSDT")))
		return test_fail("XSDT missing or bad checksum");
	n = (rd32(ai->xsdt + 4) - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = rd64(ai->xsdt + 36 + 8 * i);

		ai->fadt = ai->fadt ? ai->fadt : table(pa, "FACP");
		ai->madt = ai->madt ? ai->madt : table(pa, "APIC");
	}
	if (!ai->fadt || !ai->madt)
		return test_fail("XSDT (%u entries) lacks a valid FADT or MADT", n);
	if (!(ai->dsdt = table(rd64(ai->fadt + 140), "DSDT")) ||
	    rd64(ai->fadt + 140) != rd32(ai->fadt + 40))
		return test_fail("DSDT missing, bad checksum or X_DSDT != DSDT");
	if (memcmp(phys(rd64(ai->fadt + 132)), "FACS", 4) != 0)
		return test_fail("no FACS at X_FIRMWARE_CTRL");
	ai->sci = (uint16_t)(ai->fadt[46] | ai->fadt[47] << 8);
	ai->pm1a_evt = (uint16_t)rd64(ai->fadt + 152);
	ai->pm1a_cnt = (uint16_t)rd64(ai->fadt + 176);
	ai->s5 = find_s5(ai->dsdt);
	return 0;
}

int test_acpi(const char *arg)
{
	struct acpi_info ai = { 0 };
	unsigned cpus = 0, ioapic_id = 0xff;
	const uint8_t *e, *end;
	uint16_t cnt;

	(void)arg;
	if (acpi_walk(&ai) < 0)
		return -1;
	end = ai.madt + rd32(ai.madt + 4);
	for (e = ai.madt + 44; e + 2 <= end && e[1] >= 2; e += e[1]) {
		cpus += e[0] == 0 && (rd32(e + 4) & 1);
		if (e[0] == 1)
			ioapic_id = e[2];
	}
	if (e != end)
		return test_fail("MADT entries overrun the table");
	cnt = inw(ai.pm1a_cnt);
	kprintf("acpi: rsdp=%p boot_params=0x%lx xsdt=%p fadt=%p madt=%p dsdt=%p\n", ai.rsdp,
		boot.rsdp, ai.xsdt, ai.fadt, ai.madt, ai.dsdt);
	kprintf("acpi: pm1a_evt=0x%x pm1a_cnt=0x%x sci=%u s5=%d sci_en=%u\n", ai.pm1a_evt,
		ai.pm1a_cnt, ai.sci, ai.s5, cnt & PM1_SCI_EN);
	kprintf("acpi: madt cpus=%u ioapic=%u\n", cpus, ioapic_id);
	if (!(cnt & PM1_SCI_EN))
		return test_fail("PM1a_CNT.SCI_EN is clear (the FADT has no SMI_CMD)");
	if (ai.s5 < 0)
		return test_fail("no \\_S5 in the DSDT");
	return 0;
}

/* Linux's acpi_enter_sleep_state(5): SLP_TYP, then SLP_TYP | SLP_EN. */
static int enter_s5(const struct acpi_info *ai)
{
	uint16_t typ = (uint16_t)(ai->s5 << PM1_SLP_TYP_SHIFT);
	uint64_t end;

	outw(ai->pm1a_cnt, typ | PM1_SCI_EN);
	outw(ai->pm1a_cnt, typ | PM1_SCI_EN | PM1_SLP_EN);
	end = tsc_deadline(S5_GRACE_US);
	while (rdtsc() < end)
		cpu_pause();
	return test_fail("still running %u ms after S5 (SLP_TYP=%d)", S5_GRACE_US / 1000, ai->s5);
}

int test_acpi_poweroff(const char *arg)
{
	struct acpi_info ai = { 0 };

	(void)arg;
	if (acpi_walk(&ai) < 0)
		return -1;
	if (ai.s5 < 0)
		return test_fail("no \\_S5 in the DSDT");
	kprintf("acpi-poweroff: S5 through port 0x%x\n", ai.pm1a_cnt);
	return enter_s5(&ai);
}

static volatile unsigned sci_count;
static volatile uint16_t sci_pm1a_evt;

static void sci_isr(struct isr_frame *f)
{
	uint16_t sts = inw(sci_pm1a_evt);

	(void)f;
	if (sts & PM1_PWRBTN) {
		outw(sci_pm1a_evt, PM1_PWRBTN); /* write 1 to clear: the line drops */
		sci_count++;
	}
	lapic_eoi();
}

int test_acpi_button(const char *arg)
{
	struct acpi_info ai = { 0 };

	(void)arg;
	if (acpi_walk(&ai) < 0)
		return -1;
	sci_pm1a_evt = ai.pm1a_evt;
	pic_disable();
	lapic_enable();
	idt_set_handler(TK_VEC_SCI, sci_isr);
	outw(ai.pm1a_evt, PM1_PWRBTN); /* a stale press */
	ioapic_write(IOAPIC_REDTBL(ai.sci) + 1, bsp_apic_id << 24);
	ioapic_write(IOAPIC_REDTBL(ai.sci), IOAPIC_LEVEL | TK_VEC_SCI);
	outw(ai.pm1a_evt + 2, PM1_PWRBTN);
	kprintf("acpi-button: waiting for the power button (SCI on IOAPIC pin %u)\n", ai.sci);
	while (!sci_count)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	ioapic_mask(ai.sci);
	kprintf("acpi-button: power button (SCI, PWRBTN_STS), entering S5\n");
	return enter_s5(&ai);
}

#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED 0x01

int test_pvpanic(const char *arg)
{
	struct acpi_info ai = { 0 };
	uint8_t caps;
	uint64_t end;

	(void)arg;
	if (acpi_walk(&ai) < 0)
		return -1;
	if (!memmem_tk(ai.dsdt, rd32(ai.dsdt + 4), "QEMU0001"))
		return test_fail("no QEMU0001 device in the DSDT");
	caps = inb(PVPANIC_PORT);
	kprintf("pvpanic: capabilities 0x%x, reporting a panic\n", caps);
	if (!(caps & PVPANIC_PANICKED))
		return test_fail("pvpanic port 0x%x offers no PANICKED event", PVPANIC_PORT);
	outb(PVPANIC_PORT, PVPANIC_PANICKED);
	end = tsc_deadline(S5_GRACE_US);
	while (rdtsc() < end)
		cpu_pause();
	return test_fail("still running after the pvpanic PANICKED event");
}
