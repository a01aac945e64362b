/* Call-threaded host code for decoded blocks (core-private; docs/emu.md
 * "Call threading").
 *
 * For each block, a few bytes of x86-64 that do what the dispatch loop's
 * interpreter does, straight-line: per instruction, cpu->cur = &insn[i]
 * and a call of its handler with (cpu, &insn[i]); before the last one,
 * cpu->rip = its end; the last handler is tail-called. Only our own
 * pointers and immediates are emitted, never guest bytes. Each
 * instruction gets its own call site, so the host predicts each one,
 * where the interpreter's one indirect call site mispredicts.
 *
 * The code lives in a per-VM pool: one memfd mapped twice, writable at one
 * address and executable at another (W^X per mapping), the executable view
 * placed near the binary so calls are rel32 (else mov rax, imm64; call rax).
 * Callers hold the block cache's lock for every function here but
 * emu_jit_enabled() and emu_jit_link_enabled().
 *
 * Linking (single-vCPU pools): a block that is not EMU_IF_SYS and does
 * not straddle calls its last handler too, then goes to the pool's link
 * check: if cpu->rip is the rip of one of its b->link[] whose generation
 * is the cache's current one, whose code page translation is the one the
 * dispatch loop has cached, and no event, stop request or interrupt
 * shadow is pending, it sets cc->cur and counts the successor's
 * statistics, as the dispatch loop does, and jumps to the link's entry
 * (the successor's linked entry) instead of returning. The dispatch loop
 * fills the links and decides which the code may follow (exec.c
 * chain_add()). When cpu->rip is neither link (a RET to one of many
 * callers, an indirect JMP or CALL), the check looks it up in the
 * vCPU's jump table (emu_core_cpu.jump, filled by the dispatch loop:
 * exec.c jump_add()), whose slots are links by another name, and goes
 * on the same way, in 64-bit mode only.
 *
 * Chaining (the same pools): an exit whose successor's RIP is known when
 * the code is generated (JMP rel, both sides of a Jcc decided in place,
 * CALL rel32 done in place) sets cpu->rip and then has a jmp rel32 of its
 * own, which goes to the link check until the dispatch loop, having made
 * a link to a successor (in the same code page, or in 64-bit code in
 * another), points it straight at that block's chained entry
 * (emu_jit_chain()). The chained entry does what
 * the link check does with immediates: back to the loop when the cache's
 * generation is not the vCPU's (or, entered from another page, the
 * loop's cached translation of the block's page is not the block's),
 * or an event, stop request or interrupt shadow is pending; else cc->cur
 * and the block's statistics, then its instructions. Every direct jump into a block and out of it is put back
 * to the link check when the block is retired (emu_jit_unchain()),
 * before its generation is published, so no vCPU can reach a block's
 * code through one once that code may be freed. */
#ifndef VS_EMU_JIT_H
#define VS_EMU_JIT_H

#include "emu/internal.h"

struct emu_block;
struct emu_block_exit;
struct emu_core_cpu;
struct emu_jit;

/* Entry of a block's code: runs the block's instructions on cpu, and
 * with linking its linked successors. It sets cc->cur to each block it
 * enters (this one included) and counts each in cpu->stats (insns,
 * insns_user, blocks_run); cc->jit_frame is set to the generated frame's
 * stack pointer while the code runs (see emu_jit_cut()); the caller
 * resets it to 0 when the code returns or longjmps out. */
typedef void (*emu_jit_code)(struct emu_cpu *cpu, struct emu_core_cpu *cc);

/* Whether a VM with this configuration generates code: cfg->jit, or for
 * EMU_JIT_DEFAULT the environment (VESSEL_EMU_JIT=0 turns it off). */
bool emu_jit_enabled(const struct emu_vm_config *cfg);

/* Whether a VM with this configuration links its blocks' code: only with
 * one vCPU, and for EMU_JIT_DEFAULT unless the environment has
 * VESSEL_EMU_LINK=0 (A/B comparisons). */
bool emu_jit_link_enabled(const struct emu_vm_config *cfg);

/* A pool of about size bytes of code; link: its blocks' code follows
 * b->link[] (see "Linking" above; only for a VM with one vCPU). Returns 0
 * or -errno (no memfd, no executable mapping); then the VM interprets
 * every block. */
int emu_jit_new(size_t size, bool link, struct emu_jit **out);
void emu_jit_free(struct emu_jit *j);

/* Generates b's code (b->code, b->code_bytes). Returns false, leaving
 * b->code NULL, when the pool has no room: b is then interpreted. */
bool emu_jit_compile(struct emu_jit *j, struct emu_block *b);

/* How many instructions (not counting each block's last) compiled code
 * does in place rather than by calling their handler: for tests. */
uint64_t emu_jit_inlined(const struct emu_jit *j);

/* How many blocks' last instruction (JMP, Jcc) compiled code decides in
 * place rather than by calling its handler: for tests. */
uint64_t emu_jit_ends_inlined(const struct emu_jit *j);

/* A block's linked entry, where linked code continues into it: this many
 * bytes into its code (past the frame set-up). */
#define EMU_JIT_ENTRY 18u

/* A block's chained entries, where direct exits jump: this many bytes
 * into its code (past the linked entry's jump to the body and the
 * return). The cross-page one first checks that the dispatch loop's
 * cached translation of the block's code page is the block's (as the
 * link check does for a link across pages; 64-bit code only), then
 * falls into the other. */
#define EMU_JIT_XCHAINED (EMU_JIT_ENTRY + 10u)
#define EMU_JIT_CHAINED (EMU_JIT_XCHAINED + 40u)

/* Points the direct exit x of a block straight at to's chained entry
 * (cross: the cross-page one; to has code, neither block is retired).
 * Called with the cache's lock, on the vCPU's own thread. */
void emu_jit_chain(struct emu_jit *j, struct emu_block_exit *x, struct emu_block *to, bool cross);

/* Puts every direct jump into b and out of b back to its link path (b is
 * being retired). Called with the cache's lock, on any thread; each jump
 * is rewritten with one aligned 4-byte store, so a vCPU running the code
 * meanwhile takes the old or the new jump, both valid. */
void emu_jit_unchain(struct emu_jit *j, struct emu_block *b);

/* Gives b's code back to the pool: only once no vCPU can run b. */
void emu_jit_release(struct emu_jit *j, struct emu_block *b);

/* The running block's next instruction must not run (its bytes were just
 * overwritten by the current one): a handler called from generated code
 * whose frame is frame returns into a stub that leaves the block at the
 * next instruction, as emu_op_smc_exit() does for the interpreter. Called
 * on the vCPU's own thread, from inside that handler. */
void emu_jit_cut(struct emu_jit *j, uintptr_t frame);

#endif
