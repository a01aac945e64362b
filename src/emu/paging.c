/* Page-table walks of the software CPU (Intel SDM vol. 3A ch. 4, AMD APM
 * vol. 2 ch. 5): paging off, 32-bit paging (4 KiB and, with CR4.PSE, 4 MiB
 * pages), PAE, and 4-level long-mode paging with 2 MiB and 1 GiB pages.
 * Permissions are combined over all levels (U/S, R/W, XD with EFER.NXE,
 * CR0.WP for supervisor writes); accessed and dirty bits are set with
 * atomic ORs on guest memory, as a processor's locked updates. Page-table
 * entries outside RAM read as not present. */
#include "emu/paging.h"

#include "emu/system.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_XD (1ULL << 63)
#define PTE_ADDR (EMU_PHYS_MASK & EMU_PAGE_MASK)
/* bits 51:MAXPHYADDR of any 8-byte entry */
#define PTE_RSVD_HIGH (((1ULL << 52) - 1) & ~EMU_PHYS_MASK)

/* What one level contributes to the walk. */
struct level {
	unsigned shift; /* linear-address bits this level's index starts at */
	unsigned bits; /* index width */
	bool large_ok; /* PS may map a page here */
	uint64_t large_rsvd; /* reserved bits of a large-page entry here */
};

static const struct level lm_levels[] = {
	{ 39, 9, false, 0 },
	{ 30, 9, true, 0x3fffe000ULL }, /* 1 GiB: bits 29:13 */
	{ 21, 9, true, 0x1fe000ULL }, /* 2 MiB: bits 20:13 */
	{ 12, 9, false, 0 },
};
static const struct level pae_levels[] = {
	{ 21, 9, true, 0x1fe000ULL },
	{ 12, 9, false, 0 },
};

static uint32_t pfec(const struct emu_cpu *cpu, enum emu_access acc, bool user, bool present)
{
	uint32_t e = EMU_WALK_FAULT | (present ? EMU_PF_P : 0);

	if (acc == EMU_ACC_WRITE)
		e |= EMU_PF_W;
	if (user)
		e |= EMU_PF_U;
	if (acc == EMU_ACC_FETCH && (cpu->efer & EMU_EFER_NXE) && (cpu->cr4 & EMU_CR4_PAE))
		e |= EMU_PF_I;
	return e;
}

/* Sets bits in a guest page-table entry the way a locked update would. */
static void pte_or(void *p, unsigned esize, uint64_t bits)
{
	if (esize == 8)
		__atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_SEQ_CST);
}

static void *entry_ptr(struct emu_vm *vm, uint64_t gpa, unsigned esize)
{
	/* Entries are naturally aligned; RAM regions are page aligned. */
	return emu_phys_ptr(vm, gpa, esize);
}

/* Checks the combined permissions; returns 0 or a #PF error code. */
static uint32_t check_perm(const struct emu_cpu *cpu, const struct emu_walk *w, enum emu_access acc,
			   bool user)
{
	bool nx = (cpu->efer & EMU_EFER_NXE) && w->nx;

	if (user && !w->user)
		return pfec(cpu, acc, user, true);
	if (acc == EMU_ACC_WRITE && !w->write && (user || (cpu->cr0 & EMU_CR0_WP)))
		return pfec(cpu, acc, user, true);
	if (acc == EMU_ACC_FETCH && nx)
		return pfec(cpu, acc, user, true);
	return 0;
}

static uint64_t pte_load(const void *p, unsigned esize)
{
	if (esize == 8)
		return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

/* The end of a walk whose leaf is ptrs[last] (value e): global and dirty
 * state, the permission check, then the accessed bit at every level and the
 * dirty bit of the leaf on a write. Returns 0 or a #PF error code. */
static uint32_t finish_walk(struct emu_cpu *cpu, struct emu_walk *w, enum emu_access acc, bool user,
			    void *const *ptrs, unsigned last, unsigned esize, uint64_t e)
{
	uint32_t err;

	w->global = !!(e & PTE_G) && (cpu->cr4 & EMU_CR4_PGE);
	w->dirty = !!(e & PTE_D);
	if ((err = check_perm(cpu, w, acc, user)))
		return err;
	for (unsigned j = 0; j <= last; j++)
		if (!(pte_load(ptrs[j], esize) & PTE_A))
			pte_or(ptrs[j], esize, PTE_A);
	if (acc == EMU_ACC_WRITE && !w->dirty) {
		pte_or(ptrs[last], esize, PTE_D);
		w->dirty = true;
	}
	return 0;
}

/* Walks the levels from table (a gpa) for 8-byte entries. */
static uint32_t walk8(struct emu_cpu *cpu, uint64_t table, const struct level *lv, unsigned n,
		      uint64_t lin, enum emu_access acc, bool user, struct emu_walk *w)
{
	uint64_t rsvd = PTE_RSVD_HIGH | ((cpu->efer & EMU_EFER_NXE) ? 0 : PTE_XD);
	void *ptrs[4];
	uint64_t e = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t gpa = table + (((lin >> lv[i].shift) & ((1u << lv[i].bits) - 1)) << 3);

		ptrs[i] = entry_ptr(cpu->vm, gpa, 8);
		e = ptrs[i] ? __atomic_load_n((uint64_t *)ptrs[i], __ATOMIC_RELAXED) : 0;
		if (!(e & PTE_P))
			return pfec(cpu, acc, user, false);
		if ((e & rsvd) || ((e & PTE_PS) && i == 0 && n == 4))
			return pfec(cpu, acc, user, true) | EMU_PF_RSVD;
		w->user &= !!(e & PTE_U);
		w->write &= !!(e & PTE_W);
		w->nx |= !!(e & PTE_XD);
		if ((e & PTE_PS) && lv[i].large_ok) {
			if (e & lv[i].large_rsvd)
				return pfec(cpu, acc, user, true) | EMU_PF_RSVD;
			w->shift = lv[i].shift;
			break;
		}
		table = e & PTE_ADDR;
	}
	if (i == n)
		i = n - 1;
	uint32_t err = finish_walk(cpu, w, acc, user, ptrs, i, 8, e);
	if (err)
		return err;
	uint64_t mask = (1ULL << w->shift) - 1;
	w->gpa = ((e & PTE_ADDR) & ~mask) | (lin & mask);
	return 0;
}

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with CR4.PSE. */
static uint32_t walk4(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
		      struct emu_walk *w)
{
	uint64_t table = cpu->cr3 & 0xfffff000u;
	void *p[2];
	uint32_t e = 0;
	unsigned i;

	for (i = 0; i < 2; i++) {
		unsigned shift = i ? 12 : 22;
		p[i] = entry_ptr(cpu->vm, table + (((lin >> shift) & 0x3ff) << 2), 4);
		e = p[i] ? __atomic_load_n((uint32_t *)p[i], __ATOMIC_RELAXED) : 0;
		if (!(e & PTE_P))
			return pfec(cpu, acc, user, false);
		w->user &= !!(e & PTE_U);
		w->write &= !!(e & PTE_W);
		if (i == 0 && (e & PTE_PS) && (cpu->cr4 & EMU_CR4_PSE)) {
			w->shift = 22;
			break;
		}
		table = e & 0xfffff000u;
	}
	if (i == 2)
		i = 1;
	uint32_t err = finish_walk(cpu, w, acc, user, p, i, 4, e);
	if (err)
		return err;
	if (w->shift == 22) /* PSE-36 style high bits are not supported: 4 GiB only */
		w->gpa = (e & 0xffc00000u) | (lin & 0x3fffff);
	else
		w->gpa = (e & 0xfffff000u) | (lin & 0xfff);
	return 0;
}

static uint32_t walk_pae(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
			 struct emu_walk *w)
{
	uint64_t gpa = (cpu->cr3 & 0xffffffe0u) + (((lin >> 30) & 3) << 3);
	uint64_t *p = entry_ptr(cpu->vm, gpa, 8);
	uint64_t e = p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;

	if (!(e & PTE_P))
		return pfec(cpu, acc, user, false);
	if (e & (PTE_RSVD_HIGH | PTE_XD | 0x1e6ULL))
		return pfec(cpu, acc, user, true) | EMU_PF_RSVD;
	return walk8(cpu, e & PTE_ADDR, pae_levels, 2, lin, acc, user, w);
}

uint32_t emu_walk(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
		  struct emu_walk *w)
{
	*w = (struct emu_walk){ .user = true, .write = true, .shift = 12 };
	if (!(cpu->cr0 & EMU_CR0_PG)) {
		w->gpa = lin & 0xffffffffULL;
		w->dirty = true;
		return 0;
	}
	if (cpu->efer & EMU_EFER_LMA)
		return walk8(cpu, cpu->cr3 & PTE_ADDR, lm_levels, 4, lin, acc, user, w);
	if (cpu->cr4 & EMU_CR4_PAE)
		return walk_pae(cpu, lin & 0xffffffffULL, acc, user, w);
	return walk4(cpu, lin & 0xffffffffULL, acc, user, w);
}
