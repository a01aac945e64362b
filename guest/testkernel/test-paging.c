/* test-paging.c - the `paging` test: what a CPU (KVM, QEMU TCG, vessel's emu)
 * must get right for a kernel's memory management, system calls and code
 * patching. Parts, each reported on its own line:
 *   map      4 KiB mappings: a PTE change seen after INVLPG and after a CR3
 *            reload, aliases, accessed/dirty bits
 *   fault    not-present #PF on read and write: error code, CR2, retry
 *   wp       CR0.WP: a CPL0 write to a read-only page faults (P|W) only with WP=1
 *   nx       EFER.NXE: executing an NX page faults with I/D set
 *   user     CPL3 (test-user.c): SYSCALL/SYSRET round trips, INT, #GP, #PF
 *   smc      self-modifying code (test-smc.c)
 * All mappings live in the window of pgtable.h, removed at the end. */
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "paging.h"
#include "pgtable.h"
#include "tests.h"

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define CR0_WP (1ul << 16)
#define MSR_EFER 0xC0000080
#define EFER_NXE (1ul << 11)
#define CPUID_EXT1 0x80000001
#define CPUID_NX_BIT (1u << 20)
#define MAGIC1 0x1111aaaa2222bbbbul
#define MAGIC2 0x3333cccc4444ddddul
#define REASON_MAX 160

bool paging_kvm_pvm;
static struct tk_fault *armed[FAULT_MAX];
static char part_reason[REASON_MAX];

int part_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tk_vsnprintf(part_reason, sizeof(part_reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* Both are compiler barriers: the faulting access between them is volatile,
 * and gcc may move ordinary stores (armed[], hits) across volatile ones. */
void fault_arm(struct tk_fault *t)
{
	t->hits = 0;
	for (unsigned int i = 0; i < FAULT_MAX; i++) {
		if (!armed[i]) {
			armed[i] = t;
			__asm__ volatile("" : : : "memory");
			return;
		}
	}
	tk_panic("paging: more than %u faults armed", FAULT_MAX);
}

void fault_disarm_all(void)
{
	__asm__ volatile("" : : : "memory");
	for (unsigned int i = 0; i < FAULT_MAX; i++)
		armed[i] = NULL;
}

static struct tk_fault *fault_find(const struct isr_frame *f)
{
	for (unsigned int i = 0; i < FAULT_MAX; i++) {
		struct tk_fault *t = armed[i];

		/* One hit each: a repair that did not work faults again and panics
		 * rather than looping. */
		if (t && !t->hits && t->vector == f->vector && (!t->rip || t->rip == f->rip))
			return t;
	}
	return NULL;
}

void fault_handler(struct isr_frame *f)
{
	uint64_t cr2 = read_cr2();
	struct tk_fault *t = fault_find(f);

	if (!t)
		isr_panic(f);
	t->hits++;
	t->error = f->error;
	t->cr2 = cr2;
	t->at = f->rip;
	t->cs = f->cs;
	if (t->map_flags)
		pg_map(cr2 & ~(PG_SIZE - 1), t->map_pa, t->map_flags);
	if (t->resume)
		f->rip = t->resume;
	if (t->hook)
		t->hook(f);
}

/* Checks that armed fault @t hit once with @error at CR2 @cr2. */
static int check_fault(const char *what, const struct tk_fault *t, uint64_t error, uint64_t cr2)
{
	if (t->hits != 1)
		return part_fail("%s: %u faults, expected 1", what, t->hits);
	if (t->error != error)
		return part_fail("%s: error code 0x%lx, expected 0x%lx", what, t->error, error);
	if (t->cr2 != cr2)
		return part_fail("%s: cr2=0x%lx, expected 0x%lx", what, t->cr2, cr2);
	return 0;
}

static inline uint64_t peek(uint64_t va)
{
	return *(volatile uint64_t *)va;
}

static inline void poke(uint64_t va, uint64_t v)
{
	*(volatile uint64_t *)va = v;
}

/* A/D after a write, a PTE switch seen after INVLPG, A without D after a
 * read, a CR3 reload, and a second virtual alias of one page. */
static int part_map(void)
{
	uint64_t va = pg_va(1), alias = pg_va(2), p1 = pg_pool(0), p2 = pg_pool(1), pte;

	poke(p2, MAGIC2);
	pg_map(va, p1, PTE_P | PTE_RW);
	poke(va, MAGIC1);
	if (peek(p1) != MAGIC1)
		return part_fail("a write through the mapping did not reach its page");
	pte = *pg_pte(va);
	if ((pte & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
		return part_fail("PTE 0x%lx lacks A|D after a write", pte);
	pg_map(va, p2, PTE_P | PTE_RW);
	if (peek(va) != MAGIC2)
		return part_fail("after a PTE change and INVLPG the old page is still seen");
	pte = *pg_pte(va);
	if ((pte & (PTE_A | PTE_D)) != PTE_A)
		return part_fail("PTE 0x%lx: expected A set, D clear after a read", pte);
	poke(va + 8, MAGIC1);
	if (!(*pg_pte(va) & PTE_D))
		return part_fail("D not set by a write to a clean page");
	*pg_pte(va) = p1 | PTE_P | PTE_RW;
	write_cr3(read_cr3());
	if (peek(va) != MAGIC1)
		return part_fail("after a PTE change and a CR3 reload the old page is still seen");
	pg_map(alias, p1, PTE_P | PTE_RW);
	poke(alias + 16, MAGIC2);
	if (peek(va + 16) != MAGIC2)
		return part_fail("a write through an alias is not seen through the other mapping");
	return 0;
}

/* Not-present faults at CPL0: the handler maps the page and the access is retried. */
static int part_fault(void)
{
	uint64_t va = pg_va(3), p = pg_pool(2);
	struct tk_fault t = { .vector = VEC_PF, .map_pa = p, .map_flags = PTE_P | PTE_RW };
	uint64_t v;
	int r;

	poke(p + 24, MAGIC1);
	pg_map(va, 0, 0);
	fault_arm(&t);
	v = peek(va + 24);
	fault_disarm_all();
	if ((r = check_fault("read", &t, 0, va + 24)))
		return r;
	if (v != MAGIC1)
		return part_fail("read after the repair: 0x%lx", v);
	pg_map(va, 0, 0);
	fault_arm(&t);
	poke(va + 40, MAGIC2);
	fault_disarm_all();
	if ((r = check_fault("write", &t, PF_W, va + 40)))
		return r;
	if (peek(p + 40) != MAGIC2)
		return part_fail("write after the repair did not reach the page");
	return 0;
}

/* A CPL0 write to a read-only page: #PF (P|W) with CR0.WP=1, none with WP=0. */
static int part_wp(void)
{
	uint64_t va = pg_va(4), p = pg_pool(3), cr0 = read_cr0();
	struct tk_fault t = { .vector = VEC_PF, .map_pa = p, .map_flags = PTE_P | PTE_RW };
	int r;

	write_cr0(cr0 & ~CR0_WP);
	pg_map(va, p, PTE_P);
	fault_arm(&t);
	poke(va, MAGIC1);
	fault_disarm_all();
	if (t.hits)
		return part_fail("WP=0: write to a read-only page faulted (error 0x%lx)", t.error);
	write_cr0(cr0 | CR0_WP);
	pg_map(va, p, PTE_P);
	if (peek(va) != MAGIC1)
		return part_fail("WP=0: write to a read-only page was lost");
	fault_arm(&t);
	poke(va + 8, MAGIC2);
	fault_disarm_all();
	write_cr0(cr0);
	if ((r = check_fault("WP=1 write", &t, PF_P | PF_W, va + 8)))
		return r;
	if (peek(p + 8) != MAGIC2)
		return part_fail("WP=1: write after the repair did not reach the page");
	return 0;
}

static bool has_nx(void)
{
	uint32_t r[4];

	cpuid(CPUID_EXT1 & 0x80000000, 0, r);
	if (r[0] < CPUID_EXT1)
		return false;
	cpuid(CPUID_EXT1, 0, r);
	return r[3] & CPUID_NX_BIT;
}

/* With EFER.NXE: reading an NX page works, calling into it faults (P|I/D at
 * CR2 = RIP = the page); the handler clears NX and the call is retried. */
static int part_nx(void)
{
	/* mov $0x600dc0de, %eax; ret */
	static const uint8_t code[] = { 0xb8, 0xde, 0xc0, 0x0d, 0x60, 0xc3 };
	uint64_t va = pg_va(5), p = pg_pool(4), efer;
	struct tk_fault t = { .vector = VEC_PF, .rip = va, .map_pa = p, .map_flags = PTE_P };
	uint32_t v;
	int r;

	if (!has_nx()) {
		kprintf("paging: nx: CPUID 0x80000001 EDX.NX clear, part skipped\n");
		return 0;
	}
	efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer | EFER_NXE);
	memcpy((void *)p, code, sizeof(code));
	pg_map(va, p, PTE_P | PTE_NX);
	if (memcmp((const void *)va, code, sizeof(code)))
		return part_fail("reading the NX page does not give its contents");
	fault_arm(&t);
	v = ((uint32_t(*)(void))va)();
	fault_disarm_all();
	/* No PTE may keep bit 63 once NXE is off again: it would be reserved. */
	pg_map(va, 0, 0);
	wrmsr(MSR_EFER, efer);
	if ((r = check_fault("call into NX page", &t, PF_P | PF_I, va)))
		return r;
	if (v != 0x600dc0de)
		return part_fail("code on the page returned 0x%x after the repair", v);
	return 0;
}

struct part {
	const char *name;
	int (*run)(void);
};

static const struct part parts[] = {
	{ "map", part_map }, { "fault", part_fault }, { "wp", part_wp },
	{ "nx", part_nx },   { "user", part_user },   { "smc", part_smc },
};

int test_paging(const char *arg)
{
	unsigned int failed = 0;
	const char *first = NULL;
	char reason[REASON_MAX];

	if (arg[0] && strncmp(arg, "kvm-pvm", 8))
		return test_fail("unknown argument \"%s\" (paging or paging:kvm-pvm)", arg);
	paging_kvm_pvm = arg[0] != 0;
	pg_window_init();
	idt_set_handler(VEC_UD, fault_handler);
	idt_set_handler(VEC_GP, fault_handler);
	idt_set_handler(VEC_PF, fault_handler);
	for (unsigned int i = 0; i < TK_ARRAY_SIZE(parts); i++) {
		part_reason[0] = 0;
		if (parts[i].run() == 0) {
			kprintf("paging: %s: ok\n", parts[i].name);
			continue;
		}
		kprintf("paging: %s: FAIL %s\n", parts[i].name, part_reason);
		if (!failed++) {
			first = parts[i].name;
			memcpy(reason, part_reason, sizeof(reason));
		}
	}
	fault_disarm_all();
	idt_set_handler(VEC_UD, NULL);
	idt_set_handler(VEC_GP, NULL);
	idt_set_handler(VEC_PF, NULL);
	pg_window_fini();
	if (failed)
		return test_fail("%s: %s%s", first, reason, failed > 1 ? " (and more parts)" : "");
	return 0;
}
