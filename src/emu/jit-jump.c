/* The link check's miss path (jit.c emit_link_stub()): when cpu->rip is
 * neither of the running block's links, the vCPU's jump table (exec.c
 * jump_add()) may hold the block at cpu->rip; the link check validates
 * and enters its slot as it does a link. */
#include "emu/block.h"
#include "emu/jit-emit.h"

#include <assert.h>
#include <string.h>

struct fixup emu_jit_emit_jump_lookup(struct emit *e, uintptr_t hit)
{
	static const uint8_t mode[] = { 0x83, 0xbb }, jne[] = { 0x0f, 0x85 }; /* cmp dword, i8 */
	/* mov rdx, rax; shr rdx, i8; xor rdx, rax; and edx, i32; shl edx, 6;
	 * lea rcx, [r12 + rdx + d32]; cmp rax, [rcx + d8]; je hit */
	static const uint8_t hash[] = { 0x48, 0x89, 0xc2, 0x48, 0xc1, 0xea }, je[] = { 0x0f, 0x84 };
	static const uint8_t mix[] = { 0x48, 0x31, 0xc2, 0x81, 0xe2 }, cmp[] = { 0x48, 0x3b, 0x41 };
	static const uint8_t slot[] = { 0xc1, 0xe2, 0x06, 0x49, 0x8d, 0x8c, 0x14 };
	struct fixup out, f;
	uint32_t rel;

	static_assert(sizeof(struct emu_jump_slot) == 64, "shl edx, 6 above");
	static_assert(sizeof(((struct emu_cpu *)0)->mode) == 4, "cmp dword above");
	put(e, mode, sizeof(mode));
	put32(e, (uint32_t)offsetof(struct emu_cpu, mode));
	put8(e, EMU_MODE_LONG64);
	out = emit_jump(e, jne, sizeof(jne));
	put(e, hash, sizeof(hash)); /* rdx = the slot's index, as exec.c jump_slot() */
	put8(e, EMU_JUMP_BITS);
	put(e, mix, sizeof(mix));
	put32(e, (1u << EMU_JUMP_BITS) - 1);
	put(e, slot, sizeof(slot)); /* rcx = &cc->jump[rdx] */
	put32(e, (uint32_t)offsetof(struct emu_core_cpu, jump));
	put(e, cmp, sizeof(cmp));
	put8(e, (uint8_t)offsetof(struct emu_block_link, rip));
	f = emit_jump(e, je, sizeof(je)); /* backwards */
	rel = (uint32_t)(hit - f.x);
	if (f.w)
		memcpy(f.w, &rel, sizeof(rel));
	return out;
}
