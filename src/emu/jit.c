/* Call-threaded host code for decoded blocks (jit.h has the contract).
 *
 * Map: the emitter, inlined handlers, a block's entry, exit and the link
 * check, the blocks, the pool's stubs: SMC return and link check (the
 * pool itself is jit-pool.c).
 *
 * A block of n instructions becomes, with rbx = cpu, r12 = cc (System V
 * ABI: both callee-saved, so every handler keeps them):
 *
 *	push rbx; push r12; push rax	; rsp is now 16-aligned for every call below
 *	mov rbx, rdi
 *	mov r12, rsi
 *	mov [r12 + jit_frame], rsp	; where each handler's return address sits
 *   the linked entry (JIT_HEAD bytes in), where linked predecessors jump:
 *	jmp body; pop rcx; pop r12; pop rbx; ret
 *   the chained entry (EMU_JIT_CHAINED; direct exits jump here, jit-chain.c)
 *   body:
 *   per instruction i < n-1:
 *	mov rsi, &insn[i]
 *	mov [rbx + cur], rsi
 *	mov rdi, rbx
 *	call handler_i		; rel32, or mov rax, imm64; call rax
 *   the last one:
 *	mov rsi, &insn[n-1]
 *	mov [rbx + cur], rsi
 *	mov qword [rbx + rip], rip_end	; imm32 sign-extended, or through rax
 *	mov rdi, rbx
 *   without linking (a sys or straddling block, or a multi-vCPU pool):
 *	pop rcx; pop r12; pop rbx
 *	jmp handler_n-1		; tail call: it returns to the dispatch loop
 *   with linking:
 *	call handler_n-1
 *	mov rcx, &b->link[0]
 *	jmp link_check		; one copy in the pool (emit_link_stub()): it
 *				; counts the successor and jumps to its linked
 *				; entry, or pops the frame and returns
 *   before that, a direct exit per successor known (jit-chain.c)
 *
 * Linked blocks run in the first block's frame (each jumps to the next,
 * rsp unchanged), so cc->jit_frame stays right for emu_jit_cut(). A fault
 * longjmps out of a handler: the frame (saved registers, which longjmp
 * restores anyway) is simply abandoned. */
#include "emu/jit.h"

#include "common/util.h"
#include "emu/block.h"
#include "emu/core.h"
#include "emu/jit-emit.h"
#include "emu/jit-internal.h"

#include <assert.h>
#include <string.h>

/* ---- emitter ---------------------------------------------------------------- */

/* Whether rel32 reaches target from anywhere in the pool: the code's size
 * then does not depend on where in the pool it lands, so a block is sized
 * before it is placed and a freed chunk fits a block of the same shape. */
static bool near(const struct emu_jit *j, uintptr_t target)
{
	int64_t lo = (int64_t)(target - (uintptr_t)j->rx);
	int64_t hi = (int64_t)(target - ((uintptr_t)j->rx + j->size));

	return lo == (int32_t)lo && hi == (int32_t)hi;
}

/* A call (E8 / FF D0) or jump (E9 / FF E0) to target: rel32 when the
 * target is within reach, else through rax (a scratch register for the
 * System V ABI, and not an argument). */
static void emit_xfer(struct emit *e, bool call, uintptr_t target)
{
	if (near(e->j, target)) {
		uint32_t rel = (uint32_t)(target - (e->x + 5));

		put8(e, call ? 0xe8 : 0xe9);
		put32(e, rel);
		return;
	}
	put8(e, 0x48); /* mov rax, imm64 */
	put8(e, 0xb8);
	put64(e, target);
	put8(e, 0xff);
	put8(e, call ? 0xd0 : 0xe0);
}

/* mov rsi, &in; mov [rbx + cur], rsi */
static void emit_cur(struct emit *e, const struct emu_insn *in)
{
	static const uint8_t mov_cur[] = { 0x48, 0x89, 0xb3 };

	put8(e, 0x48);
	put8(e, 0xbe);
	put64(e, (uint64_t)(uintptr_t)in);
	put(e, mov_cur, sizeof(mov_cur));
	put32(e, (uint32_t)offsetof(struct emu_cpu, cur));
}

/* mov qword [rbx + rip], v */
static void emit_set_rip(struct emit *e, uint64_t v)
{
	static const uint8_t mov_imm[] = { 0x48, 0xc7, 0x83 };
	static const uint8_t mov_rax[] = { 0x48, 0x89, 0x83 };
	uint32_t off = (uint32_t)offsetof(struct emu_cpu, rip);

	if ((int64_t)v == (int32_t)v) {
		put(e, mov_imm, sizeof(mov_imm));
		put32(e, off);
		put32(e, (uint32_t)v);
		return;
	}
	put8(e, 0x48); /* mov rax, imm64 */
	put8(e, 0xb8);
	put64(e, v);
	put(e, mov_rax, sizeof(mov_rax));
	put32(e, off);
}

/* ---- inlined handlers ------------------------------------------------------------ */

/* The few hottest handlers that cannot fault and only move registers are
 * emitted in place, with no call and no cpu->cur (a fault can only come
 * from a later, called, handler, which sets it): MOV between registers
 * and of immediates, LEA with 64-bit addressing, NOP, all at operand size
 * 8 or 4 (4 zero-extends, as emu_reg_set() does). rax and rcx are
 * scratch; rbx = cpu, cpu->r[] reached with disp8. */

/* mov rax/eax (or rcx), cpu->r[r] */
static void emit_load(struct emit *e, unsigned r, unsigned size, bool rcx)
{
	if (size == 8)
		put8(e, 0x48);
	put8(e, 0x8b);
	put8(e, rcx ? 0x4b : 0x43);
	put8(e, reg_disp(r));
}

/* mov cpu->r[r], rax */
static void emit_store(struct emit *e, unsigned r)
{
	static const uint8_t mov[] = { 0x48, 0x89, 0x43 };

	put(e, mov, sizeof(mov));
	put8(e, reg_disp(r));
}

/* cpu->r[r] = v (already zero-extended for size 4) */
static void emit_store_imm(struct emit *e, unsigned r, uint64_t v)
{
	static const uint8_t mov[] = { 0x48, 0xc7, 0x43 };

	if ((int64_t)v == (int32_t)v) {
		put(e, mov, sizeof(mov));
		put8(e, reg_disp(r));
		put32(e, (uint32_t)v);
		return;
	}
	put8(e, 0x48); /* mov rax, imm64 */
	put8(e, 0xb8);
	put64(e, v);
	emit_store(e, r);
}

/* rax = r[base] + (r[index] << scale) + disp, 64-bit (disp fits int32). */
static void emit_ea(struct emit *e, const struct emu_insn *in)
{
	static const uint8_t mov_rax_imm[] = { 0x48, 0xc7, 0xc0 };
	bool base = in->base != EMU_NOREG, index = in->index != EMU_NOREG;
	uint8_t sib = (uint8_t)(in->scale << 6 | 1 << 3); /* index rcx */

	if (!base && !index) {
		put(e, mov_rax_imm, sizeof(mov_rax_imm));
		put32(e, (uint32_t)in->disp);
		return;
	}
	if (base)
		emit_load(e, in->base, 8, false);
	if (index)
		emit_load(e, in->index, 8, true);
	put8(e, 0x48);
	put8(e, 0x8d);
	if (base && index) { /* lea rax, [rax + rcx*s + disp32] */
		put8(e, 0x84);
		put8(e, sib);
	} else if (base) { /* lea rax, [rax + disp32] */
		put8(e, 0x80);
	} else { /* lea rax, [rcx*s + disp32] */
		put8(e, 0x04);
		put8(e, sib | 5);
	}
	put32(e, (uint32_t)in->disp);
}

/* LEA: the effective address, truncated to 32 bits for operand size 4. */
static void emit_lea(struct emit *e, const struct emu_insn *in)
{
	emit_ea(e, in);
	if (in->opsize == 4) { /* mov eax, eax */
		put8(e, 0x89);
		put8(e, 0xc0);
	}
	emit_store(e, in->reg);
}

/* The call of in's handler, as the interpreter makes it. */
static void emit_call_insn(struct emit *e, const struct emu_insn *in)
{
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };

	emit_cur(e, in);
	put(e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	emit_xfer(e, true, (uintptr_t)in->fn);
}

enum mem_op { MEM_LOAD, MEM_STORE, MEM_PUSH, MEM_POP, MEM_STORE_IMM, MEM_ZX8, MEM_ZX16 };

/* rax = the linear address of the access (SS-relative for PUSH/POP). */
static void emit_lin(struct emit *e, const struct emu_insn *in, enum mem_op op)
{
	static const uint8_t sub8[] = { 0x48, 0x83, 0xe8, 0x08 }; /* sub rax, 8 */

	if (op == MEM_PUSH || op == MEM_POP) {
		emit_load(e, EMU_RSP, 8, false);
		if (op == MEM_PUSH)
			put(e, sub8, sizeof(sub8));
		return;
	}
	emit_ea(e, in);
	if (in->seg >= EMU_FS) { /* add rax, [rbx + seg[s].base] */
		put8(e, 0x48);
		put8(e, 0x03);
		put8(e, 0x83);
		put32(e, (uint32_t)offsetof(struct emu_cpu, seg[in->seg].base));
	}
}

/* With rax = lin: the TLB check (the fixup jumps to the miss path), then
 * rax = host address. */
static void emit_tlb(struct emit *e, bool write, unsigned size, struct fixup *miss)
{
	static const uint8_t page[] = { 0x48, 0x89, 0xc1, 0x48, 0xc1, 0xe9, 0x0c, 0x81, 0xe1 };
	static const uint8_t idx[] = { 0xc1, 0xe1, 0x05, 0x0f, 0xb6, 0x93 };
	static const uint8_t last[] = { 0x48, 0x01, 0xd1, 0x48, 0x8d, 0x50 };
	static const uint8_t sel[] = { 0x48, 0x81, 0xe2, 0x00, 0xf0, 0xff,
				       0xff, 0x48, 0x3b, 0x94, 0x0b };
	static const uint8_t jne[] = { 0x0f, 0x85 };
	static const uint8_t add_addend[] = { 0x48, 0x03, 0x84, 0x0b };
	size_t tlb = offsetof(struct emu_cpu, tlb);

	/* rcx = entry offset: ((lin >> 12) & (EMU_TLB_SIZE - 1)) * 32 +
	 * tlb_user * sizeof(struct emu_tlb) */
	put(e, page, sizeof(page)); /* mov rcx, rax; shr rcx, 12; and ecx, imm32 */
	put32(e, EMU_TLB_SIZE - 1);
	put(e, idx, sizeof(idx)); /* shl ecx, 5; movzx edx, byte [rbx + tlb_user] */
	put32(e, (uint32_t)offsetof(struct emu_cpu, tlb_user));
	put8(e, 0xc1); /* shl edx, log2(sizeof(struct emu_tlb)) */
	put8(e, 0xe2);
	put8(e, EMU_TLB_BITS + 5);
	/* add rcx, rdx; lea rdx, [rax + size - 1]; and rdx, ~0xfff; cmp rdx,
	 * [rbx + rcx + tag]: the page of the access's last byte against the
	 * first byte's entry, so the one compare also sends an access that
	 * crosses a page (or runs into non-canonical addresses) to the handler */
	put(e, last, sizeof(last));
	put8(e, (uint8_t)(size - 1));
	put(e, sel, sizeof(sel));
	put32(e, (uint32_t)(tlb + (write ? offsetof(struct emu_tlb_entry, tag_write) :
					   offsetof(struct emu_tlb_entry, tag_read))));
	*miss = emit_jump(e, jne, sizeof(jne));
	put(e, add_addend, sizeof(add_addend)); /* rax = host address */
	put32(e, (uint32_t)(tlb + offsetof(struct emu_tlb_entry, addend)));
}

/* The access itself, at host address rax; then what the handler does
 * after it (RSP moves only once the access succeeded, as in emu_push()
 * and emu_pop()). */
static void emit_access(struct emit *e, const struct emu_insn *in, enum mem_op op)
{
	static const uint8_t sub_rsp[] = { 0x48, 0x83, 0x6b }, add_rsp[] = { 0x48, 0x83, 0x43 };
	bool w = in->opsize == 8;

	if (op == MEM_ZX8 || op == MEM_ZX16) { /* movzx eax, byte/word [rax]; r[reg] = rax */
		put8(e, 0x0f);
		put8(e, op == MEM_ZX8 ? 0xb6 : 0xb7);
		put8(e, 0x00);
		emit_store(e, in->reg);
		return;
	}
	if (op == MEM_STORE_IMM) { /* mov qword/dword [rax], imm32 */
		if (w)
			put8(e, 0x48);
		put8(e, 0xc7);
		put8(e, 0x00);
		put32(e, (uint32_t)in->imm);
		return;
	}
	if (op == MEM_STORE || op == MEM_PUSH) { /* mov rdx/edx, r[reg]; mov [rax], rdx/edx */
		if (w)
			put8(e, 0x48);
		put8(e, 0x8b);
		put8(e, 0x53);
		put8(e, reg_disp(in->reg));
		if (w)
			put8(e, 0x48);
		put8(e, 0x89);
		put8(e, 0x10);
	} else { /* mov rax/eax, [rax] */
		if (w)
			put8(e, 0x48);
		put8(e, 0x8b);
		put8(e, 0x00);
	}
	if (op == MEM_PUSH || op == MEM_POP) { /* sub/add qword [rbx + rsp], 8 */
		put(e, op == MEM_PUSH ? sub_rsp : add_rsp, sizeof(sub_rsp));
		put8(e, reg_disp(EMU_RSP));
		put8(e, 8);
	}
	if (op == MEM_LOAD || op == MEM_POP) /* POP RSP: the loaded value wins */
		emit_store(e, in->reg);
}

/* MOV between a register and memory (operand size 8 or 4, 64-bit
 * addressing) and PUSH/POP of a register (size 8), in long mode: the TLB
 * fast path of emu_read_lin() / emu_write_lin() in place, and on a miss
 * or a page-crossing access the handler itself, which then takes its slow
 * path (walk, MMIO, code pages, faults). Nothing architectural changes
 * before the checks pass. SS needs no canonical check here: TLB tags are
 * canonical, so a non-canonical address misses and the handler raises
 * #SS(0). */
static_assert(sizeof(struct emu_tlb_entry) == 32, "TLB index above");
static_assert(sizeof(struct emu_tlb) == 1u << (EMU_TLB_BITS + 5), "TLB select above");
static_assert(offsetof(struct emu_cpu, tlb) + 2 * sizeof(struct emu_tlb) < 1u << 31,
	      "TLB entries need disp32");

static void emit_mem(struct emit *e, const struct emu_insn *in, enum mem_op op)
{
	static const uint8_t jmp[] = { 0xe9 };
	struct fixup miss, done;

	unsigned size = op == MEM_ZX8 ? 1 : op == MEM_ZX16 ? 2 : in->opsize;

	emit_lin(e, in, op);
	emit_tlb(e, op == MEM_STORE || op == MEM_PUSH || op == MEM_STORE_IMM, size, &miss);
	emit_access(e, in, op);
	done = emit_jump(e, jmp, sizeof(jmp));
	fix_jump(e, miss);
	emit_call_insn(e, in);
	fix_jump(e, done);
}

/* MOVZX from a register (not AH..BH) or from memory, into 32/64 bits. */
static bool emit_movzx(struct emit *e, const struct emu_insn *in, bool zx8, bool mem_ok)
{
	if (in->mod != 3) {
		if (!mem_ok)
			return false;
		emit_mem(e, in, zx8 ? MEM_ZX8 : MEM_ZX16);
		return true;
	}
	if (zx8 && (in->flags & EMU_IF_HIGH8M))
		return false;
	put8(e, 0x0f); /* movzx eax, byte/word [rbx + r[rm]] */
	put8(e, zx8 ? 0xb6 : 0xb7);
	put8(e, 0x43);
	put8(e, reg_disp(in->rm));
	emit_store(e, in->reg);
	return true;
}

/* Emits in's effect in place when it is one of the inlined forms. */
static bool emit_inline(struct emit *e, const struct emu_block *b, const struct emu_insn *in)
{
	unsigned sz = in->opsize;
	uint64_t imm = sz == 4 ? (uint32_t)in->imm : in->imm;
	bool ea_ok = in->adsize == 8 && in->disp == (int32_t)in->disp;
	bool long64 = b->mode == EMU_MODE_LONG64;
	emu_handler fn = emu_fast_generic(in->fn); /* exec-fast.c's forms are the same insns */

	if (fn == emu_op_nop)
		return true;
	if (emu_jit_emit_alu(e, b, in, fn))
		return true;
	if (sz != 8 && sz != 4)
		return false;
	if (fn == emu_op_mov_EG_r || fn == emu_op_mov_GE_r) {
		bool eg = fn == emu_op_mov_EG_r;

		emit_load(e, eg ? in->reg : in->rm, sz, false);
		emit_store(e, eg ? in->rm : in->reg);
	} else if (fn == emu_op_mov_EI_r || fn == emu_op_mov_OI) {
		emit_store_imm(e, fn == emu_op_mov_OI ? in->reg : in->rm, imm);
	} else if (fn == emu_op_lea && ea_ok) {
		emit_lea(e, in);
	} else if ((fn == emu_op_mov_GE_m || fn == emu_op_mov_EG_m) && ea_ok && long64) {
		emit_mem(e, in, fn == emu_op_mov_EG_m ? MEM_STORE : MEM_LOAD);
	} else if ((fn == emu_op_push_O || fn == emu_op_pop_O) && sz == 8 && long64) {
		emit_mem(e, in, fn == emu_op_push_O ? MEM_PUSH : MEM_POP);
	} else if (fn == emu_op_mov_EI_m && ea_ok && long64 &&
		   (sz == 4 || (int64_t)in->imm == (int32_t)in->imm)) {
		emit_mem(e, in, MEM_STORE_IMM);
	} else if (fn == emu_op_movzx8 || fn == emu_op_movzx16) {
		return emit_movzx(e, in, fn == emu_op_movzx8, ea_ok && long64);
	} else {
		return false;
	}
	return true;
}

void emu_jit_emit_rip(struct emit *e, uint64_t v)
{
	emit_set_rip(e, v);
}

void emu_jit_emit_call(struct emit *e, const struct emu_insn *in)
{
	emit_call_insn(e, in);
}

void emu_jit_emit_call_cpu(struct emit *e, uintptr_t fn)
{
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };

	put(e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	emit_xfer(e, true, fn);
}

void emu_jit_emit_tlb(struct emit *e, const struct emu_insn *in, bool write, unsigned size,
		      struct fixup *miss)
{
	emit_lin(e, in, MEM_LOAD);
	emit_tlb(e, write, size, miss);
}

/* ---- blocks: entry, exit and links ---------------------------------------------- */

/* pop rcx; pop r12; pop rbx: the frame of the entry, undone (rcx is
 * scratch, and no argument); without linking pop rbx. */
static void emit_pop_frame(struct emit *e)
{
	static const uint8_t pops[] = { 0x59, 0x41, 0x5c, 0x5b };

	put(e, e->j->link ? pops : pops + 3, e->j->link ? sizeof(pops) : 1); /* or pop rbx */
}

/* The entry from the dispatch loop: push rbx, r12, rax (rsp 16-aligned
 * again); rbx = cpu; r12 = cc; cc->jit_frame = rsp (without linking only
 * rbx, as the code needs no cc). Linked predecessors
 * enter just after it (JIT_HEAD), in the same frame, and jump over the
 * return to the loop and the chained entry (EMU_JIT_CHAINED), which
 * falls into the body. */
static void emit_head(struct emit *e, const struct emu_block *b)
{
	/* push rbx; push r12; push rax; mov rbx, rdi; mov r12, rsi; mov [r12 + d32], rsp */
	static const uint8_t head[] = { 0x53, 0x41, 0x54, 0x50, 0x48, 0x89, 0xfb,
					0x49, 0x89, 0xf4, 0x49, 0x89, 0xa4, 0x24 };
	/* without linking: push rbx; mov rbx, rdi; mov [rsi + d32], rsp */
	static const uint8_t plain[] = { 0x53, 0x48, 0x89, 0xfb, 0x48, 0x89, 0xa6 };

	put(e, e->j->link ? head : plain, e->j->link ? sizeof(head) : sizeof(plain));
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, jit_frame));
	assert(!e->j->link || e->len == JIT_HEAD); /* EMU_JIT_ENTRY */
	if (e->j->link)
		emu_jit_emit_chained(e, b);
}

/* Whether b's code ends in the link check: not after a system
 * instruction (it may change translations, and the dispatch loop then
 * drops its cached ones), nor after a straddler (checked per run). */
static bool may_link(const struct emu_jit *j, const struct emu_block *b)
{
	return j->link && !b->sys && b->gpa2 == EMU_NO_GPA;
}

/* The exits of the link check: forward jcc rel32s to the return. */
struct outs {
	struct fixup at[8];
	unsigned n;
};

/* jcc (jne, or jz when zero) to the return */
static void emit_out(struct emit *e, struct outs *o, bool zero)
{
	static const uint8_t jne[] = { 0x0f, 0x85 }, jz[] = { 0x0f, 0x84 };

	assert(o->n < VS_ARRAY_SIZE(o->at));
	o->at[o->n++] = emit_jump(e, zero ? jz : jne, sizeof(jne));
}

/* With rcx = the block's links: rcx = the one whose rip is cpu->rip (rax
 * = cpu->rip), else to *miss (the jump table). */
static void emit_link_pick(struct emit *e, struct fixup *miss)
{
	static const uint8_t load_rip[] = { 0x48, 0x8b, 0x83 }; /* mov rax, [rbx + d32] */
	static const uint8_t cmp_rip[] = { 0x48, 0x3b, 0x41 }; /* cmp rax, [rcx + d8] */
	static const uint8_t next[] = { 0x48, 0x83, 0xc1 }; /* add rcx, i8 */
	static const uint8_t je[] = { 0x0f, 0x84 }, jne[] = { 0x0f, 0x85 };
	struct fixup hit;

	static_assert(EMU_BLOCK_LINKS == 2, "the check tries two links");
	static_assert(sizeof(struct emu_block_link) < 128, "links need disp8");
	put(e, load_rip, sizeof(load_rip));
	put32(e, (uint32_t)offsetof(struct emu_cpu, rip));
	put(e, cmp_rip, sizeof(cmp_rip));
	put8(e, (uint8_t)offsetof(struct emu_block_link, rip));
	hit = emit_jump(e, je, sizeof(je));
	put(e, cmp_rip, sizeof(cmp_rip));
	put8(e, (uint8_t)(sizeof(struct emu_block_link) + offsetof(struct emu_block_link, rip)));
	*miss = emit_jump(e, jne, sizeof(jne));
	put(e, next, sizeof(next));
	put8(e, (uint8_t)sizeof(struct emu_block_link));
	fix_jump(e, hit);
}

/* With rcx = the link: its generation is *cc->gen_src, and the dispatch
 * loop's cached translation of the link's code page (cc->vpage[v],
 * cc->gpage[v], v in link.vslot) is still the one the link was made
 * with; else out. */
static void emit_link_valid(struct emit *e, struct outs *o)
{
	static const uint8_t gen[] = { 0x49, 0x8b, 0x94, 0x24 }; /* mov rdx, [r12 + d32] */
	static const uint8_t gen_cmp[] = { 0x48, 0x8b, 0x12, 0x48, 0x3b, 0x51 }; /* [rdx]; cmp */
	static const uint8_t vslot[] = { 0x48, 0x8b, 0x51 }; /* mov rdx, [rcx + d8] */
	static const uint8_t vpage[] = { 0x49, 0x8b, 0x34, 0x14 }; /* mov rsi, [r12 + rdx] */
	static const uint8_t cmp_rsi[] = { 0x48, 0x3b, 0x71 }; /* cmp rsi, [rcx + d8] */
	static const uint8_t gpage[] = { 0x49, 0x8b, 0xb4, 0x14 }; /* mov rsi, [r12 + rdx + d32] */

	put(e, gen, sizeof(gen));
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, gen_src));
	put(e, gen_cmp, sizeof(gen_cmp));
	put8(e, (uint8_t)offsetof(struct emu_block_link, gen));
	emit_out(e, o, false);
	put(e, vslot, sizeof(vslot));
	put8(e, (uint8_t)offsetof(struct emu_block_link, vslot));
	put(e, vpage, sizeof(vpage));
	put(e, cmp_rsi, sizeof(cmp_rsi));
	put8(e, (uint8_t)offsetof(struct emu_block_link, vpage));
	emit_out(e, o, false);
	put(e, gpage, sizeof(gpage));
	put32(e, (uint32_t)(offsetof(struct emu_core_cpu, gpage) -
			    offsetof(struct emu_core_cpu, vpage)));
	put(e, cmp_rsi, sizeof(cmp_rsi));
	put8(e, (uint8_t)offsetof(struct emu_block_link, gpage));
	emit_out(e, o, false);
}

/* With rcx = the link to follow: rdx = its entry (0: not by code, out);
 * cc->cur = link.b and that block's statistics, as run_block() counts
 * them; jmp rdx. */
static void emit_link_enter(struct emit *e, struct outs *o)
{
	static const uint8_t entry[] = { 0x48, 0x8b, 0x51 }; /* mov rdx, [rcx + d8] */
	static const uint8_t test[] = { 0x48, 0x85, 0xd2 }; /* test rdx, rdx */
	static const uint8_t blk[] = { 0x48, 0x8b, 0x71 }; /* mov rsi, [rcx + d8] */
	static const uint8_t cur[] = { 0x49, 0x89, 0xb4, 0x24 }; /* mov [r12 + d32], rsi */
	static const uint8_t n[] = { 0x0f, 0xb7, 0x46 }; /* movzx eax, word [rsi + d8] */
	static const uint8_t add_rax[] = { 0x48, 0x01, 0x83 }; /* add [rbx + d32], rax */
	static const uint8_t inc[] = { 0x48, 0x83, 0x83 }; /* add qword [rbx + d32], i8 */
	static const uint8_t user[] = { 0x0f, 0xb6, 0xb3 }; /* movzx esi, byte [rbx + d32] */
	static const uint8_t mul[] = { 0x0f, 0xaf, 0xc6, 0xff,
				       0xe2 }; /* imul eax, esi ... jmp rdx */

	put(e, entry, sizeof(entry));
	put8(e, (uint8_t)offsetof(struct emu_block_link, entry));
	put(e, test, sizeof(test));
	emit_out(e, o, true);
	put(e, blk, sizeof(blk));
	put8(e, (uint8_t)offsetof(struct emu_block_link, b));
	put(e, cur, sizeof(cur));
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, cur));
	put(e, n, sizeof(n));
	put8(e, (uint8_t)offsetof(struct emu_block, n));
	put(e, add_rax, sizeof(add_rax));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.insns));
	put(e, inc, sizeof(inc));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.blocks_run));
	put8(e, 1);
	put(e, user, sizeof(user));
	put32(e, (uint32_t)offsetof(struct emu_cpu, tlb_user));
	put(e, mul, 3);
	put(e, add_rax, sizeof(add_rax));
	put32(e, (uint32_t)offsetof(struct emu_cpu, stats.insns_user));
	put(e, mul + 3, 2);
}

/* The link check, shared by every block's code (emu_jit_emit_link_tail() jumps
 * here with rcx = its b->link, rbx = cpu, r12 = cc): if cpu->rip is one
 * of the links' rips, that link still valid, and nothing asks the
 * dispatch loop to look (events, stop, the interrupt shadow, which the
 * loop clears after the next block), enter the link's block; else, with
 * table, look cpu->rip up in the jump table, or return to the loop. */
static void emit_link_stub(struct emit *e, bool table)
{
	static const uint8_t ev[] = { 0x83, 0xbb }, flag[] = { 0x80, 0xbb }; /* cmp [rbx+d32], 0 */
	const uint32_t flags[] = { offsetof(struct emu_cpu, stop),
				   offsetof(struct emu_cpu, irq_shadow) };
	struct outs o = { .n = 0 };
	struct fixup miss;
	uintptr_t hit;

	emit_link_pick(e, &miss);
	hit = e->x;
	emit_link_valid(e, &o);
	put(e, ev, sizeof(ev));
	put32(e, (uint32_t)offsetof(struct emu_cpu, events));
	put8(e, 0);
	emit_out(e, &o, false);
	for (unsigned i = 0; i < 2; i++) {
		put(e, flag, sizeof(flag));
		put32(e, flags[i]);
		put8(e, 0);
		emit_out(e, &o, false);
	}
	emit_link_enter(e, &o);
	assert(o.n < VS_ARRAY_SIZE(o.at));
	if (table) {
		fix_jump(e, miss);
		o.at[o.n++] = emu_jit_emit_jump_lookup(e, hit);
	} else {
		o.at[o.n++] = miss;
	}
	for (unsigned i = 0; i < o.n; i++)
		fix_jump(e, o.at[i]);
	emit_pop_frame(e);
	put8(e, 0xc3);
}

void emu_jit_emit_link_tail(struct emit *e, const struct emu_block *b, bool table)
{
	put8(e, 0x48);
	put8(e, 0xb9);
	put64(e, (uint64_t)(uintptr_t)b->link);
	emit_xfer(e, false, (uintptr_t)e->j->rx + (table ? JIT_LINK : JIT_LINK_DIRECT));
}

/* Where an in-place final branch goes once done: to the link check
 * (*tail, filled in by emit_end()), or back to the dispatch loop. */
static void emit_done(struct emit *e, struct fixup *tail)
{
	static const uint8_t jmp[] = { 0xe9 };

	if (tail) {
		*tail = emit_jump(e, jmp, sizeof(jmp));
		return;
	}
	emit_pop_frame(e);
	put8(e, 0xc3);
}

/* ---- blocks --------------------------------------------------------------------- */

/* CALL rel32 / RET (near, operand size 8, long mode) as the last
 * instruction: the push or pop through the TLB fast path, then RSP and
 * RIP, and return. On a miss, or a RET whose target is not canonical, it
 * falls through to the usual tail call of the handler (rsi still holds
 * the instruction), which does it all, faults included. */
static bool emit_branch(struct emit *e, const struct emu_block *b, const struct emu_insn *in,
			struct fixup *tail)
{
	static const uint8_t sub8[] = { 0x48, 0x83, 0xe8, 0x08 }, jne[] = { 0x0f, 0x85 };
	static const uint8_t canon[] = { 0x48, 0x89, 0xc2, 0x48, 0xc1, 0xe2, 0x10,
					 0x48, 0xc1, 0xfa, 0x10, 0x48, 0x39, 0xc2 };
	static const uint8_t sub_rsp[] = { 0x48, 0x83, 0x6b }, add_rsp[] = { 0x48, 0x81, 0x43 };
	static const uint8_t store_next[] = { 0x48, 0xc7, 0x00 }, load[] = { 0x48, 0x8b, 0x00 };
	static const uint8_t set_rip[] = { 0x48, 0x89, 0x83 };
	emu_handler fn = emu_fast_generic(in->fn);
	bool call = fn == emu_op_call;
	uint64_t next = in->rip + in->len;
	struct fixup miss[2];

	if ((!call && fn != emu_op_ret) || in->opsize != 8 || b->mode != EMU_MODE_LONG64 ||
	    (call && (int64_t)next != (int32_t)next))
		return false;
	emit_load(e, EMU_RSP, 8, false);
	if (call)
		put(e, sub8, sizeof(sub8));
	emit_tlb(e, call, 8, miss);
	if (call) { /* mov qword [rax], next; sub qword [rbx + rsp], 8; rip = target */
		put(e, store_next, sizeof(store_next));
		put32(e, (uint32_t)next);
		put(e, sub_rsp, sizeof(sub_rsp));
		put8(e, reg_disp(EMU_RSP));
		put8(e, 8);
		emit_set_rip(e, in->imm);
	} else { /* rax = [rax]; canonical?; add qword [rbx + rsp], 8 + imm; rip = rax */
		put(e, load, sizeof(load));
		put(e, canon, sizeof(canon));
		miss[1] = emit_jump(e, jne, sizeof(jne));
		put(e, add_rsp, sizeof(add_rsp));
		put8(e, reg_disp(EMU_RSP));
		put32(e, (uint32_t)(8 + in->imm));
		put(e, set_rip, sizeof(set_rip));
		put32(e, (uint32_t)offsetof(struct emu_cpu, rip));
	}
	emit_done(e, tail);
	for (unsigned i = 0; i < (call ? 1u : 2u); i++)
		fix_jump(e, miss[i]);
	return true;
}

/* The last instruction: cpu->cur and cpu->rip, the branch in place or the
 * handler, then the link check (through direct exits x where the
 * successor is known) or the return to the dispatch loop. */
static void emit_end(struct emit *e, const struct emu_block *b, const struct emu_insn *last,
		     struct emu_block_exit *x)
{
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };
	bool link = may_link(e->j, b), call;
	struct fixup tail, taken;

	emit_cur(e, last);
	emit_set_rip(e, last->rip + last->len);
	if (emu_jit_emit_cond(e, last, link ? &taken : NULL)) { /* JMP, Jcc: no handler */
		e->ends++;
		if (link)
			emu_jit_emit_exits(e, b, taken, x);
		else
			emit_done(e, NULL);
		return;
	}
	call = emit_branch(e, b, last, link ? &tail : NULL);
	if (!call)
		tail.w = NULL, tail.x = 0;
	call = call && emu_fast_generic(last->fn) == emu_op_call;
	put(e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	if (!link) {
		emit_pop_frame(e);
		emit_xfer(e, false, (uintptr_t)last->fn);
		return;
	}
	emit_xfer(e, true, (uintptr_t)last->fn);
	if (tail.x)
		fix_jump(e, tail);
	if (call) /* CALL rel32 in place or by its handler: cpu->rip is the target */
		emu_jit_emit_exits(e, b, (struct fixup){ .x = 0 }, x);
	else
		emu_jit_emit_link_tail(e, b, true);
}

static void emit_block(struct emit *e, const struct emu_block *b, struct emu_block_exit *x)
{
	const struct emu_insn *last = &b->insn[b->n - 1];

	emit_head(e, b);
	for (const struct emu_insn *in = b->insn; in != last; in++) {
		if (emit_inline(e, b, in)) {
			e->inlined++;
		} else {
			emit_call_insn(e, in);
			e->lz_op = EMU_LZ_NONE; /* the handler may have set the flags */
		}
	}
	emit_end(e, b, last, x);
}

size_t emu_jit_emit_block(const struct emu_jit *j, const struct emu_block *b, uint8_t *w,
			  uintptr_t x, uint64_t *inlined, uint64_t *ends,
			  struct emu_block_exit exits[EMU_BLOCK_EXITS])
{
	struct emit e = { .w = w, .x = x, .j = j };

	emit_block(&e, b, exits);
	*inlined += e.inlined;
	*ends += e.ends;
	return e.len;
}

/* ---- the SMC stub --------------------------------------------------------------- */

/* Reached by a handler's ret (emu_jit_cut() rewrote its return address),
 * with the generated frame's rbx = cpu: the next instruction leaves the
 * block, as emu_op_smc_exit() does when the interpreter calls it. */
static __attribute__((noreturn, used)) void smc_exit(struct emu_cpu *cpu)
{
	cpu->cur++;
	emu_op_smc_exit(cpu, cpu->cur);
	__builtin_unreachable();
}

/* mov rdi, rbx; call smc_exit; ud2. The stack is as at the handler's call
 * site, 16-aligned. Then, at JIT_EXIT, the exit: where a link that
 * generated code must not follow itself sends it (back to the loop). */
void emu_jit_emit_stubs(struct emu_jit *j)
{
	struct emit e = { .w = j->rw, .x = (uintptr_t)j->rx, .j = j };
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };

	put(&e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	emit_xfer(&e, true, (uintptr_t)smc_exit);
	put8(&e, 0x0f);
	put8(&e, 0x0b);
	assert(e.len <= JIT_LINK);
	e.w = j->rw + JIT_LINK;
	e.x = (uintptr_t)j->rx + JIT_LINK;
	e.len = JIT_LINK;
	emit_link_stub(&e, true);
	assert(e.len <= JIT_LINK_DIRECT);
	e.w = j->rw + JIT_LINK_DIRECT;
	e.x = (uintptr_t)j->rx + JIT_LINK_DIRECT;
	e.len = JIT_LINK_DIRECT;
	emit_link_stub(&e, false);
	assert(e.len <= JIT_STUB_BYTES);
}
