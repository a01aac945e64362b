/* What the emitter (jit.c) and the pool (jit-pool.c) share: the code's
 * size bounds, the pool's layout, and the emitter's two entry points. */
#ifndef VS_EMU_JIT_INTERNAL_H
#define VS_EMU_JIT_INTERNAL_H

#include "emu/block.h"
#include "emu/jit.h"

#define JIT_UNIT 32u /* allocation granule, bytes */
#define JIT_HEAD EMU_JIT_ENTRY /* push rbx, r12, rax; mov rbx, rdi; mov r12, rsi; frame */
#define JIT_HEAD_MAX 192u /* the head, the jump over the return, the chained entries */
#define JIT_INSN_MAX 192u /* the longest inlined form (an ALU RMW in memory) and its call */
#define JIT_TAIL_MAX 384u /* the last instruction, CALL/RET inline, direct exits, link check */
#define JIT_CODE_MAX (JIT_HEAD_MAX + EMU_BLOCK_MAX * JIT_INSN_MAX + JIT_TAIL_MAX)
#define JIT_CLASSES ((JIT_CODE_MAX + JIT_UNIT - 1) / JIT_UNIT + 1)
#define JIT_STUB_BYTES 576u /* the SMC stub at the pool's start, then the link checks */
#define JIT_LINK 32u /* offset of the link check (jit.c emit_link_stub()) */
#define JIT_LINK_DIRECT 320u /* the same without the jump table, for direct exits */

struct emu_jit {
	uint8_t *rx; /* executable view */
	uint8_t *rw; /* writable view of the same pages */
	size_t size;
	size_t top; /* bytes handed out from the start, never given back */
	size_t live; /* bytes held by blocks */
	uint64_t inlined; /* instructions given code in place so far */
	uint64_t ends; /* block-final branches decided in place so far */
	bool link; /* blocks' code follows their links (jit.h "Linking") */
	/* Free chunks by size in granules; each chunk's first 4 bytes (in the
	 * writable view) hold the next chunk's offset + 1, 0 ending the list. */
	uint32_t free[JIT_CLASSES];
};

/* Emits b's code at w (the writable view; NULL: only sizing), which is
 * x in the executable view; returns its length and adds to *inlined the
 * instructions done in place, to *ends 1 if its last one was decided in
 * place. Fills in exits' rip, home and at (relative to the code's start;
 * 0: none) for each direct exit (jit.h "Chaining"); exits come zeroed. */
size_t emu_jit_emit_block(const struct emu_jit *j, const struct emu_block *b, uint8_t *w,
			  uintptr_t x, uint64_t *inlined, uint64_t *ends,
			  struct emu_block_exit exits[EMU_BLOCK_EXITS]);

/* Writes the pool's first JIT_STUB_BYTES: the SMC stub and the link
 * check. */
void emu_jit_emit_stubs(struct emu_jit *j);

#endif
