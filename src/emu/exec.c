/* The dispatch loop: find (or build) the block at RIP, run its handlers,
 * repeat until an event or a stop request. Faults longjmp back here and are
 * delivered by the system layer; the loop then goes on with the handler's
 * code, or returns when the system layer asked to stop.
 *
 * Block lookup: translate RIP with emu_fetch_ptr() (the system layer's
 * fetch TLB: checks NX/U/S/SMEP and gives the gpa), then a per-vCPU
 * direct-mapped cache by gpa, then the shared hash, then the decoder. */
#include "emu/block.h"
#include "emu/core.h"

static inline uint64_t code_lin(const struct emu_cpu *cpu)
{
	if (cpu->mode == EMU_MODE_LONG64)
		return cpu->rip;
	return (uint32_t)(cpu->seg[EMU_CS].base + cpu->rip);
}

static inline unsigned fast_slot(uint64_t gpa)
{
	return (unsigned)((gpa ^ (gpa >> EMU_FAST_BITS)) & ((1u << EMU_FAST_BITS) - 1));
}

static inline void vpages_reset(const struct emu_cpu *cpu, struct emu_core_cpu *cc)
{
	for (unsigned i = 0; i < EMU_VPAGES; i++)
		cc->vpage[i] = EMU_TLB_INVALID;
	cc->vepoch = cpu->tlb_epoch;
	cc->vcpl = cpu->cpl;
	cc->vmode = (uint8_t)cpu->mode;
}

/* Whether the cached code page translations still hold after a system
 * block, or on entering emu_exec(): a translation changes only with a
 * TLB flush (tlb_epoch: CR3, CR0, CR4, EFER, INVLPG, the VMM setting
 * registers), and what a fetch may reach with the privilege level (U/S,
 * SMEP) or the mode. Linux's read path runs ~100 IRETs to its own ring
 * and leaves emu_exec() ~300 times (an STI's event, an interrupt) per
 * MiB read, none of which changes those; each reset sent the next ~12
 * linked blocks back to this loop. Only in 64-bit mode, where the
 * linear address is RIP and CS has no limit to check. */
static inline bool vpages_keep(const struct emu_cpu *cpu, const struct emu_core_cpu *cc)
{
	return cpu->mode == EMU_MODE_LONG64 && cc->vmode == EMU_MODE_LONG64 &&
	       cc->vepoch == cpu->tlb_epoch && cc->vcpl == cpu->cpl;
}

/* A straddling block is valid only while its second page still maps to
 * the same gpa (this fetch may raise #PF, as the instruction would). */
static bool second_page_ok(struct emu_cpu *cpu, uint64_t lin, const struct emu_block *b)
{
	uint64_t gpa;
	unsigned avail;

	emu_fetch_ptr(cpu, (lin | 0xfff) + 1, &gpa, &avail);
	return (gpa >> 12) == (b->gpa2 >> 12);
}

static inline bool block_ok(struct emu_cpu *cpu, const struct emu_block *b, uint64_t gpa,
			    uint64_t lin)
{
	if (!b || b->gpa != gpa || b->rip != cpu->rip || b->mode != cpu->mode || b->dead)
		return false;
	return b->gpa2 == EMU_NO_GPA || second_page_ok(cpu, lin, b);
}

/* Block chaining: prev's remembered successors, checked like a lookup slot
 * (same generation, same gpa, RIP and mode, alive). Straddlers are never
 * linked. Chains are kept only in a VM with one vCPU: a link is a
 * pointer and a generation written as two words, which a second vCPU
 * writing the same block could tear into a pointer to a freed block. */
static inline struct emu_block *chain_find(struct emu_cpu *cpu, struct emu_core_cpu *cc,
					   const struct emu_block *prev, uint64_t gpa)
{
	for (unsigned k = 0; k < EMU_BLOCK_LINKS; k++) {
		struct emu_block *b = prev->link[k].b;

		if (prev->link[k].gen == cc->gen && b && b->gpa == gpa && b->rip == cpu->rip &&
		    b->mode == cpu->mode && !b->dead && b->gpa2 == EMU_NO_GPA)
			return b;
	}
	return NULL;
}

/* Whether prev's generated code may run on into b by itself (jit.h
 * "Linking"), checking only the link's rip, generation and cached code
 * page translation: prev is no system block (no translation, privilege
 * or mode changed since its own lookup; a mode change raises
 * EMU_EV_MODE, which the code checks too) and does not straddle. In
 * 64-bit mode the linear address is RIP, so the code's check of
 * cc->vpage/gpage is this loop's own; elsewhere CS.base takes part, and
 * b must lie in prev's linear page at the same offset as in its guest
 * page, so the translation that found prev finds b. */
static inline bool link_safe(const struct emu_block *prev, const struct emu_block *b)
{
	if (prev->sys || prev->gpa2 != EMU_NO_GPA || prev->mode != b->mode)
		return false;
	return b->mode == EMU_MODE_LONG64 ||
	       ((prev->gpa >> 12) == (b->gpa >> 12) && b->rip - prev->rip == b->gpa - prev->gpa);
}

/* Remembers b (at lin, gpa) as prev's successor; prev's code may follow
 * the link by itself, and straight from its direct exits to b's RIP
 * (jit.h "Chaining"): when b is in prev's code page at the same offset
 * as in its guest page, the translation that found prev finds b, else
 * (64-bit code, link_safe()) the jump checks the loop's cached one. */
static inline void chain_add(struct emu_cpu *cpu, struct emu_core_cpu *cc, struct emu_block *prev,
			     struct emu_block *b, uint64_t lin, uint64_t gpa)
{
	struct emu_block_link *l = prev->link;
	unsigned k = l[0].gen == cc->gen && l[0].b ? 1 : 0;
	unsigned v = (unsigned)(lin >> 12) & (EMU_VPAGES - 1);

	if (b->gpa2 != EMU_NO_GPA)
		return;
	l[k].b = b;
	l[k].gen = cc->gen;
	l[k].rip = b->rip;
	l[k].vslot = offsetof(struct emu_core_cpu, vpage) + v * sizeof(uint64_t);
	l[k].vpage = lin & ~0xfffULL;
	l[k].gpage = gpa & ~0xfffULL;
	/* no entry (0): the code returns to this loop */
	l[k].entry = cc->jit && b->code && link_safe(prev, b) ?
			     (uintptr_t)(void *)b->code + EMU_JIT_ENTRY :
			     0;
	if (l[k].entry) {
		bool same = (prev->gpa >> 12) == (b->gpa >> 12) &&
			    b->rip - prev->rip == b->gpa - prev->gpa;

		emu_block_chain(cpu, prev, b, !same);
	}
}

static inline unsigned jump_slot(uint64_t rip)
{
	return (unsigned)((rip ^ (rip >> EMU_JUMP_BITS)) & ((1u << EMU_JUMP_BITS) - 1));
}

/* Remembers b (at lin, gpa) in cc's jump table, where the link check
 * looks when cpu->rip is neither of the running block's links (jit.c
 * emit_link_stub()): a RET to one of many callers, an indirect JMP or
 * CALL (the kernel's retpoline thunks), a branch whose two remembered
 * successors are others. The slot is a link as chain_add() would make
 * it, validated by the same code (generation, this loop's cached
 * translation of b's code page, events, stop, interrupt shadow), plus
 * cpu->mode: only 64-bit blocks get a slot and the code takes one only
 * in 64-bit mode, which with "the predecessor has the link check" (so
 * is no system block and does not straddle) is all link_safe() asks.
 * A slot never reaches a freed block: the code reads slot.b only when
 * slot.gen is the cache's current generation. Every retirement (self-
 * modifying code, DMA into code, a flush) moves that generation on, so
 * b was not retired since this loop found it live at cc->gen; and a
 * block retired after the check is freed only once this vCPU publishes
 * a newer generation, which it does only here, in the loop. So retire
 * and flush clear nothing. Only the vCPU itself uses its table, and
 * only with one vCPU (the code has no link check otherwise). */
static inline void jump_add(struct emu_core_cpu *cc, struct emu_block *b, uint64_t lin,
			    uint64_t gpa)
{
	struct emu_block_link *l = &cc->jump[jump_slot(b->rip)].l;
	unsigned v = (unsigned)(lin >> 12) & (EMU_VPAGES - 1);

	if (!b->code || b->mode != EMU_MODE_LONG64 || b->gpa2 != EMU_NO_GPA)
		return;
	l->b = b;
	l->gen = cc->gen;
	l->rip = b->rip;
	l->vslot = offsetof(struct emu_core_cpu, vpage) + v * sizeof(uint64_t);
	l->vpage = lin & ~0xfffULL;
	l->gpage = gpa & ~0xfffULL;
	l->entry = (uintptr_t)(void *)b->code + EMU_JIT_ENTRY;
}

/* The block at cpu->rip; prev is the block that ran just before, or NULL
 * (then, or when chaining is off, no link is used or made). */
static inline __attribute__((always_inline)) struct emu_block *
lookup(struct emu_cpu *cpu, struct emu_core_cpu *cc, struct emu_block *prev)
{
	uint64_t lin = code_lin(cpu), gpa;
	unsigned avail, v;
	const uint8_t *p;
	struct emu_fast_slot *slot;
	struct emu_block *b;

	cpu->cur = NULL; /* a fetch fault reports cpu->rip */
	v = (unsigned)(lin >> 12) & (EMU_VPAGES - 1);
	if ((lin & ~0xfffULL) == cc->vpage[v]) {
		gpa = cc->gpage[v] | (lin & 0xfff);
	} else {
		emu_fetch_ptr(cpu, lin, &gpa, &avail);
		cc->vpage[v] = lin & ~0xfffULL;
		cc->gpage[v] = gpa & ~0xfffULL;
	}
	if (prev && (b = chain_find(cpu, cc, prev, gpa)))
		return b;
	slot = &cc->fast[fast_slot(gpa)];
	if (__builtin_expect(slot->gen == cc->gen && block_ok(cpu, slot->b, gpa, lin), 1)) {
		b = slot->b;
	} else {
		cpu->stats.lookups_slow++;
		p = emu_fetch_ptr(cpu, lin, &gpa, &avail);
		b = emu_block_find(cpu->vm, gpa, cpu->rip, cpu->mode);
		if (!block_ok(cpu, b, gpa, lin))
			b = emu_block_build(cpu, gpa, lin, p, avail);
		slot->b = b;
		slot->gen = cc->gen;
	}
	if (cc->jump_fill)
		jump_add(cc, b, lin, gpa);
	if (prev)
		chain_add(cpu, cc, prev, b, lin, gpa);
	return b;
}

/* Non-final instructions do not maintain cpu->rip; the final one runs with
 * cpu->rip at the next instruction so branches can simply overwrite it.
 * A block with host code (jit.h) runs that, which does the same and may
 * run on into linked successors (counting them, and leaving cc->cur at
 * the last one); the profiled loop always interprets.
 * prof is a constant at each call site: the profiled copy of the loop
 * costs the normal one nothing. */
static inline __attribute__((always_inline)) void
run_block(struct emu_cpu *cpu, struct emu_core_cpu *cc, const struct emu_block *b, const bool prof)
{
	const struct emu_insn *in = b->insn, *last = in + b->n - 1;
	struct emu_prof *p = cpu->prof;

	/* the successor's header is the dispatch's likely cache miss */
	__builtin_prefetch(b->link[0].b);
	__builtin_prefetch(b->link[1].b);
	cpu->stats.dispatches++;
	cpu->stats.insns += b->n;
	cpu->stats.insns_user += b->n & -(uint64_t)cpu->tlb_user;
	cpu->stats.blocks_run++;
	if (!prof && b->code) {
		b->code(cpu, cc);
		cc->jit_frame = 0;
		return;
	}
	if (prof)
		emu_prof_add(p->rips, EMU_PROF_RIP_SLOTS, &p->rips_other, b->rip, b->n);
	for (; in != last; in++) {
		cpu->cur = in;
		if (prof)
			emu_prof_add(p->handlers, EMU_PROF_HANDLER_SLOTS, &p->handlers_other,
				     (uint64_t)(uintptr_t)in->fn, 1);
		in->fn(cpu, in);
	}
	cpu->cur = in;
	cpu->rip = in->rip + in->len;
	if (prof)
		emu_prof_add(p->handlers, EMU_PROF_HANDLER_SLOTS, &p->handlers_other,
			     (uint64_t)(uintptr_t)in->fn, 1);
	in->fn(cpu, in);
}

/* prev (the block just run, for chaining) is dropped whenever the
 * generation moves on: it may have been retired, and is freed once this
 * vCPU publishes the new generation. */
static inline __attribute__((always_inline)) void run_loop(struct emu_cpu *cpu,
							   struct emu_core_cpu *cc, const bool prof)
{
	struct emu_block *prev = NULL;

	for (;;) {
		struct emu_block *b;
		bool shadow = cpu->irq_shadow;

		if (__builtin_expect(atomic_load_explicit(cc->gen_src, memory_order_acquire) !=
					     cc->gen,
				     0)) {
			emu_core_sync(cpu, cc);
			prev = NULL;
		}
		b = lookup(cpu, cc, prev);
		cc->cur = b;
		run_block(cpu, cc, b, prof);
		b = cc->cur; /* the last block run: linked code may have gone on */
		cc->cur = NULL;
		prev = cc->chain ? b : NULL;
		if (b->sys && !vpages_keep(cpu, cc))
			vpages_reset(cpu, cc);
		if (shadow) /* the instruction after STI / MOV SS has run */
			cpu->irq_shadow = false;
		if (atomic_load_explicit(&cpu->events, memory_order_relaxed) || cpu->stop)
			return;
	}
}

/* Not inlined into emu_exec(): a function that calls setjmp keeps its
 * locals in memory, and the loop's would be reloaded at every block. */
static __attribute__((noinline)) void run_loop_plain(struct emu_cpu *cpu, struct emu_core_cpu *cc)
{
	run_loop(cpu, cc, false);
}

static __attribute__((noinline)) void run_loop_profiled(struct emu_cpu *cpu,
							struct emu_core_cpu *cc)
{
	run_loop(cpu, cc, true);
}

/* After a longjmp: uncount the instructions of the block that did not
 * retire, then deliver the exception (unless the block was only cut). */
static void unwind(struct emu_cpu *cpu, struct emu_core_cpu *cc, int how)
{
	const struct emu_block *b = cc->cur;

	cc->jit_frame = 0; /* generated code's frame, if any, was abandoned */
	if (cc->building)
		emu_block_build_abort(cpu);
	if (b && cpu->cur >= b->insn && cpu->cur < b->insn + b->n) {
		cpu->stats.insns -= (uint64_t)(b->insn + b->n - cpu->cur);
		cpu->stats.insns_user -= (uint64_t)(b->insn + b->n - cpu->cur) &
					 -(uint64_t)cpu->tlb_user;
	}
	cc->cur = NULL;
	if (how != EMU_JMP_RESTART)
		emu_exception_deliver(cpu);
	vpages_reset(cpu, cc); /* under the handler's privilege level and mode */
}

void emu_exec(struct emu_cpu *cpu)
{
	struct emu_core_cpu *cc = emu_core_of(cpu);
	int how;

	emu_core_enter(cpu, cc);
	if (!vpages_keep(cpu, cc))
		vpages_reset(cpu, cc);
	how = setjmp(cpu->jmp);

	if (how) {
		unwind(cpu, cc, how);
		if (atomic_load(&cpu->events) || cpu->stop)
			goto out;
	}
	if (cpu->prof)
		run_loop_profiled(cpu, cc);
	else
		run_loop_plain(cpu, cc);
out:
	cpu->cur = NULL;
	emu_core_quiesce(cpu, cc);
}

void emu_op_smc_exit(struct emu_cpu *cpu, const struct emu_insn *in)
{
	cpu->rip = in->rip;
	longjmp(cpu->jmp, EMU_JMP_RESTART);
}
