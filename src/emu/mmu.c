/* Guest memory access for the software CPU: the software TLBs, the slow
 * paths behind internal.h's inline accessors (walks, page-crossing
 * accesses, MMIO dispatch, writes to pages holding decoded code), and the
 * code-page bitmap.
 *
 * Map: physical access and MMIO routing; TLB fill and flushes; translate;
 * read/write slow paths; byte-range, RMW and fetch access; code pages. */
#include "emu/paging.h"
#include "emu/system.h"
#include "common/util.h"

#include <assert.h>
#include <stdatomic.h>

#define LAPIC_BASE_ENABLE (1ULL << 11)
#define LAPIC_BASE_X2APIC (1ULL << 10)

__thread struct emu_cpu *emu_this_cpu;

void *emu_phys_ptr(struct emu_vm *vm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < vm->nram; i++) {
		const struct emu_ram_region *r = &vm->ram[i];
		uint64_t off = gpa - r->gpa;

		if (gpa >= r->gpa && off < r->size && len <= r->size - off)
			return (uint8_t *)r->hva + off;
	}
	return NULL;
}

/* ---- physical access and MMIO routing --------------------------------- */

static bool is_lapic_page(const struct emu_cpu *cpu, uint64_t gpa)
{
	uint64_t b = cpu->msr.apic_base;

	return (b & LAPIC_BASE_ENABLE) && !(b & LAPIC_BASE_X2APIC) &&
	       (gpa & EMU_PAGE_MASK) == (b & EMU_PHYS_MASK & EMU_PAGE_MASK);
}

static bool is_ioapic_page(uint64_t gpa)
{
	return (gpa & EMU_PAGE_MASK) == EMU_IOAPIC_BASE;
}

/* Host pointer for plain RAM at gpa (not the LAPIC/IOAPIC page), or NULL. */
static void *ram_ptr(struct emu_cpu *cpu, uint64_t gpa, unsigned len)
{
	if (is_lapic_page(cpu, gpa) || is_ioapic_page(gpa))
		return NULL;
	return emu_phys_ptr(cpu->vm, gpa, len);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* The LAPIC's registers are 32-bit; narrower or wider accesses are split
 * or shifted into 32-bit ones. */
static uint64_t lapic_read(struct emu_cpu *cpu, uint32_t off, unsigned size)
{
	uint64_t v = emu_lapic_mmio_read(cpu->lapic, off & 0xffc);

	if (size == 8)
		v |= (uint64_t)emu_lapic_mmio_read(cpu->lapic, (off + 4) & 0xffc) << 32;
	return (v >> ((off & 3) * 8)) & size_mask(size);
}

static void lapic_write(struct emu_cpu *cpu, uint32_t off, unsigned size, uint64_t v)
{
	emu_lapic_mmio_write(cpu->lapic, off & 0xffc, (uint32_t)(v << ((off & 3) * 8)));
	if (size == 8)
		emu_lapic_mmio_write(cpu->lapic, (off + 4) & 0xffc, (uint32_t)(v >> 32));
}

static uint64_t phys_read(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
	struct emu_vm *vm = cpu->vm;
	uint64_t v = ~0ULL;
	void *p;

	if (is_lapic_page(cpu, gpa))
		return lapic_read(cpu, gpa & 0xfff, size);
	if (is_ioapic_page(gpa)) {
		emu_ioapic_mmio(vm, gpa & 0xfff, false, &v, size);
		return v & size_mask(size);
	}
	if ((p = emu_phys_ptr(vm, gpa, size)))
		return emu_load_host(p, size);
	if (vm->cfg.io && vm->cfg.io->mmio && ++cpu->stats.mmio)
		vm->cfg.io->mmio(vm->cfg.io_ctx, cpu->index, gpa, false, &v, size);
	return v & size_mask(size);
}

static void phys_write(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t v)
{
	struct emu_vm *vm = cpu->vm;
	void *p;

	if (is_lapic_page(cpu, gpa)) {
		lapic_write(cpu, gpa & 0xfff, size, v);
	} else if (is_ioapic_page(gpa)) {
		emu_ioapic_mmio(vm, gpa & 0xfff, true, &v, size);
	} else if ((p = emu_phys_ptr(vm, gpa, size))) {
		emu_store_host(p, size, v);
		if (emu_page_is_code(vm, gpa))
			emu_code_written(cpu, gpa, size);
	} else if (vm->cfg.io && vm->cfg.io->mmio && ++cpu->stats.mmio) {
		vm->cfg.io->mmio(vm->cfg.io_ctx, cpu->index, gpa, true, &v, size);
	}
}

/* ---- TLB fill and flushes ---------------------------------------------- */

/* SDM vol. 3A §6.15 (#AC): CR0.AM, RFLAGS.AC and CPL 3. While it holds, user
 * data accesses stay off the TLB fast path so the slow path sees them. */
static bool ac_active(const struct emu_cpu *cpu)
{
	return cpu->tlb_user && (cpu->cr0 & EMU_CR0_AM) && (cpu->rflags & EMU_FLAG_AC);
}

static void ac_check(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	if ((lin & (size - 1)) && ac_active(cpu))
		emu_raise(cpu, EMU_AC, 0);
}

static void tlb_fill(struct emu_cpu *cpu, uint64_t lin, const struct emu_walk *w)
{
	unsigned u = cpu->tlb_user, i = (lin >> 12) & (EMU_TLB_SIZE - 1);
	struct emu_tlb_entry *t = &cpu->tlb[u].e[i];
	struct emu_itlb_entry *it = &cpu->sys->itlb[u][i];
	uint64_t page = lin & EMU_PAGE_MASK, gpa_page = w->gpa & EMU_PAGE_MASK;
	bool user = u == 1;
	bool wr = w->dirty && (w->write || (!user && !(cpu->cr0 & EMU_CR0_WP)));
	bool nx = (cpu->efer & EMU_EFER_NXE) && w->nx;
	uint8_t *host = ram_ptr(cpu, gpa_page, 4096);

	if (!host)
		return; /* MMIO: every access takes the slow path */
	t->tag_read = ac_active(cpu) ? EMU_TLB_INVALID : page;
	t->tag_write = wr && !emu_page_is_code(cpu->vm, gpa_page) && !ac_active(cpu) ?
			       page :
			       EMU_TLB_INVALID;
	t->addend = (uintptr_t)host - (uintptr_t)page;
	t->gpa_page = gpa_page;
	it->tag = nx ? EMU_TLB_INVALID : page;
	it->addend = t->addend;
	it->gpa_page = gpa_page;
	if (!w->global && !(cpu->sys->info[u][i] & EMU_TI_LISTED)) {
		cpu->sys->ng[u][cpu->sys->nng[u]++] = (uint16_t)i; /* each index once */
		cpu->sys->info[u][i] |= EMU_TI_LISTED;
	}
	cpu->sys->info[u][i] = (cpu->sys->info[u][i] & EMU_TI_LISTED) |
			       (w->global ? EMU_TI_GLOBAL : 0) | (wr ? EMU_TI_WRITE : 0);
	cpu->sys->shift[u][i] = (uint8_t)w->shift;
	if (w->shift > 12)
		cpu->sys->nlarge++;
}

static void tlb_kill(struct emu_cpu *cpu, unsigned u, unsigned i)
{
	cpu->tlb[u].e[i].tag_read = EMU_TLB_INVALID;
	cpu->tlb[u].e[i].tag_write = EMU_TLB_INVALID;
	cpu->sys->itlb[u][i].tag = EMU_TLB_INVALID;
	cpu->sys->info[u][i] &= EMU_TI_LISTED;
}

void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin)
{
	unsigned i = (lin >> 12) & (EMU_TLB_SIZE - 1);

	cpu->tlb_epoch++;
	for (unsigned u = 0; u < 2; u++) {
		if (cpu->tlb[u].e[i].tag_read == (lin & EMU_PAGE_MASK))
			tlb_kill(cpu, u, i);
	}
	if (!cpu->sys->nlarge)
		return;
	/* Entries cached from a large page that contains lin go too. */
	for (unsigned u = 0; u < 2; u++) {
		for (unsigned j = 0; j < EMU_TLB_SIZE; j++) {
			unsigned s = cpu->sys->shift[u][j];
			uint64_t tag = cpu->tlb[u].e[j].tag_read;

			if (s > 12 && tag != EMU_TLB_INVALID && (tag >> s) == (lin >> s))
				tlb_kill(cpu, u, j);
		}
	}
}

static_assert(EMU_TLB_SIZE <= 65536, "ng[] holds 16-bit indices");

/* Only the listed indices can hold non-global entries (tlb_fill()): a
 * Linux boot loads CR3 ~24,000 times, and scanning both TLBs each time
 * cost ~2 % of it. */
void emu_tlb_flush_nonglobal(struct emu_cpu *cpu)
{
	struct emu_cpu_sys *sys = cpu->sys;

	cpu->tlb_epoch++;
	for (unsigned u = 0; u < 2; u++) {
		for (unsigned k = 0; k < sys->nng[u]; k++) {
			unsigned i = sys->ng[u][k];

			sys->info[u][i] &= ~EMU_TI_LISTED;
			if (!(sys->info[u][i] & EMU_TI_GLOBAL))
				tlb_kill(cpu, u, i);
		}
		sys->nng[u] = 0;
	}
}

void emu_tlb_flush_all(struct emu_cpu *cpu)
{
	cpu->tlb_epoch++;
	for (unsigned u = 0; u < 2; u++) {
		for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
			tlb_kill(cpu, u, i);
			cpu->sys->info[u][i] = 0;
		}
		cpu->sys->nng[u] = 0;
	}
	cpu->sys->nlarge = 0;
}

void emu_mmu_reset(struct emu_cpu *cpu)
{
	emu_tlb_flush_all(cpu);
}

void emu_tlb_drop_code_writes(struct emu_cpu *cpu)
{
	for (unsigned u = 0; u < 2; u++) {
		for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
			struct emu_tlb_entry *t = &cpu->tlb[u].e[i];

			if (t->tag_write != EMU_TLB_INVALID &&
			    emu_page_is_code(cpu->vm, t->gpa_page))
				t->tag_write = EMU_TLB_INVALID;
		}
	}
}

/* ---- translate ----------------------------------------------------------- */

_Noreturn static void page_fault(struct emu_cpu *cpu, uint64_t lin, uint32_t err)
{
	cpu->cr2 = lin;
	emu_raise(cpu, EMU_PF, err & ~EMU_WALK_FAULT);
}

/* Guest-physical address of lin for an access of kind acc at the current
 * privilege (cpu->tlb_user); fills the TLB; raises #GP (non-canonical) or #PF. */
static uint64_t translate(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc)
{
	unsigned u = cpu->tlb_user, i = (lin >> 12) & (EMU_TLB_SIZE - 1);
	struct emu_tlb_entry *t = &cpu->tlb[u].e[i];
	uint64_t page = lin & EMU_PAGE_MASK;
	struct emu_walk w;
	uint32_t err;

	if (t->tag_read == page) {
		if (acc == EMU_ACC_READ ||
		    (acc == EMU_ACC_WRITE && (cpu->sys->info[u][i] & EMU_TI_WRITE)))
			return t->gpa_page | (lin & 0xfff);
		if (acc == EMU_ACC_FETCH && cpu->sys->itlb[u][i].tag == page)
			return t->gpa_page | (lin & 0xfff);
	}
	if ((cpu->efer & EMU_EFER_LMA) && !emu_is_canonical(lin))
		emu_raise_gp(cpu, 0);
	err = emu_walk(cpu, lin, acc, u == 1, &w);
	if (err)
		page_fault(cpu, lin, err);
	tlb_fill(cpu, lin, &w);
	return w.gpa;
}

/* ---- read/write slow paths ---------------------------------------------- */

static bool crosses_page(uint64_t lin, unsigned size)
{
	return (lin & 0xfff) + size > 4096;
}

uint64_t emu_read_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	ac_check(cpu, lin, size);
	if (crosses_page(lin, size)) {
		uint8_t b[8];

		emu_read_bytes(cpu, lin, b, size);
		return emu_load_host(b, size);
	}
	uint64_t gpa = translate(cpu, lin, EMU_ACC_READ);
	struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);

	if (t->tag_read == (lin & EMU_PAGE_MASK))
		return emu_load_host((const void *)(uintptr_t)(lin + t->addend), size);
	return phys_read(cpu, gpa, size);
}

void emu_write_slow(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val)
{
	ac_check(cpu, lin, size);
	if (crosses_page(lin, size)) {
		uint8_t b[8];

		emu_store_host(b, size, val);
		emu_write_bytes(cpu, lin, b, size);
		return;
	}
	phys_write(cpu, translate(cpu, lin, EMU_ACC_WRITE), size, val);
}

uint64_t emu_sys_read(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	uint8_t u = cpu->tlb_user;
	uint64_t v;

	cpu->tlb_user = 0; /* a fault restores it (emu_raise) */
	v = emu_read_lin(cpu, lin, size);
	cpu->tlb_user = u;
	return v;
}

void emu_sys_write(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val)
{
	uint8_t u = cpu->tlb_user;

	cpu->tlb_user = 0;
	emu_write_lin(cpu, lin, size, val);
	cpu->tlb_user = u;
}

/* ---- byte ranges, RMW, fetch ---------------------------------------------- */

/* Translates every page of [lin, lin+len) first, so a fault leaves memory
 * untouched, then copies page by page. */
static void copy_range(struct emu_cpu *cpu, uint64_t lin, uint8_t *buf, unsigned len, bool write)
{
	enum emu_access acc = write ? EMU_ACC_WRITE : EMU_ACC_READ;
	uint64_t end = lin + len;

	for (uint64_t a = lin; a < end || a == lin; a = (a & EMU_PAGE_MASK) + 4096)
		translate(cpu, a, acc);
	for (unsigned done = 0; done < len;) {
		uint64_t a = lin + done;
		unsigned n = VS_MIN(len - done, 4096 - (unsigned)(a & 0xfff));
		uint64_t gpa = translate(cpu, a, acc);
		uint8_t *p = ram_ptr(cpu, gpa, n);

		if (p && write) {
			memcpy(p, buf + done, n);
			if (emu_page_is_code(cpu->vm, gpa))
				emu_code_written(cpu, gpa, n);
		} else if (p) {
			memcpy(buf + done, p, n);
		} else {
			for (unsigned k = 0; k < n; k++) {
				if (write)
					phys_write(cpu, gpa + k, 1, buf[done + k]);
				else
					buf[done + k] = (uint8_t)phys_read(cpu, gpa + k, 1);
			}
		}
		done += n;
	}
}

void emu_read_bytes(struct emu_cpu *cpu, uint64_t lin, void *buf, unsigned len)
{
	copy_range(cpu, lin, buf, len, false);
}

void emu_write_bytes(struct emu_cpu *cpu, uint64_t lin, const void *buf, unsigned len)
{
	copy_range(cpu, lin, (uint8_t *)buf, len, true);
}

void *emu_rmw_ptr(struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
	struct emu_tlb_entry *t = emu_tlb_slot(cpu, lin);
	uint64_t gpa;
	void *p;

	ac_check(cpu, lin, size);
	if (crosses_page(lin, size))
		return NULL;
	if (t->tag_write == (lin & EMU_PAGE_MASK))
		return (void *)(uintptr_t)(lin + t->addend);
	gpa = translate(cpu, lin, EMU_ACC_WRITE);
	p = ram_ptr(cpu, gpa, size);
	if (p && emu_page_is_code(cpu->vm, gpa))
		emu_code_written(cpu, gpa, size);
	return p;
}

const uint8_t *emu_fetch_ptr(struct emu_cpu *cpu, uint64_t lin, uint64_t *gpa, unsigned *avail)
{
	unsigned u = cpu->tlb_user, i = (lin >> 12) & (EMU_TLB_SIZE - 1);
	struct emu_itlb_entry *it = &cpu->sys->itlb[u][i];

	if (it->tag != (lin & EMU_PAGE_MASK)) {
		translate(cpu, lin, EMU_ACC_FETCH);
		if (it->tag != (lin & EMU_PAGE_MASK))
			emu_sys_fatal(cpu, "instruction fetch from non-RAM at %#llx",
				      (unsigned long long)lin);
	}
	*gpa = it->gpa_page | (lin & 0xfff);
	*avail = 4096 - (unsigned)(lin & 0xfff);
	return (const uint8_t *)(uintptr_t)(lin + it->addend);
}

/* ---- code pages ---------------------------------------------------------- */

static bool code_bit(struct emu_vm *vm, uint64_t gpa, size_t *byte, uint8_t *bit)
{
	if (gpa >= vm->ram_top || !vm->code_pages)
		return false;
	*byte = (size_t)(gpa >> 15);
	*bit = (uint8_t)(1u << ((gpa >> 12) & 7));
	return true;
}

bool emu_page_is_code(struct emu_vm *vm, uint64_t gpa)
{
	size_t byte;
	uint8_t bit;

	if (!code_bit(vm, gpa, &byte, &bit))
		return false;
	return atomic_load_explicit(&vm->code_pages[byte], memory_order_relaxed) & bit;
}

void emu_page_set_code(struct emu_vm *vm, uint64_t gpa)
{
	size_t byte;
	uint8_t bit;

	if (!code_bit(vm, gpa, &byte, &bit))
		return;
	if (atomic_fetch_or(&vm->code_pages[byte], bit) & bit)
		return;
	/* This vCPU stops writing the page through its TLB at once; the
	 * others at their next block boundary. */
	for (unsigned c = 0; c < vm->ncpus; c++) {
		struct emu_cpu *cpu = &vm->cpus[c];

		if (cpu == emu_this_cpu)
			emu_tlb_drop_code_writes(cpu);
		else
			atomic_fetch_or(&cpu->events, EMU_EV_TLBFLUSH);
	}
}

void emu_page_clear_code(struct emu_vm *vm, uint64_t gpa)
{
	size_t byte;
	uint8_t bit;

	if (code_bit(vm, gpa, &byte, &bit))
		atomic_fetch_and(&vm->code_pages[byte], (uint8_t)~bit);
}
