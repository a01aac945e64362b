/* Chaining (jit.h "Chaining"; docs/emu.md "Call threading", Linking):
 * the code of a block's chained entry and of its direct exits (the
 * emitter's side, called from jit.c), and the pointing of those exits at
 * their successors and back (the pool's side).
 *
 * An exit that is not chained goes to its block's link path:
 *
 *	mov qword [rbx + rip], successor	; as every exit
 *	jmp rel32 -> home			; the rel32 4-byte aligned
 *	...
 *   home:
 *	mov rcx, &b->link[0]; jmp link_check
 *
 * Chained, the rel32 goes to the successor's chained entry
 * (EMU_JIT_CHAINED): checks as the link check's, then cc->cur and the
 * successor's statistics, falling into its body; a failed check returns
 * to the dispatch loop with cpu->rip already the successor's. */
#include "emu/block.h"
#include "emu/core.h"
#include "emu/jit-emit.h"
#include "emu/jit-internal.h"

#include "common/util.h"

/* ---- code ------------------------------------------------------------------------ */

/* The link check's checks and counting (jit.c emit_link_stub(),
 * emit_link_enter()) with b's own values, each failed check a jne rel8
 * back to out. */
static void emit_checks(struct emit *e, const struct emu_block *b, uintptr_t out)
{
	static const uint8_t ev[] = { 0x83, 0xbb }, flag[] = { 0x80, 0xbb }; /* cmp [rbx+d32], 0 */
	static const uint8_t gen[] = { 0x49, 0x8b, 0x84, 0x24 }; /* mov rax, [r12 + d32] */
	static const uint8_t deref[] = { 0x48, 0x8b, 0x00 }; /* mov rax, [rax] */
	static const uint8_t cmp_gen[] = { 0x49, 0x3b, 0x84, 0x24 }; /* cmp rax, [r12 + d32] */
	static const uint8_t cur[] = { 0x49, 0x89, 0x84, 0x24 }; /* mov [r12 + d32], rax */
	static const uint8_t add_i8[] = { 0x48, 0x83, 0x83 }; /* add qword [rbx + d32], i8 */
	static const uint8_t user[] = { 0x0f, 0xb6, 0x83 }; /* movzx eax, byte [rbx + d32] */
	static const uint8_t imul[] = { 0x6b, 0xc0 }; /* imul eax, eax, i8 */
	static const uint8_t add_rax[] = { 0x48, 0x01, 0x83 }; /* add [rbx + d32], rax */
	const uint32_t checks[] = { offsetof(struct emu_cpu, events),
				    offsetof(struct emu_cpu, stop),
				    offsetof(struct emu_cpu, irq_shadow) };

	static_assert(EMU_BLOCK_MAX < 128, "a block's length is an imm8");
	for (unsigned i = 0; i < VS_ARRAY_SIZE(checks); i++) {
		put(e, i ? flag : ev, sizeof(ev));
		put32(e, checks[i]);
		put8(e, 0);
		put8(e, 0x75); /* jne out */
		put8(e, (uint8_t)(out - (e->x + 1)));
	}
	put(e, gen, sizeof(gen)); /* the cache's generation is still the vCPU's */
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, gen_src));
	put(e, deref, sizeof(deref));
	put(e, cmp_gen, sizeof(cmp_gen));
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, gen));
	put8(e, 0x75);
	put8(e, (uint8_t)(out - (e->x + 1)));
	put8(e, 0x48); /* mov rax, imm64: cc->cur = b */
	put8(e, 0xb8);
	put64(e, (uint64_t)(uintptr_t)b);
	put(e, cur, sizeof(cur));
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, cur));
	put(e, add_i8, sizeof(add_i8));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.insns));
	put8(e, (uint8_t)b->n);
	put(e, add_i8, sizeof(add_i8));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.blocks_run));
	put8(e, 1);
	put(e, user, sizeof(user));
	put32(e, (uint32_t)offsetof(struct emu_cpu, tlb_user));
	put(e, imul, sizeof(imul));
	put8(e, (uint8_t)b->n);
	put(e, add_rax, sizeof(add_rax));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.insns_user));
}

/* The cross-page entry's check: cc->vpage[v], cc->gpage[v] (v, the slot
 * of b's linear page) are b's linear and guest page, else out. */
static void emit_page_check(struct emit *e, const struct emu_block *b, uintptr_t out)
{
	static const uint8_t cmp[] = { 0x49, 0x3b, 0x84, 0x24 }; /* cmp rax, [r12 + d32] */
	unsigned v = (unsigned)(b->rip >> 12) & (EMU_VPAGES - 1);
	const uint64_t page[] = { b->rip & ~0xfffULL, b->gpa & ~0xfffULL };
	const size_t at[] = { offsetof(struct emu_core_cpu, vpage[v]),
			      offsetof(struct emu_core_cpu, gpage[v]) };

	for (unsigned i = 0; i < 2; i++) {
		put8(e, 0x48); /* mov rax, imm64 */
		put8(e, 0xb8);
		put64(e, page[i]);
		put(e, cmp, sizeof(cmp));
		put32(e, (uint32_t)at[i]);
		put8(e, 0x75); /* jne out */
		put8(e, (uint8_t)(out - (e->x + 1)));
	}
}

void emu_jit_emit_chained(struct emit *e, const struct emu_block *b)
{
	static const uint8_t ret[] = { 0x59, 0x41, 0x5c, 0x5b, 0xc3 }; /* pop rcx, r12, rbx; ret */
	static const uint8_t jmp[] = { 0xe9 };
	struct fixup body = emit_jump(e, jmp, sizeof(jmp));
	uintptr_t out = e->x;

	put(e, ret, sizeof(ret));
	assert(e->len == EMU_JIT_XCHAINED);
	emit_page_check(e, b, out);
	assert(e->len == EMU_JIT_CHAINED);
	emit_checks(e, b, out);
	fix_jump(e, body);
}

/* A direct exit to the successor (cpu->rip already set; fall: the end of
 * the last instruction, else its target): jmp
 * rel32, its rel32 4-byte aligned so that one store repoints it; it
 * goes to the link path (*to, fixed by emit_home()) until chained. */
static void emit_exit(struct emit *e, struct emu_block_exit *x, struct fixup *to, bool fall)
{
	static const uint8_t jmp[] = { 0xe9 };

	while ((e->x + 1) & 3)
		put8(e, 0x90); /* nop */
	*to = emit_jump(e, jmp, sizeof(jmp));
	x->fall = fall;
	x->at = (uint32_t)(e->len - 4);
}

/* The link path, where the n direct exits go until chained. */
static void emit_home(struct emit *e, const struct emu_block *b, struct emu_block_exit *x,
		      const struct fixup *to, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		fix_jump(e, to[i]);
		x[i].home = (uint16_t)(e->x - to[i].x);
	}
	emu_jit_emit_link_tail(e, b, false);
}

void emu_jit_emit_exits(struct emit *e, const struct emu_block *b, struct fixup taken,
			struct emu_block_exit *x)
{
	const struct emu_insn *last = &b->insn[b->n - 1];

	struct fixup to[EMU_BLOCK_EXITS];

	if (!taken.x) { /* JMP, CALL: cpu->rip is the target */
		emit_exit(e, &x[0], &to[0], false);
		emit_home(e, b, x, to, 1);
		return;
	}
	emit_exit(e, &x[0], &to[0], true);
	fix_jump(e, taken);
	emu_jit_emit_rip(e, last->imm);
	emit_exit(e, &x[1], &to[1], false);
	emit_home(e, b, x, to, 2);
}

/* ---- pointing exits ----------------------------------------------------------- */

/* Points exit x's jmp at rel32 rel: one aligned store, which a vCPU
 * fetching the jmp meanwhile sees whole (old or new). */
static void exit_point(struct emu_jit *j, const struct emu_block_exit *x, uint32_t rel)
{
	__atomic_store_n((uint32_t *)(void *)(j->rw + x->at), rel, __ATOMIC_RELAXED);
}

/* Back to the link path, and off x->to's list of direct jumps into it
 * (short: the blocks that run into this one). */
static void exit_unchain(struct emu_jit *j, struct emu_block_exit *x)
{
	struct emu_block_exit **pp = &x->to->in;

	exit_point(j, x, x->home);
	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	__atomic_store_n(&x->to, NULL, __ATOMIC_RELAXED); /* the loop reads it unlocked */
}

void emu_jit_chain(struct emu_jit *j, struct emu_block_exit *x, struct emu_block *to, bool cross)
{
	uintptr_t entry =
		(uintptr_t)(void *)to->code + (cross ? EMU_JIT_XCHAINED : EMU_JIT_CHAINED);

	if (x->to)
		exit_unchain(j, x);
	x->next = to->in;
	to->in = x;
	__atomic_store_n(&x->to, to, __ATOMIC_RELAXED);
	exit_point(j, x, (uint32_t)(entry - ((uintptr_t)j->rx + x->at + 4)));
}

void emu_jit_unchain(struct emu_jit *j, struct emu_block *b)
{
	if (!j)
		return;
	while (b->in) /* the head: no walk */
		exit_unchain(j, b->in);
	for (unsigned k = 0; k < EMU_BLOCK_EXITS; k++)
		if (b->exit[k].to)
			exit_unchain(j, &b->exit[k]);
}
