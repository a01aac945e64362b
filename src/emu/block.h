/* Decoded blocks and the per-vCPU state of the dispatch loop (core-private). */
#ifndef VS_EMU_BLOCK_H
#define VS_EMU_BLOCK_H

#include "emu/internal.h"
#include "emu/jit.h"

#define EMU_BLOCK_MAX 64 /* instructions per block */
#define EMU_NO_GPA UINT64_MAX
#define EMU_FAST_BITS 14 /* per-vCPU direct-mapped block lookup */
#define EMU_VPAGES 256 /* code page translations the dispatch loop keeps */
#define EMU_JMP_RESTART 0x5e1f /* longjmp value: leave the block, no exception */

/* A slot of the per-vCPU lookup: b is valid only while gen is the vCPU's
 * current generation, so catching up with invalidations costs no clearing
 * of the table. 2^14 slots: a stock Linux boot plus 2.5 GiB of 1 MiB
 * O_DIRECT reads missed 2^11 of them on 1 block in 24, 2^14 on 1 in 127. */
struct emu_fast_slot {
	struct emu_block *b;
	uint64_t gen;
};

#define EMU_BLOCK_LINKS 2 /* successors a block remembers (chaining) */
#define EMU_JUMP_BITS 10 /* per-vCPU table of blocks by RIP, for the link check */

/* A successor a block remembers (block chaining): b and gen as in a lookup
 * slot (generation 0 is never current, so a zeroed link is empty). The
 * rest is for the predecessor's generated code (jit.h "Linking"), which
 * goes on into b when cpu->rip is rip and the dispatch loop's cached
 * translation of b's code page (at byte offset vslot of emu_core_cpu:
 * vpage[v], and gpage[v] just after) is still vpage -> gpage: to entry,
 * b's linked entry, or 0 (back to the loop) for a link the code must not
 * follow by itself (exec.c link_safe()). */
struct emu_block_link {
	struct emu_block *b;
	uint64_t gen;
	uint64_t rip;
	uintptr_t entry;
	uint64_t vslot;
	uint64_t vpage, gpage;
};

/* A slot of the per-vCPU jump table (exec.c jump_add()): the block last
 * dispatched at a RIP, hashed by RIP, in a link's layout so that the
 * link check validates it with the same code (jit.c emit_link_stub()).
 * A cache line each. */
struct emu_jump_slot {
	struct emu_block_link l;
	uint64_t pad;
} __attribute__((aligned(64)));

/* An exit of a block's code whose successor's RIP is known when the code
 * is generated (a JMP rel, either side of a Jcc decided in place, a CALL
 * rel32 done in place): a jmp rel32 of its own that goes to the block's
 * link path (its link check) until the dispatch loop points it straight
 * at the successor's chained entry (jit.h "Chaining"). Changed only under
 * the block cache's lock. */
struct emu_block_exit {
	struct emu_block *to; /* the block it jumps to directly, or NULL */
	struct emu_block_exit *next; /* on to->in */
	uint32_t at; /* pool offset of the jmp's rel32; 0: no such exit */
	uint16_t home; /* the rel32 that goes to the link path */
	bool fall; /* to the end of the last instruction, else to its imm */
};

#define EMU_BLOCK_EXITS 2

struct emu_block {
	/* What every dispatch reads comes first (one cache line, mostly). */
	uint64_t gpa; /* of the first byte */
	uint64_t rip; /* virtual RIP of the first instruction */
	uint64_t gpa2; /* page the first instruction straddles into, or EMU_NO_GPA */
	uint8_t mode; /* enum emu_mode it was decoded for */
	bool dead; /* invalidated; no longer reachable from the hash */
	bool sys; /* the last instruction is EMU_IF_SYS (may change translations) */
	uint16_t n;
	uint32_t code_bytes; /* of code, in the pool */
	/* Call-threaded host code doing what the interpreter does with insn[]
	 * (jit.h), or NULL: interpreted. Set before the block is published,
	 * freed with the block. */
	emu_jit_code code;
	/* Block chaining: the blocks this one ran into last, tagged like the
	 * per-vCPU lookup's slots. Only a VM's single vCPU uses them (see
	 * exec.c); zeroed at build. Generated code reads them too. */
	struct emu_block_link link[EMU_BLOCK_LINKS];
	/* Chaining: this block's direct exits, and the other blocks' exits
	 * that jump straight into it (jit.h "Chaining"); under the lock. */
	struct emu_block_exit exit[EMU_BLOCK_EXITS];
	struct emu_block_exit *in;
	uint64_t gpa_end; /* one past the last byte in the first page's numbering */
	struct emu_block *_Atomic hnext; /* lookup hash chain */
	struct emu_block *pnext; /* list of the first page */
	struct emu_block *pnext2; /* list of the second page (straddlers) */
	struct emu_block *rnext; /* retired list */
	uint64_t retire_gen;
	struct emu_insn insn[];
};

/* The RIP of the successor exit x of b goes to. */
static inline uint64_t emu_block_exit_rip(const struct emu_block *b, const struct emu_block_exit *x)
{
	const struct emu_insn *last = &b->insn[b->n - 1];

	return x->fall ? last->rip + last->len : (uint64_t)last->imm;
}

struct emu_core_cpu {
	struct emu_fast_slot fast[1u << EMU_FAST_BITS];
	uint64_t gen; /* cache generation this vCPU has seen */
	_Atomic uint64_t *gen_src; /* the cache's generation counter */
	struct emu_block *cur; /* block being executed, or NULL */
	bool building; /* inside emu_block_build (a fetch may fault) */
	bool chain; /* blocks may be chained: the VM has this one vCPU */
	struct emu_jit *jit; /* the cache's code pool, or NULL */
	/* While generated code runs: its frame (jit.h emu_jit_code), else 0. */
	uintptr_t jit_frame;
	/* The code pages translated last (linear page -> gpa page), direct-
	 * mapped by linear page: used without emu_fetch_ptr() while no TLB
	 * flush, privilege level or mode change happened since (only system
	 * blocks, faults and the system layer between emu_exec() calls can
	 * do those: exec.c vpages_keep()). vpage EMU_TLB_INVALID: none. */
	uint64_t vpage[EMU_VPAGES], gpage[EMU_VPAGES];
	/* What the translations above were made under (since their last
	 * reset): cpu->tlb_epoch, cpl and mode (exec.c vpages_keep()). */
	uint64_t vepoch;
	uint8_t vcpl, vmode;
	/* Whether the loop fills jump[]: this vCPU's blocks' code has the
	 * link check (one vCPU, linking on). */
	bool jump_fill;
	/* For the link check when cpu->rip is neither link (exec.c
	 * jump_add()): the dispatch loop's blocks by RIP. Zeroed at start
	 * (generation 0: empty). */
	struct emu_jump_slot jump[1u << EMU_JUMP_BITS];
};

/* The calling vCPU's core state (allocated on first use). */
struct emu_core_cpu *emu_core_of(struct emu_cpu *cpu);
/* At a block boundary: catch up with invalidations (a new generation
 * when blocks were retired: cc->fast's older slots no longer count) and
 * publish that this vCPU holds no block. */
void emu_core_sync(struct emu_cpu *cpu, struct emu_core_cpu *cc);
/* Entering emu_exec(): publish and sync before the first lookup. */
void emu_core_enter(struct emu_cpu *cpu, struct emu_core_cpu *cc);
/* Leaving emu_exec(): this vCPU holds no block until it syncs again. */
void emu_core_quiesce(struct emu_cpu *cpu, struct emu_core_cpu *cc);

/* The live block for (gpa, rip, mode), or NULL. Lock-free. */
struct emu_block *emu_block_find(struct emu_vm *vm, uint64_t gpa, uint64_t rip, unsigned mode);
/* Decodes and inserts the block at cpu->rip, whose first byte is at lin /
 * gpa with p[0..avail) readable in its page. May raise #PF (straddling
 * first instruction); then call emu_block_build_abort(). */
struct emu_block *emu_block_build(struct emu_cpu *cpu, uint64_t gpa, uint64_t lin, const uint8_t *p,
				  unsigned avail);
void emu_block_build_abort(struct emu_cpu *cpu);

/* Points prev's direct exits to b's RIP straight at b's code (jit.h
 * "Chaining"; counted in cpu->stats.chains), unless either was retired
 * meanwhile. Only for a VM with one vCPU, from its dispatch loop, for a
 * link its code may follow (exec.c link_safe()); cross: b is not in
 * prev's code page at the same offset (then 64-bit code only), so the
 * jump checks the translation of b's page. */
void emu_block_chain(struct emu_cpu *cpu, struct emu_block *prev, struct emu_block *b, bool cross);

/* Handler put in place of the next instruction of a block that was
 * invalidated while executing (self-modifying code). */
void emu_op_smc_exit(struct emu_cpu *cpu, const struct emu_insn *in);

#endif
