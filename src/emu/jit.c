/* Call-threaded host code for decoded blocks (jit.h has the contract).
 *
 * Map: the code a block gets (emitter), the pool (memfd mapped twice,
 * size-class free lists), compile and release, the SMC return stub.
 *
 * A block of n instructions becomes, with rbx = cpu (System V ABI):
 *
 *	push rbx		; rsp is now 16-aligned for every call below
 *	mov rbx, rdi
 *	mov [rsi], rsp		; *frame: where each handler's return address sits
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
 *	pop rbx
 *	jmp handler_n-1		; tail call: it returns to the dispatch loop
 *
 * A fault longjmps out of a handler: the frame (one saved rbx, which
 * longjmp restores anyway) is simply abandoned. */
#include "emu/jit.h"

#include "emu/block.h"
#include "emu/jit-emit.h"
#include "emu/core.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define JIT_UNIT 32u /* allocation granule, bytes */
#define JIT_HEAD 7u /* push rbx; mov rbx, rdi; mov [rsi], rsp */
#define JIT_INSN_MAX 192u /* the longest inlined form (an ALU RMW in memory) and its call */
#define JIT_TAIL_MAX 224u /* the last instruction, CALL/RET inline, immediates long */
#define JIT_CODE_MAX (JIT_HEAD + EMU_BLOCK_MAX * JIT_INSN_MAX + JIT_TAIL_MAX)
#define JIT_CLASSES ((JIT_CODE_MAX + JIT_UNIT - 1) / JIT_UNIT + 1)
#define JIT_STUB_BYTES 64u /* the SMC stub at the pool's start */
#define JIT_NEAR (256ULL << 20) /* distance of the pool below the binary */
#define JIT_MFD_EXEC 0x10u /* MFD_EXEC (Linux 6.3): ask for an executable memfd */

struct emu_jit {
	uint8_t *rx; /* executable view */
	uint8_t *rw; /* writable view of the same pages */
	size_t size;
	size_t top; /* bytes handed out from the start, never given back */
	size_t live; /* bytes held by blocks */
	uint64_t inlined; /* instructions given code in place so far */
	uint64_t ends; /* block-final branches decided in place so far */
	/* Free chunks by size in granules; each chunk's first 4 bytes (in the
	 * writable view) hold the next chunk's offset + 1, 0 ending the list. */
	uint32_t free[JIT_CLASSES];
};

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
static_assert(offsetof(struct emu_cpu, r) + 15 * sizeof(uint64_t) < 128, "cpu->r[] needs disp8");

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

/* ---- blocks --------------------------------------------------------------------- */

/* CALL rel32 / RET (near, operand size 8, long mode) as the last
 * instruction: the push or pop through the TLB fast path, then RSP and
 * RIP, and return. On a miss, or a RET whose target is not canonical, it
 * falls through to the usual tail call of the handler (rsi still holds
 * the instruction), which does it all, faults included. */
static bool emit_branch(struct emit *e, const struct emu_block *b, const struct emu_insn *in)
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
	put8(e, 0x5b); /* pop rbx; ret */
	put8(e, 0xc3);
	for (unsigned i = 0; i < (call ? 1u : 2u); i++)
		fix_jump(e, miss[i]);
	return true;
}

static void emit_block(struct emit *e, const struct emu_block *b)
{
	static const uint8_t head[JIT_HEAD] = { 0x53, 0x48, 0x89, 0xfb, 0x48, 0x89, 0x26 };
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };
	const struct emu_insn *last = &b->insn[b->n - 1];

	put(e, head, sizeof(head));
	for (const struct emu_insn *in = b->insn; in != last; in++) {
		if (emit_inline(e, b, in)) {
			e->inlined++;
		} else {
			emit_call_insn(e, in);
			e->lz_op = EMU_LZ_NONE; /* the handler may have set the flags */
		}
	}
	emit_cur(e, last);
	emit_set_rip(e, last->rip + last->len);
	if (!emit_branch(e, b, last) && emu_jit_emit_cond(e, last))
		e->ends++;
	put(e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	put8(e, 0x5b); /* pop rbx */
	emit_xfer(e, false, (uintptr_t)last->fn);
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
 * site, 16-aligned. */
static void emit_stub(struct emu_jit *j)
{
	struct emit e = { .w = j->rw, .x = (uintptr_t)j->rx, .j = j };
	static const uint8_t mov_rdi_rbx[] = { 0x48, 0x89, 0xdf };

	put(&e, mov_rdi_rbx, sizeof(mov_rdi_rbx));
	emit_xfer(&e, true, (uintptr_t)smc_exit);
	put8(&e, 0x0f);
	put8(&e, 0x0b);
}

void emu_jit_cut(struct emu_jit *j, uintptr_t frame)
{
	/* every handler call of the block pushes its return address here */
	uintptr_t *ret = (uintptr_t *)(frame - sizeof(uintptr_t));

	*ret = (uintptr_t)j->rx;
}

/* ---- the pool ------------------------------------------------------------------ */

bool emu_jit_enabled(const struct emu_vm_config *cfg)
{
	const char *v;

	if (cfg->jit != EMU_JIT_DEFAULT)
		return cfg->jit == EMU_JIT_ON;
	v = getenv("VESSEL_EMU_JIT");
	return !v || strcmp(v, "0") != 0;
}

/* The executable view, asked for JIT_NEAR below this binary's code (above
 * it when the binary sits low) so that calls to handlers reach with rel32;
 * the kernel may place it elsewhere, and then calls go through rax. */
static void *map_exec(int fd, size_t size)
{
	uintptr_t text = (uintptr_t)emu_jit_new & ~(uintptr_t)0x1fffff;
	uintptr_t hint = text > 2 * (JIT_NEAR + size) ? text - JIT_NEAR - size : text + JIT_NEAR;

	return mmap((void *)(hint & ~(uintptr_t)0x1fffff), size, PROT_READ | PROT_EXEC, MAP_SHARED,
		    fd, 0);
}

static int open_memfd(size_t size)
{
	int fd = memfd_create("vessel-emu-jit", MFD_CLOEXEC | JIT_MFD_EXEC);

	if (fd < 0 && errno == EINVAL) /* before Linux 6.3: no MFD_EXEC, executable anyway */
		fd = memfd_create("vessel-emu-jit", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int emu_jit_new(size_t size, struct emu_jit **out)
{
	struct emu_jit *j;
	int fd, r = 0;

	size = (size + 0xfffff) & ~(size_t)0xfffff;
	if (size > UINT32_MAX - 1) /* free lists hold 32-bit offsets */
		size = (size_t)1 << 31;
	if ((fd = open_memfd(size)) < 0)
		return fd;
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		return -ENOMEM;
	}
	j->size = size;
	j->rx = map_exec(fd, size);
	j->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->rx == MAP_FAILED || j->rw == MAP_FAILED)
		r = -errno;
	close(fd);
	if (r < 0) {
		j->rx = j->rx == MAP_FAILED ? NULL : j->rx;
		j->rw = j->rw == MAP_FAILED ? NULL : j->rw;
		emu_jit_free(j);
		return r;
	}
	emit_stub(j);
	j->top = JIT_STUB_BYTES;
	*out = j;
	return 0;
}

void emu_jit_free(struct emu_jit *j)
{
	if (!j)
		return;
	if (j->rx)
		munmap(j->rx, j->size);
	if (j->rw)
		munmap(j->rw, j->size);
	free(j);
}

static void chunk_put(struct emu_jit *j, size_t off, unsigned units)
{
	uint32_t next = j->free[units];

	memcpy(j->rw + off, &next, sizeof(next));
	j->free[units] = (uint32_t)off + 1;
}

static size_t chunk_pop(struct emu_jit *j, unsigned units)
{
	size_t off = j->free[units] - 1;

	memcpy(&j->free[units], j->rw + off, sizeof(uint32_t));
	return off;
}

/* A chunk of units granules: one of that size, else fresh space, else a
 * larger free one split. Returns its offset, or 0 (the stub's) when the
 * pool is full. */
static size_t chunk_get(struct emu_jit *j, unsigned units)
{
	size_t bytes = (size_t)units * JIT_UNIT;

	if (j->free[units])
		return chunk_pop(j, units);
	if (j->top + bytes <= j->size) {
		j->top += bytes;
		return j->top - bytes;
	}
	for (unsigned c = units + 1; c < JIT_CLASSES; c++) {
		if (j->free[c]) {
			size_t off = chunk_pop(j, c);

			chunk_put(j, off + bytes, c - units);
			return off;
		}
	}
	return 0;
}

bool emu_jit_compile(struct emu_jit *j, struct emu_block *b)
{
	struct emit e = { .j = j };
	unsigned units;
	size_t off;

	if (!b->n)
		return false;
	emit_block(&e, b); /* sizing pass: nothing written */
	units = (unsigned)((e.len + JIT_UNIT - 1) / JIT_UNIT);
	if (units >= JIT_CLASSES || !(off = chunk_get(j, units)))
		return false;
	e = (struct emit){ .w = j->rw + off, .x = (uintptr_t)j->rx + off, .j = j };
	emit_block(&e, b);
	b->code = (emu_jit_code)(void *)(j->rx + off);
	b->code_bytes = units * JIT_UNIT;
	j->live += b->code_bytes;
	j->inlined += e.inlined;
	j->ends += e.ends;
	return true;
}

uint64_t emu_jit_inlined(const struct emu_jit *j)
{
	return j->inlined;
}

uint64_t emu_jit_ends_inlined(const struct emu_jit *j)
{
	return j->ends;
}

void emu_jit_release(struct emu_jit *j, struct emu_block *b)
{
	if (!j || !b->code)
		return;
	chunk_put(j, (size_t)((uint8_t *)(void *)b->code - j->rx), b->code_bytes / JIT_UNIT);
	j->live -= b->code_bytes;
	b->code = NULL;
	if (!j->live) { /* all free (after a flush): start afresh, unfragmented */
		memset(j->free, 0, sizeof(j->free));
		j->top = JIT_STUB_BYTES;
	}
}
