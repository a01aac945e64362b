/* Data movement: MOV in its forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, CMPXCHG,
 * CMPXCHG8B/16B, XADD, CBW/CWD families, XLAT, BSWAP, MOVBE, CMOVcc,
 * SETcc; flag-only instructions (CLC ... STD, LAHF/SAHF); NOPs, fences and
 * the #UD/#GP stand-ins the decoder uses for what it cannot run. */
#include "emu/core.h"

EMU_HANDLER(emu_op_mov_EG_r)
{
	emu_reg_set(cpu, in->rm, in->opsize, in->flags & EMU_IF_HIGH8M, emu_greg(cpu, in));
}

EMU_HANDLER(emu_op_mov_EG_m)
{
	emu_mem_write(cpu, in, in->opsize, emu_greg(cpu, in));
}

EMU_HANDLER(emu_op_mov_GE_r)
{
	emu_greg_set(cpu, in, emu_reg_get(cpu, in->rm, in->opsize, in->flags & EMU_IF_HIGH8M));
}

EMU_HANDLER(emu_op_mov_GE_m)
{
	emu_greg_set(cpu, in, emu_mem_read(cpu, in, in->opsize));
}

EMU_HANDLER(emu_op_mov_EI_r)
{
	emu_reg_set(cpu, in->rm, in->opsize, in->flags & EMU_IF_HIGH8M, in->imm);
}

EMU_HANDLER(emu_op_mov_EI_m)
{
	emu_mem_write(cpu, in, in->opsize, in->imm);
}

EMU_HANDLER(emu_op_mov_OI)
{
	emu_greg_set(cpu, in, in->imm);
}

/* Source operand of size sz at r/m (byte registers may be AH..BH). */
static inline uint64_t rm_sized(struct emu_cpu *cpu, const struct emu_insn *in, unsigned sz)
{
	if (in->mod == 3)
		return emu_reg_get(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M);
	return emu_mem_read(cpu, in, sz);
}

EMU_HANDLER(emu_op_movzx8)
{
	emu_greg_set(cpu, in, rm_sized(cpu, in, 1));
}

EMU_HANDLER(emu_op_movzx16)
{
	emu_greg_set(cpu, in, rm_sized(cpu, in, 2));
}

EMU_HANDLER(emu_op_movsx8)
{
	emu_greg_set(cpu, in, emu_sext(rm_sized(cpu, in, 1), 1));
}

EMU_HANDLER(emu_op_movsx16)
{
	emu_greg_set(cpu, in, emu_sext(rm_sized(cpu, in, 2), 2));
}

EMU_HANDLER(emu_op_movsxd)
{
	emu_greg_set(cpu, in, emu_sext(rm_sized(cpu, in, 4), 4));
}

EMU_HANDLER(emu_op_lea)
{
	emu_greg_set(cpu, in, emu_ea(cpu, in));
}

EMU_HANDLER(emu_op_xchg_r)
{
	bool h = in->flags & EMU_IF_HIGH8M;
	uint64_t a = emu_reg_get(cpu, in->rm, in->opsize, h), b = emu_greg(cpu, in);

	emu_reg_set(cpu, in->rm, in->opsize, h, b);
	emu_greg_set(cpu, in, a);
}

/* XCHG with memory is atomic whether or not LOCK is given. */
EMU_HANDLER(emu_op_xchg_m)
{
	unsigned sz = in->opsize;
	uint64_t lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE);
	uint64_t v = emu_greg(cpu, in), old;
	void *p = emu_rmw_ptr(cpu, lin, sz);

	if (p) {
		old = emu_atomic_load(p, sz);
		while (!emu_cas(p, sz, &old, v))
			;
	} else {
		old = emu_read_lin(cpu, lin, sz);
		emu_write_lin(cpu, lin, sz, v);
	}
	emu_greg_set(cpu, in, old);
}

EMU_HANDLER(emu_op_xchg_O)
{
	uint64_t a = emu_reg_get(cpu, EMU_RAX, in->opsize, false), b = emu_greg(cpu, in);

	emu_reg_set(cpu, EMU_RAX, in->opsize, false, b);
	emu_greg_set(cpu, in, a);
}

/* CMPXCHG r/m, r: compare the accumulator with r/m; flags as CMP. */
EMU_HANDLER(emu_op_cmpxchg)
{
	unsigned sz = in->opsize;
	uint64_t acc = emu_reg_get(cpu, EMU_RAX, sz, false), src = emu_greg(cpu, in), cur, lin;
	void *p;

	if (in->mod == 3) {
		cur = emu_reg_get(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M);
		if (cur == acc)
			emu_reg_set(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M, src);
	} else {
		lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE);
		p = emu_rmw_ptr(cpu, lin, sz);
		cur = acc;
		if (p) {
			emu_cas(p, sz, &cur, src);
		} else {
			cur = emu_read_lin(cpu, lin, sz);
			/* the processor always writes: the old value when unequal */
			emu_write_lin(cpu, lin, sz, cur == acc ? src : cur);
		}
	}
	emu_lazy_set(cpu, EMU_LZ_SUB, sz, (acc - cur) & emu_mask(sz), acc, cur);
	if (cur != acc)
		emu_reg_set(cpu, EMU_RAX, sz, false, cur);
}

/* The host's CMPXCHG16B (x86-64 hosts have it; GCC would need libatomic):
 * p is 16-byte aligned (the guest address is, and pages map to pages). */
static bool cas16(void *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
	bool ok;

	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile unsigned __int128 *)p), "+a"(*lo), "+d"(*hi)
			 : "b"(nlo), "c"(nhi)
			 : "memory", "cc");
	return ok;
}

/* CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): EDX:EAX vs memory; only ZF. */
EMU_HANDLER(emu_op_cmpxchg8b)
{
	bool wide = in->pfx & EMU_PFX_REXW;
	unsigned sz = wide ? 16 : 8, half = sz / 2;
	uint64_t ea = emu_ea(cpu, in), lin = emu_seg_lin(cpu, in->seg, ea, sz, EMU_ACC_WRITE);
	uint64_t m = emu_mask(half), lo = cpu->r[EMU_RAX] & m, hi = cpu->r[EMU_RDX] & m;
	uint64_t nlo = cpu->r[EMU_RBX] & m, nhi = cpu->r[EMU_RCX] & m, cur[2] = { 0, 0 };
	bool eq;
	void *p;

	if (wide && (ea & 15))
		emu_raise_gp(cpu, 0);
	p = emu_rmw_ptr(cpu, lin, sz);
	if (p && wide) {
		eq = cas16(p, &lo, &hi, nlo, nhi);
		cur[0] = lo, cur[1] = hi;
	} else if (p) {
		uint64_t o = lo | hi << 32;

		eq = emu_cas(p, 8, &o, nlo | nhi << 32);
		cur[0] = (uint32_t)o, cur[1] = o >> 32;
	} else {
		emu_read_bytes(cpu, lin, cur, sz);
		if (!wide)
			cur[1] = cur[0] >> 32, cur[0] = (uint32_t)cur[0];
		eq = cur[0] == lo && cur[1] == hi;
		if (eq) {
			uint64_t w[2] = { wide ? nlo : (nlo | nhi << 32), nhi };

			emu_write_bytes(cpu, lin, w, sz);
		}
	}
	emu_flags_flush(cpu);
	cpu->rflags = eq ? cpu->rflags | EMU_FLAG_ZF : cpu->rflags & ~EMU_FLAG_ZF;
	if (!eq) {
		emu_reg_set(cpu, EMU_RAX, half, false, cur[0]);
		emu_reg_set(cpu, EMU_RDX, half, false, cur[1]);
	}
}

/* XADD r/m, r: r gets the old r/m, r/m the sum; flags as ADD. */
EMU_HANDLER(emu_op_xadd)
{
	unsigned sz = in->opsize;
	uint64_t m = emu_mask(sz), src = emu_greg(cpu, in), old, lin;
	void *p;

	if (in->mod == 3) {
		old = emu_reg_get(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M);
		emu_greg_set(cpu, in, old);
		emu_reg_set(cpu, in->rm, sz, in->flags & EMU_IF_HIGH8M, old + src);
	} else {
		lin = emu_seg_lin(cpu, in->seg, emu_ea(cpu, in), sz, EMU_ACC_WRITE);
		p = emu_rmw_ptr(cpu, lin, sz);
		if (p) {
			old = emu_atomic_load(p, sz);
			while (!emu_cas(p, sz, &old, (old + src) & m))
				;
		} else {
			old = emu_read_lin(cpu, lin, sz);
			emu_write_lin(cpu, lin, sz, (old + src) & m);
		}
		emu_greg_set(cpu, in, old);
	}
	emu_lazy_set(cpu, EMU_LZ_ADD, sz, (old + src) & m, old, src);
}

EMU_HANDLER(emu_op_cbw)
{
	unsigned sz = in->opsize;

	emu_reg_set(cpu, EMU_RAX, sz, false, emu_sext(cpu->r[EMU_RAX], sz / 2));
}

EMU_HANDLER(emu_op_cwd)
{
	unsigned sz = in->opsize;
	uint64_t a = emu_reg_get(cpu, EMU_RAX, sz, false);

	emu_reg_set(cpu, EMU_RDX, sz, false, (a >> (sz * 8 - 1)) & 1 ? ~0ULL : 0);
}

EMU_HANDLER(emu_op_xlat)
{
	uint64_t off = emu_admask(cpu->r[EMU_RBX] + (cpu->r[EMU_RAX] & 0xff), in->adsize);

	emu_reg_set(cpu, EMU_RAX, 1, false, emu_read(cpu, in->seg, off, 1));
}

EMU_HANDLER(emu_op_bswap)
{
	uint64_t v = cpu->r[in->reg];

	if (in->opsize == 8)
		cpu->r[in->reg] = __builtin_bswap64(v);
	else if (in->opsize == 4)
		cpu->r[in->reg] = __builtin_bswap32((uint32_t)v);
	else
		emu_reg_set(cpu, in->reg, 2, false, 0); /* undefined; zero as hardware does */
}

static uint64_t bswap_n(uint64_t v, unsigned sz)
{
	return sz == 8 ? __builtin_bswap64(v) :
	       sz == 4 ? __builtin_bswap32((uint32_t)v) :
			 __builtin_bswap16((uint16_t)v);
}

EMU_HANDLER(emu_op_movbe_load)
{
	emu_greg_set(cpu, in, bswap_n(emu_mem_read(cpu, in, in->opsize), in->opsize));
}

EMU_HANDLER(emu_op_movbe_store)
{
	emu_mem_write(cpu, in, in->opsize, bswap_n(emu_greg(cpu, in), in->opsize));
}

/* CMOVcc: the source is read (and may fault) even when false; a 32-bit
 * destination is zero-extended either way. */
EMU_HANDLER(emu_op_cmov)
{
	uint64_t v = emu_rm_get(cpu, in);

	if (emu_cond(cpu, in->opcode & 15))
		emu_greg_set(cpu, in, v);
	else if (in->opsize == 4)
		cpu->r[in->reg] = (uint32_t)cpu->r[in->reg];
}

EMU_HANDLER(emu_op_setcc)
{
	emu_rm_set(cpu, in, emu_cond(cpu, in->opcode & 15));
}

#define FLAGOP(name, expr)            \
	EMU_HANDLER(emu_op_##name)    \
	{                             \
		(void)in;             \
		emu_flags_flush(cpu); \
		cpu->rflags = expr;   \
	}

FLAGOP(clc, cpu->rflags & ~EMU_FLAG_CF)
FLAGOP(stc, cpu->rflags | EMU_FLAG_CF)
FLAGOP(cmc, cpu->rflags ^ EMU_FLAG_CF)
FLAGOP(cld, cpu->rflags & ~EMU_FLAG_DF)
FLAGOP(std, cpu->rflags | EMU_FLAG_DF)

#define LAHF_MASK (EMU_FLAG_SF | EMU_FLAG_ZF | EMU_FLAG_AF | EMU_FLAG_PF | EMU_FLAG_CF)

FLAGOP(sahf, (cpu->rflags & ~LAHF_MASK) | (((cpu->r[EMU_RAX] >> 8) & LAHF_MASK)))

EMU_HANDLER(emu_op_lahf)
{
	(void)in;
	emu_reg_set(cpu, EMU_RAX, 1, true, (emu_get_rflags(cpu) & 0xff) | 2);
}

EMU_HANDLER(emu_op_nop)
{
	(void)cpu, (void)in;
}

EMU_HANDLER(emu_op_fence)
{
	(void)cpu, (void)in;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* CLFLUSH/CLFLUSHOPT/CLWB: caches are coherent here; only the address is
 * checked, as a byte read. */
EMU_HANDLER(emu_op_clflush)
{
	(void)emu_mem_read(cpu, in, 1);
}

EMU_HANDLER(emu_op_ud)
{
	(void)in;
	emu_raise_ud(cpu);
}

EMU_HANDLER(emu_op_unimpl)
{
	emu_raise_unimplemented(cpu, in);
}

/* An instruction longer than 15 bytes. */
EMU_HANDLER(emu_op_gp0)
{
	(void)in;
	emu_raise_gp(cpu, 0);
}
