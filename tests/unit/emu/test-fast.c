/* emu core: the specialized handlers of exec-fast.c against the generic
 * ones. Each snippet is one instruction form (every operand size, register
 * and memory operands in each address shape, FS/GS, AH..BH, LOCK, 32-bit
 * addresses, page crossings, faults on unmapped and non-canonical
 * addresses, a store into a code page); it runs from the same random
 * state in three VMs: one whose decoder picks the specialized handlers,
 * one limited to the generic ones (emu_vm.generic_only), both with host
 * code for their blocks (src/emu/jit.c, which does some of these forms in
 * place), and the reference: generic handlers, interpreted; twice in a row so
 * that the second run finds the soft TLB warm, and everything
 * visible must agree: the exit (vector, error code, CR2), the registers
 * with RFLAGS, and memory. The decoder must also pick (or not pick) a
 * specialized handler for the snippet's first instruction as listed. */
#include "core-harness.h"

#include "emu/core.h"
#include "emu/decode.h"

#define F_FSBASE (H_DATA + 0x1000)
#define F_GSBASE (H_DATA + 0x2000)
#define F_XBASE (H_DATA + 0x100) /* rbx */
#define F_UNMAPPED 0x400000ULL /* the harness maps 4 MiB */
#define F_NONCANON 0x8000000000000000ULL

struct snip {
	const char *name;
	uint8_t code[24];
	unsigned len;
	bool fast; /* the first instruction gets a specialized handler */
	uint64_t rsp; /* 0: H_STACK */
	uint64_t top; /* value at [rsp] at the start (0: random) */
};

#define S(nm, fast_, ...)                                                            \
	{                                                                            \
		nm, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), fast_, 0, 0 \
	}
#define SSTK(nm, fast_, rsp_, top_, ...)                                                   \
	{                                                                                  \
		nm, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), fast_, rsp_, top_ \
	}

/* RIP-relative displacement of a 7-byte instruction (opcode, ModRM, disp32,
 * one immediate byte or none) at H_CODE to H_DATA + 0x40. */
#define RIPREL(len) (0x40 - (len)), 0x00, 0x01, 0x00

static const struct snip snips[] = {
	/* MOV loads: sizes, shapes, segments */
	S("mov rax,[rbx+8]", true, 0x48, 0x8b, 0x43, 0x08),
	S("mov eax,[rbx+8]", true, 0x8b, 0x43, 0x08),
	S("mov ax,[rbx+8]", true, 0x66, 0x8b, 0x43, 0x08),
	S("mov al,[rbx+8]", true, 0x8a, 0x43, 0x08),
	S("mov ah,[rbx+8]", false, 0x8a, 0x63, 0x08),
	S("mov sil,[rbx+8]", true, 0x40, 0x8a, 0x73, 0x08),
	S("mov esi,[rbx+8]", true, 0x8b, 0x73, 0x08),
	S("mov rax,[rbx+rsi*8+0x10]", true, 0x48, 0x8b, 0x44, 0xf3, 0x10),
	S("mov rax,[rsi*8+H_DATA]", true, 0x48, 0x8b, 0x04, 0xf5, 0x00, 0x00, 0x02, 0x00),
	S("mov rax,[rip+x]", true, 0x48, 0x8b, 0x05, RIPREL(7)),
	S("mov rax,fs:[rbx+8]", true, 0x64, 0x48, 0x8b, 0x43, 0x08),
	S("mov rax,gs:[rbx]", true, 0x65, 0x48, 0x8b, 0x03),
	S("mov rax,gs:[rbx+rsi*8+0x10]", true, 0x65, 0x48, 0x8b, 0x44, 0xf3, 0x10),
	S("mov eax,[ebx+8] (a32)", false, 0x67, 0x8b, 0x43, 0x08),
	S("mov rax,[rbp+8] (SS)", true, 0x48, 0x8b, 0x45, 0x08),
	S("mov rax,[r15] crosses 4K", true, 0x49, 0x8b, 0x07),
	S("mov rax,[r12] crosses into unmapped", true, 0x49, 0x8b, 0x04, 0x24),
	S("mov rax,[r13] unmapped", true, 0x49, 0x8b, 0x45, 0x00),
	S("mov rax,[r14] non-canonical", true, 0x49, 0x8b, 0x06),
	S("mov rax,ss:[r14] non-canonical", true, 0x36, 0x49, 0x8b, 0x06),
	S("mov rax,fs:[r13] unmapped", true, 0x64, 0x49, 0x8b, 0x45, 0x00),
	/* MOV stores, MOV imm stores */
	S("mov [rbx+8],rax", true, 0x48, 0x89, 0x43, 0x08),
	S("mov [rbx+8],eax", true, 0x89, 0x43, 0x08),
	S("mov [rbx+8],ax", true, 0x66, 0x89, 0x43, 0x08),
	S("mov [rbx+8],al", true, 0x88, 0x43, 0x08),
	S("mov [rbx+8],ah", false, 0x88, 0x63, 0x08),
	S("mov [rbx+8],esi", true, 0x89, 0x73, 0x08),
	S("mov [rbx+rsi*8+0x10],rax", true, 0x48, 0x89, 0x44, 0xf3, 0x10),
	S("mov [rsi*8+H_DATA],rax", true, 0x48, 0x89, 0x04, 0xf5, 0x00, 0x00, 0x02, 0x00),
	S("mov [rip+x],rax", true, 0x48, 0x89, 0x05, RIPREL(7)),
	S("mov gs:[rbx],rax", true, 0x65, 0x48, 0x89, 0x03),
	S("mov [r15],rax crosses 4K", true, 0x49, 0x89, 0x07),
	S("mov [r12],rax crosses into unmapped", true, 0x49, 0x89, 0x04, 0x24),
	S("mov [r13],eax unmapped", true, 0x41, 0x89, 0x45, 0x00),
	S("mov [r14],rax non-canonical", true, 0x49, 0x89, 0x06),
	S("mov [rip+0xf8],rax (code page)", true, 0x48, 0x89, 0x05, 0xf8, 0x00, 0x00, 0x00),
	S("mov qword [rbx+8],imm", true, 0x48, 0xc7, 0x43, 0x08, 0x78, 0x56, 0x34, 0xf2),
	S("mov dword [rbx+8],imm", true, 0xc7, 0x43, 0x08, 0x78, 0x56, 0x34, 0x12),
	S("mov word [rbx+8],imm", true, 0x66, 0xc7, 0x43, 0x08, 0x34, 0x12),
	S("mov byte [rbx+8],imm", true, 0xc6, 0x43, 0x08, 0x7f),
	S("mov dword fs:[rbx],imm", true, 0x64, 0xc7, 0x03, 0x11, 0x22, 0x33, 0x44),
	S("mov byte [r13],imm unmapped", true, 0x41, 0xc6, 0x45, 0x00, 0x01),
	/* MOVZX/MOVSX/MOVSXD */
	S("movzx rax,byte [rbx+8]", true, 0x48, 0x0f, 0xb6, 0x43, 0x08),
	S("movzx eax,word [rbx+8]", true, 0x0f, 0xb7, 0x43, 0x08),
	S("movzx ax,byte [rbx+8]", true, 0x66, 0x0f, 0xb6, 0x43, 0x08),
	S("movzx esi,byte [rbx+8]", true, 0x0f, 0xb6, 0x73, 0x08),
	S("movsx rax,byte [rbx+8]", true, 0x48, 0x0f, 0xbe, 0x43, 0x08),
	S("movsx eax,word [rbx+8]", true, 0x0f, 0xbf, 0x43, 0x08),
	S("movsxd rax,[rbx+8]", true, 0x48, 0x63, 0x43, 0x08),
	S("movzx eax,word [r12+4] unmapped", true, 0x41, 0x0f, 0xb7, 0x44, 0x24, 0x04),
	S("movzx rax,bl", true, 0x48, 0x0f, 0xb6, 0xc3),
	S("movzx eax,bh", false, 0x0f, 0xb6, 0xc7),
	S("movzx eax,dil", true, 0x40, 0x0f, 0xb6, 0xc7),
	S("movzx esi,bl", true, 0x0f, 0xb6, 0xf3),
	S("movzx eax,bx", true, 0x0f, 0xb7, 0xc3),
	S("movzx eax,di", true, 0x0f, 0xb7, 0xc7),
	S("movsxd rax,ebx", true, 0x48, 0x63, 0xc3),
	S("movsxd rax,edi", true, 0x48, 0x63, 0xc7),
	/* CMP/TEST and ALU with memory */
	S("cmp [rbx+8],rax", true, 0x48, 0x39, 0x43, 0x08),
	S("cmp rax,[rbx+8]", true, 0x48, 0x3b, 0x43, 0x08),
	S("cmp dword [rbx+8],5", true, 0x83, 0x7b, 0x08, 0x05),
	S("cmp byte [rbx+8],0x80", true, 0x80, 0x7b, 0x08, 0x80),
	S("cmp word gs:[rbx],-1", true, 0x65, 0x66, 0x83, 0x3b, 0xff),
	S("test [rbx+8],rax", true, 0x48, 0x85, 0x43, 0x08),
	S("test byte [rbx+8],1", true, 0xf6, 0x43, 0x08, 0x01),
	S("test qword [rbx+8],imm", true, 0x48, 0xf7, 0x43, 0x08, 0x00, 0x00, 0x00, 0x80),
	S("test [rbx+8],bh", false, 0x84, 0x7b, 0x08),
	S("add rax,[rbx+8]", true, 0x48, 0x03, 0x43, 0x08),
	S("sub eax,[rbx+8]", true, 0x2b, 0x43, 0x08),
	S("and ax,[rbx+8]", true, 0x66, 0x23, 0x43, 0x08),
	S("or al,[rbx+8]", true, 0x0a, 0x43, 0x08),
	S("xor rax,[rbx+rsi*8+0x10]", true, 0x48, 0x33, 0x44, 0xf3, 0x10),
	S("add [rbx+8],rax", true, 0x48, 0x01, 0x43, 0x08),
	S("sub [rbx+8],eax", true, 0x29, 0x43, 0x08),
	S("and [rbx+8],ax", true, 0x66, 0x21, 0x43, 0x08),
	S("or [rbx+8],al", true, 0x08, 0x43, 0x08),
	S("xor gs:[rbx],rax", true, 0x65, 0x48, 0x31, 0x03),
	S("add qword [rbx+8],-1", true, 0x48, 0x83, 0x43, 0x08, 0xff),
	S("sub dword [rbx+8],imm", true, 0x81, 0x6b, 0x08, 0x01, 0x00, 0x00, 0x80),
	S("and byte [rbx+8],0x0f", true, 0x80, 0x63, 0x08, 0x0f),
	S("or word [rbx+8],1", true, 0x66, 0x83, 0x4b, 0x08, 0x01),
	S("xor qword [rip+x],1", true, 0x48, 0x83, 0x35, RIPREL(8), 0x01),
	S("add [rbx+8],ah", false, 0x00, 0x63, 0x08),
	S("lock add [rbx+8],rax", false, 0xf0, 0x48, 0x01, 0x43, 0x08),
	S("add [r12],rax crosses into unmapped", true, 0x49, 0x01, 0x04, 0x24),
	S("add [r15],rax crosses 4K", true, 0x49, 0x01, 0x07),
	S("add [rip+0xf8],eax (code page)", true, 0x01, 0x05, 0xf8, 0x00, 0x00, 0x00),
	S("add rax,[r14] non-canonical", true, 0x49, 0x03, 0x06),
	/* LEA */
	S("lea rax,[rbx+rsi*8+0x10]", true, 0x48, 0x8d, 0x44, 0xf3, 0x10),
	S("lea eax,[rbx+8]", true, 0x8d, 0x43, 0x08),
	S("lea ax,[rbx+8]", true, 0x66, 0x8d, 0x43, 0x08),
	S("lea rax,[rip+x]", true, 0x48, 0x8d, 0x05, RIPREL(7)),
	S("lea rax,[rsi*4-8]", true, 0x48, 0x8d, 0x04, 0xb5, 0xf8, 0xff, 0xff, 0xff),
	S("lea rax,fs:[rbx+8]", true, 0x64, 0x48, 0x8d, 0x43, 0x08),
	S("lea rax,[r14+r14]", true, 0x4b, 0x8d, 0x04, 0x36),
	S("lea eax,[ebx+8] (a32)", false, 0x67, 0x8d, 0x43, 0x08),
	/* register MOVs */
	S("mov rax,rbx", true, 0x48, 0x89, 0xd8),
	S("mov eax,ebx", true, 0x89, 0xd8),
	S("mov ax,bx", true, 0x66, 0x89, 0xd8),
	S("mov al,bl", true, 0x88, 0xd8),
	S("mov al,bh", false, 0x88, 0xf8),
	S("mov ah,bl", false, 0x88, 0xdc),
	S("mov edi,esi", true, 0x89, 0xf7),
	S("mov dil,sil", true, 0x40, 0x88, 0xf7),
	S("mov rax,rbx (8B)", true, 0x48, 0x8b, 0xc3),
	S("mov esi,edi (8B)", true, 0x8b, 0xf7),
	S("mov al,bl (8A)", true, 0x8a, 0xc3),
	S("mov rax,-1", true, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff),
	S("mov eax,imm", true, 0xc7, 0xc0, 0x78, 0x56, 0x34, 0x92),
	S("mov ax,imm", true, 0x66, 0xc7, 0xc0, 0x34, 0x12),
	S("mov al,imm (C6)", true, 0xc6, 0xc0, 0x12),
	S("mov ah,imm (C6)", false, 0xc6, 0xc4, 0x12),
	S("movabs rax,imm64", true, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88),
	S("mov esp,imm", true, 0xbc, 0x00, 0x00, 0x08, 0x00),
	S("mov ax,imm (B8)", true, 0x66, 0xb8, 0x34, 0x12),
	S("mov al,imm (B0)", true, 0xb0, 0x12),
	S("mov ah,imm (B4)", false, 0xb4, 0x12),
	S("mov r8b,imm", true, 0x41, 0xb0, 0x12),
	/* register ALU */
	S("add rax,rbx", true, 0x48, 0x01, 0xd8),
	S("add eax,ebx", true, 0x01, 0xd8),
	S("add ax,bx", true, 0x66, 0x01, 0xd8),
	S("add al,bl", true, 0x00, 0xd8),
	S("add ah,bh", false, 0x00, 0xfc),
	S("add rax,rbx (03)", true, 0x48, 0x03, 0xc3),
	S("add rax,5", true, 0x48, 0x83, 0xc0, 0x05),
	S("add eax,-1", true, 0x83, 0xc0, 0xff),
	S("add ax,1", true, 0x66, 0x83, 0xc0, 0x01),
	S("add al,1", true, 0x80, 0xc0, 0x01),
	S("add ah,1", false, 0x80, 0xc4, 0x01),
	S("add al,0x7f (04)", true, 0x04, 0x7f),
	S("add rax,imm32 (05)", true, 0x48, 0x05, 0x00, 0x00, 0x00, 0x80),
	S("sub rax,rbx", true, 0x48, 0x29, 0xd8),
	S("sub esi,edi", true, 0x29, 0xfe),
	S("sub rax,rax", true, 0x48, 0x29, 0xc0),
	S("sub cl,1", true, 0x80, 0xe9, 0x01),
	S("and rax,rbx", true, 0x48, 0x21, 0xd8),
	S("and eax,0xff", true, 0x25, 0xff, 0x00, 0x00, 0x00),
	S("and dh,0x0f", false, 0x80, 0xe6, 0x0f),
	S("or rdx,rcx", true, 0x48, 0x09, 0xca),
	S("or cx,dx", true, 0x66, 0x0b, 0xca),
	S("xor eax,eax", true, 0x31, 0xc0),
	S("xor r8,r9", true, 0x4d, 0x31, 0xc8),
	S("xor bl,0x80", true, 0x80, 0xf3, 0x80),
	S("cmp rax,rbx", true, 0x48, 0x39, 0xd8),
	S("cmp ecx,edx", true, 0x3b, 0xca),
	S("cmp al,bl", true, 0x38, 0xd8),
	S("cmp rax,-1", true, 0x48, 0x83, 0xf8, 0xff),
	S("cmp bh,1", false, 0x80, 0xff, 0x01),
	S("test rax,rax", true, 0x48, 0x85, 0xc0),
	S("test esi,edi", true, 0x85, 0xfe),
	S("test al,al", true, 0x84, 0xc0),
	S("test al,1 (A8)", true, 0xa8, 0x01),
	S("test rax,imm", true, 0x48, 0xf7, 0xc0, 0x00, 0x00, 0x00, 0x80),
	S("test ah,1", false, 0xf6, 0xc4, 0x01),
	/* shifts by an immediate */
	S("shl rax,5", true, 0x48, 0xc1, 0xe0, 0x05),
	S("shl eax,31", true, 0xc1, 0xe0, 0x1f),
	S("shl rax,1 (D1)", true, 0x48, 0xd1, 0xe0),
	S("shr rax,63", true, 0x48, 0xc1, 0xe8, 0x3f),
	S("shr eax,1", true, 0xc1, 0xe8, 0x01),
	S("sar rax,7", true, 0x48, 0xc1, 0xf8, 0x07),
	S("sar eax,31", true, 0xc1, 0xf8, 0x1f),
	S("sar edi,3", true, 0xc1, 0xff, 0x03),
	S("shl eax,0", false, 0xc1, 0xe0, 0x00),
	S("shl eax,32 (masked 0)", false, 0xc1, 0xe0, 0x20),
	S("shr rax,64 (masked 0)", false, 0x48, 0xc1, 0xe8, 0x40),
	S("shl eax,33 (masked 1)", true, 0xc1, 0xe0, 0x21),
	S("shl rax,cl", false, 0x48, 0xd3, 0xe0),
	S("shl ax,3", false, 0x66, 0xc1, 0xe0, 0x03),
	S("shl qword [rbx+8],3", false, 0x48, 0xc1, 0x63, 0x08, 0x03),
	/* ALU forms, shifts and CMOVcc then a Jcc (jit-alu.c does them in
	 * place): taken, the Jcc skips the first UD2 */
	S("cmp rax,rbx; jl", true, 0x48, 0x39, 0xd8, 0x7c, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("cmp cx,5; jbe", true, 0x66, 0x83, 0xf9, 0x05, 0x76, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("test byte [rbx+8],1; jnz", true, 0xf6, 0x43, 0x08, 0x01, 0x75, 0x02, 0x0f, 0x0b, 0x0f,
	  0x0b),
	S("add [r15],rax crosses 4K; jo", true, 0x49, 0x01, 0x07, 0x70, 0x02, 0x0f, 0x0b, 0x0f,
	  0x0b),
	S("sub dword [r12],1 unmapped; je", true, 0x41, 0x83, 0x2c, 0x24, 0x01, 0x74, 0x02, 0x0f,
	  0x0b, 0x0f, 0x0b),
	S("sub [rip+0xf8],eax (code page); jb", true, 0x29, 0x05, 0xf8, 0x00, 0x00, 0x00, 0x72,
	  0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("xor ah,bl; jp", false, 0x30, 0xdc, 0x7a, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("shl rax,3; js", true, 0x48, 0xc1, 0xe0, 0x03, 0x78, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("sar edi,31; jz", true, 0xc1, 0xff, 0x1f, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("cmp eax,ebx; cmovl ecx,edx; jg", true, 0x39, 0xd8, 0x0f, 0x4c, 0xca, 0x7f, 0x02, 0x0f,
	  0x0b, 0x0f, 0x0b),
	S("test rax,rax; cmovz rcx,rdx; pushf", true, 0x48, 0x85, 0xc0, 0x48, 0x0f, 0x44, 0xca,
	  0x9c),
	S("add eax,ebx; rol eax,7; pushf", true, 0x01, 0xd8, 0xc1, 0xc0, 0x07, 0x9c),
	S("ror bx,3; lahf", false, 0x66, 0xc1, 0xcb, 0x03, 0x9f),
	S("rol al,9; ror rdx,63; jo", false, 0xc0, 0xc0, 0x09, 0x48, 0xc1, 0xca, 0x3f, 0x70, 0x02,
	  0x0f, 0x0b, 0x0f, 0x0b),
	S("test al,al; setnz ah; adc ecx,edx", true, 0x84, 0xc0, 0x0f, 0x95, 0xc4, 0x11, 0xd1),
	S("dec ecx; jnz", false, 0xff, 0xc9, 0x75, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("cmp eax,ebx; inc dword [r15] crosses 4K; jl", true, 0x39, 0xd8, 0x41, 0xff, 0x07, 0x7c,
	  0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("test eax,eax; dec qword [rbx+8]; adc ecx,edx", true, 0x85, 0xc0, 0x48, 0xff, 0x4b, 0x08,
	  0x11, 0xd1),
	S("sub eax,ebx; inc byte [r13] unmapped", true, 0x29, 0xd8, 0x41, 0xfe, 0x45, 0x00),
	S("xor eax,ebx; lock inc dword [rbx+8]; jg", true, 0x31, 0xd8, 0xf0, 0xff, 0x43, 0x08, 0x7f,
	  0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("imul eax,ebx; jo", false, 0x0f, 0xaf, 0xc3, 0x70, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("imul rcx,rdx,-3; pushf", false, 0x48, 0x6b, 0xca, 0xfd, 0x9c),
	S("imul ax,bx,0x7fff; jz", false, 0x66, 0x69, 0xc3, 0xff, 0x7f, 0x74, 0x02, 0x0f, 0x0b,
	  0x0f, 0x0b),
	/* two flag writers with a fault, a handler, a reader or the block's
	 * end between or after (jit-alu.c's dead lazy records) */
	S("add eax,ebx; add ecx,[r13] unmapped; sub edx,esi", true, 0x01, 0xd8, 0x41, 0x03, 0x4d,
	  0x00, 0x29, 0xf2),
	S("cmp rax,rbx; mov rcx,[r12] crosses into unmapped; test edx,edx", true, 0x48, 0x39, 0xd8,
	  0x49, 0x8b, 0x0c, 0x24, 0x85, 0xd2),
	S("add eax,ebx; mov ecx,0; div ecx; sub edx,esi", true, 0x01, 0xd8, 0xb9, 0x00, 0x00, 0x00,
	  0x00, 0xf7, 0xf1, 0x29, 0xf2),
	S("and eax,ebx; add ecx,[rbx+8]; shl edx,3; jz", true, 0x21, 0xd8, 0x03, 0x4b, 0x08, 0xc1,
	  0xe2, 0x03, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("sub eax,ebx; xor ecx,edx; pushf", true, 0x29, 0xd8, 0x31, 0xd1, 0x9c),
	S("sub eax,ebx; setc cl; xor edx,esi; adc eax,ecx", true, 0x29, 0xd8, 0x0f, 0x92, 0xc1,
	  0x31, 0xf2, 0x11, 0xc8),
	S("or eax,ebx; imul ecx,edx; sub esi,edi (then ud2)", true, 0x09, 0xd8, 0x0f, 0xaf, 0xca,
	  0x29, 0xfe),
	/* NOT, NEG, CMPXCHG with memory, BT* of memory by an immediate
	 * (jit-rmw.c): sizes, AH..BH, LOCK, crossings, faults, a code page */
	S("not rax; not ah; not cx; not edx", false, 0x48, 0xf7, 0xd0, 0xf6, 0xd4, 0x66, 0xf7, 0xd1,
	  0xf7, 0xd2),
	S("neg rax; jl", false, 0x48, 0xf7, 0xd8, 0x7c, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("neg bh; neg si; pushf", false, 0xf6, 0xdf, 0x66, 0xf7, 0xde, 0x9c),
	S("neg edi; jb", false, 0xf7, 0xdf, 0x72, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("mov rax,[rbx+8]; lock cmpxchg [rbx+8],rcx; jz", true, 0x48, 0x8b, 0x43, 0x08, 0xf0, 0x48,
	  0x0f, 0xb1, 0x4b, 0x08, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("lock cmpxchg [rbx+8],ecx; jnz", false, 0xf0, 0x0f, 0xb1, 0x4b, 0x08, 0x75, 0x02, 0x0f,
	  0x0b, 0x0f, 0x0b),
	S("cmpxchg [rbx+8],cx; pushf", false, 0x66, 0x0f, 0xb1, 0x4b, 0x08, 0x9c),
	S("mov al,[rbx+8]; cmpxchg [rbx+8],ah; jbe", true, 0x8a, 0x43, 0x08, 0x0f, 0xb0, 0x63, 0x08,
	  0x76, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("lock cmpxchg [r15],rcx crosses 4K; jz", false, 0xf0, 0x49, 0x0f, 0xb1, 0x0f, 0x74, 0x02,
	  0x0f, 0x0b, 0x0f, 0x0b),
	S("cmpxchg [r13],eax unmapped", false, 0x41, 0x0f, 0xb1, 0x45, 0x00),
	S("lock cmpxchg [rip+0xf0],eax (code page); jz", false, 0xf0, 0x0f, 0xb1, 0x05, 0xf0, 0x00,
	  0x00, 0x00, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("lock bts qword [rbx+8],63; jb", false, 0xf0, 0x48, 0x0f, 0xba, 0x6b, 0x08, 0x3f, 0x72,
	  0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("btr dword [rbx+8],33; jae", false, 0x0f, 0xba, 0x73, 0x08, 0x21, 0x73, 0x02, 0x0f, 0x0b,
	  0x0f, 0x0b),
	S("cmp eax,ebx; btc word [rbx+8],17; pushf", true, 0x39, 0xd8, 0x66, 0x0f, 0xba, 0x7b, 0x08,
	  0x11, 0x9c),
	S("test eax,eax; bt dword [rbx+8],5; adc ecx,edx", true, 0x85, 0xc0, 0x0f, 0xba, 0x63, 0x08,
	  0x05, 0x11, 0xd1),
	S("lock bts qword [r15],62 crosses 4K; jb", false, 0xf0, 0x49, 0x0f, 0xba, 0x2f, 0x3e, 0x72,
	  0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("bts dword [r13],1 unmapped", false, 0x41, 0x0f, 0xba, 0x6d, 0x00, 0x01),
	S("shr eax,cl; jz", false, 0xd3, 0xe8, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("sar rdx,cl; pushf", false, 0x48, 0xd3, 0xfa, 0x9c),
	S("shl rcx,cl; jc", false, 0x48, 0xd3, 0xe1, 0x72, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("mov ecx,32; shl eax,cl (masked 0); pushf", true, 0xb9, 0x20, 0x00, 0x00, 0x00, 0xd3,
	  0xe0, 0x9c),
	S("mov ecx,64; shr rax,cl (masked 0); jz", true, 0xb9, 0x40, 0x00, 0x00, 0x00, 0x48, 0xd3,
	  0xe8, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	S("mov ecx,1; sar eax,cl; jo", true, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xd3, 0xf8, 0x70, 0x02,
	  0x0f, 0x0b, 0x0f, 0x0b),
	S("lock dec qword [r15] crosses 4K; jz", false, 0xf0, 0x49, 0xff, 0x0f, 0x74, 0x02, 0x0f,
	  0x0b, 0x0f, 0x0b),
	S("lock inc byte [rbx+8]; jnz", false, 0xf0, 0xfe, 0x43, 0x08, 0x75, 0x02, 0x0f, 0x0b, 0x0f,
	  0x0b),
	S("lock dec word [r13] unmapped", false, 0xf0, 0x66, 0x41, 0xff, 0x4d, 0x00),
	S("lock inc dword [rip+0xf0] (code page); jg", false, 0xf0, 0xff, 0x05, 0xf0, 0x00, 0x00,
	  0x00, 0x7f, 0x02, 0x0f, 0x0b, 0x0f, 0x0b),
	/* the 64-bit stack */
	S("push rbx", true, 0x53),
	S("pop rbx", true, 0x5b),
	S("push rsp", true, 0x54),
	S("pop rsp", true, 0x5c),
	S("push r8; pop r9", true, 0x41, 0x50, 0x41, 0x59),
	S("push bx", false, 0x66, 0x53),
	SSTK("push rbx, rsp unmapped", true, F_UNMAPPED + 8, 0, 0x53),
	SSTK("push rbx, rsp crosses", true, F_UNMAPPED + 4, 0, 0x53),
	SSTK("pop rbx, rsp unmapped", true, F_UNMAPPED + 8, 0, 0x5b),
	SSTK("push rbx, rsp non-canonical", true, F_NONCANON, 0, 0x53),
	SSTK("pop rbx, rsp non-canonical", true, F_NONCANON, 0, 0x5b),
	S("call +0", true, 0xe8, 0x00, 0x00, 0x00, 0x00),
	SSTK("call +0, rsp unmapped", true, F_UNMAPPED + 8, 0, 0xe8, 0x00, 0x00, 0x00, 0x00),
	/* call +2 lands on the RET after the UD2, which returns to the UD2 */
	S("call; ret", true, 0xe8, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x0b, 0xc3),
	SSTK("ret to H_CODE+1", true, 0, H_CODE + 1, 0xc3, 0x0f, 0x0b),
	SSTK("ret non-canonical", true, 0, F_NONCANON, 0xc3),
	SSTK("ret, rsp unmapped", true, F_UNMAPPED, 0, 0xc3),
	SSTK("ret 8", false, 0, H_CODE + 3, 0xc2, 0x08, 0x00, 0x0f, 0x0b),
};

/* 32-bit protected mode: the register forms are specialized in every mode
 * (66 selects 16 bits here); memory operands and the stack stay generic. */
static const struct snip snips32[] = {
	S("mov eax,ebx", true, 0x89, 0xd8),
	S("mov ax,bx", true, 0x66, 0x89, 0xd8),
	S("mov bl,al", true, 0x88, 0xc3),
	S("mov al,bh", false, 0x88, 0xf8),
	S("add eax,ebx", true, 0x01, 0xd8),
	S("sub ax,1", true, 0x66, 0x83, 0xe8, 0x01),
	S("cmp ecx,edx", true, 0x39, 0xd1),
	S("test esi,edi", true, 0x85, 0xfe),
	S("movzx eax,bl", true, 0x0f, 0xb6, 0xc3),
	S("shl eax,3", true, 0xc1, 0xe0, 0x03),
	S("sar esi,31", true, 0xc1, 0xfe, 0x1f),
	S("mov eax,[ebx+8]", false, 0x8b, 0x43, 0x08),
	S("push ebx", false, 0x53),
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct outcome {
	struct emu_exit exit;
	struct kvm_regs regs;
	uint64_t cr2;
	uint8_t data[0x4000];
	uint8_t stack[0x200];
	uint8_t code[0x200];
};

static void set_regs(struct h *h, const struct snip *sn, uint64_t seed)
{
	uint64_t s = seed;
	__u64 *r = &h->regs.rax;

	for (unsigned i = 0; i < 16; i++)
		r[i] = rnd(&s);
	h->regs.rbx = F_XBASE;
	h->regs.rsi = 5;
	h->regs.rbp = H_DATA + 0x800;
	h->regs.rsp = sn->rsp ? sn->rsp : H_STACK;
	h->regs.r12 = F_UNMAPPED - 4;
	h->regs.r13 = F_UNMAPPED + 0x100;
	h->regs.r14 = F_NONCANON;
	h->regs.r15 = H_DATA + 0xffc;
	h->regs.rflags = 2 | (rnd(&s) & H_FLAGS_ARITH);
	for (unsigned i = 0; i < 0x4000; i++)
		h->ram[H_DATA + i] = (uint8_t)rnd(&s);
	for (unsigned i = 0; i < 0x200; i++)
		h->ram[H_STACK - 0x100 + i] = (uint8_t)rnd(&s);
	if (sn->top)
		memcpy(h->ram + H_STACK, &sn->top, 8);
}

/* generic: the VM runs the generic handlers only; interp: and without
 * host code for its blocks (src/emu/jit.c inlines some of these forms:
 * the interpreted generic run is the reference for both). */
static void run_one(const struct snip *sn, enum h_mode mode, uint64_t seed, bool generic,
		    bool interp, struct outcome *o)
{
	struct h h;
	struct kvm_sregs sr;
	uint8_t code[sizeof(sn->code) + 2];

	if (interp)
		setenv("VESSEL_EMU_JIT", "0", 1);
	h_init(&h, mode);
	if (interp)
		unsetenv("VESSEL_EMU_JIT");
	h.vm->generic_only = generic;
	emu_cpu_get_sregs(h.cpu, &sr);
	if (mode == H_LONG) {
		sr.fs.base = F_FSBASE;
		sr.gs.base = F_GSBASE;
	}
	assert_int_equal(emu_cpu_set_sregs(h.cpu, &sr), 0);
	memcpy(code, sn->code, sn->len);
	code[sn->len] = 0x0f, code[sn->len + 1] = 0x0b; /* UD2 */
	/* twice from the same state: the first run fills the soft TLB, so the
	 * second takes the specialized handlers' inline hit paths */
	for (int pass = 0; pass < 2; pass++) {
		set_regs(&h, sn, seed);
		h_run(&h, code, sn->len + 2);
	}
	memset(o, 0, sizeof(*o));
	o->exit = h.exit;
	memset(o->exit.detail, 0, sizeof(o->exit.detail));
	o->regs = h.regs;
	emu_cpu_get_sregs(h.cpu, &sr);
	o->cr2 = sr.cr2;
	memcpy(o->data, h.ram + H_DATA, sizeof(o->data));
	memcpy(o->stack, h.ram + H_STACK - 0x100, sizeof(o->stack));
	memcpy(o->code, h.ram + H_CODE, sizeof(o->code));
	h_free(&h);
}

static void check_pick(const struct snip *sn, enum emu_mode mode)
{
	static struct emu_cpu cpu; /* ~300 KiB with its soft TLBs: not on the stack */
	struct emu_dsrc s = { .p = sn->code, .avail = sn->len, .lin = H_CODE };
	struct emu_insn in;
	bool fast;

	memset(&cpu, 0, sizeof(cpu));
	cpu.mode = mode;
	assert_int_equal(emu_decode(&cpu, &s, H_CODE, &in), 0);
	fast = emu_fast_generic(in.fn) != in.fn;
	if (fast != sn->fast)
		fail_msg("%s: %s handler", sn->name, fast ? "a specialized" : "the generic");
}

static void compare(const struct snip *sn, const struct outcome *a, const struct outcome *b)
{
	const __u64 *ra = &a->regs.rax, *rb = &b->regs.rax;

	if (a->exit.reason != b->exit.reason || a->exit.vector != b->exit.vector ||
	    a->exit.has_error_code != b->exit.has_error_code ||
	    a->exit.error_code != b->exit.error_code || a->cr2 != b->cr2)
		fail_msg("%s: exit %d/%u/%u cr2 %#llx, generic %d/%u/%u cr2 %#llx", sn->name,
			 a->exit.reason, a->exit.vector, a->exit.error_code,
			 (unsigned long long)a->cr2, b->exit.reason, b->exit.vector,
			 b->exit.error_code, (unsigned long long)b->cr2);
	for (unsigned i = 0; i < 18; i++)
		if (ra[i] != rb[i])
			fail_msg("%s: register %u %#llx, generic %#llx", sn->name, i,
				 (unsigned long long)ra[i], (unsigned long long)rb[i]);
	if (memcmp(a->data, b->data, sizeof(a->data)) ||
	    memcmp(a->stack, b->stack, sizeof(a->stack)) ||
	    memcmp(a->code, b->code, sizeof(a->code)))
		fail_msg("%s: memory differs", sn->name);
}

static void test_fast_matches_generic(void **state)
{
	static struct outcome fast, gen, ref;

	(void)state;
	for (size_t i = 0; i < sizeof(snips) / sizeof(snips[0]); i++) {
		check_pick(&snips[i], EMU_MODE_LONG64);
		for (uint64_t seed = 1; seed <= 4; seed++) {
			uint64_t sd = seed * 0x9e3779b97f4a7c15ULL;

			run_one(&snips[i], H_LONG, sd, true, true, &ref);
			run_one(&snips[i], H_LONG, sd, false, false, &fast);
			compare(&snips[i], &fast, &ref);
			run_one(&snips[i], H_LONG, sd, true, false, &gen);
			compare(&snips[i], &gen, &ref);
		}
	}
}

static void test_fast_matches_generic_prot32(void **state)
{
	static struct outcome fast, gen, ref;

	(void)state;
	for (size_t i = 0; i < sizeof(snips32) / sizeof(snips32[0]); i++) {
		check_pick(&snips32[i], EMU_MODE_PROT32);
		for (uint64_t seed = 1; seed <= 4; seed++) {
			uint64_t sd = seed * 0x9e3779b97f4a7c15ULL;

			run_one(&snips32[i], H_PROT32, sd, true, true, &ref);
			run_one(&snips32[i], H_PROT32, sd, false, false, &fast);
			compare(&snips32[i], &fast, &ref);
			run_one(&snips32[i], H_PROT32, sd, true, false, &gen);
			compare(&snips32[i], &gen, &ref);
		}
	}
}

/* The differential test above would pass if both VMs ran the same
 * handlers: check what the faulting and crossing forms really do. */
static void test_fast_faults(void **state)
{
	static const struct {
		const char *name;
		unsigned vector;
		uint32_t err;
		uint64_t cr2;
		unsigned at; /* the faulting instruction's offset */
	} want[] = {
		{ "mov rax,[r12] crosses into unmapped", EMU_PF, 0, F_UNMAPPED },
		{ "mov rax,[r13] unmapped", EMU_PF, 0, F_UNMAPPED + 0x100 },
		{ "mov [r12],rax crosses into unmapped", EMU_PF, 2, F_UNMAPPED },
		{ "mov [r13],eax unmapped", EMU_PF, 2, F_UNMAPPED + 0x100 },
		{ "mov rax,[r14] non-canonical", EMU_GP, 0, 0 },
		{ "mov rax,ss:[r14] non-canonical", EMU_SS_FAULT, 0, 0 },
		{ "push rbx, rsp unmapped", EMU_PF, 2, F_UNMAPPED },
		{ "push rbx, rsp non-canonical", EMU_SS_FAULT, 0, 0 },
		{ "ret non-canonical", EMU_GP, 0, 0 },
		{ "add eax,ebx; add ecx,[r13] unmapped; sub edx,esi", EMU_PF, 0, F_UNMAPPED + 0x100,
		  2 },
		{ "add eax,ebx; mov ecx,0; div ecx; sub edx,esi", EMU_DE, 0, 0, 7 },
	};
	static struct outcome o;

	(void)state;
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		size_t i = 0;

		while (strcmp(snips[i].name, want[w].name))
			i++;
		run_one(&snips[i], H_LONG, 7, false, false, &o);
		if (o.exit.vector != want[w].vector || o.exit.error_code != want[w].err ||
		    (want[w].vector == EMU_PF && o.cr2 != want[w].cr2))
			fail_msg("%s: vector %u error %u cr2 %#llx", want[w].name, o.exit.vector,
				 o.exit.error_code, (unsigned long long)o.cr2);
		if (o.regs.rip != H_CODE + want[w].at)
			fail_msg("%s: rip %#llx", want[w].name, (unsigned long long)o.regs.rip);
	}
}

/* Jcc reads the lazy flags without a frame (emu_cond_lazy) and falls back
 * to RFLAGS out of line: after every kind of flag producer (SUB, LOGIC,
 * ADD, INC, the shifts' CF/OF, SAHF's materialized flags; 64 and 8 bits)
 * each Jcc must branch exactly as SETcc says. */
static void test_jcc_matches_setcc(void **state)
{
	static const uint8_t producers[][3] = {
		{ 0x48, 0x39, 0xd8 }, /* cmp rax,rbx */
		{ 0x48, 0x85, 0xd8 }, /* test rax,rbx */
		{ 0x48, 0x01, 0xd8 }, /* add rax,rbx */
		{ 0x48, 0xff, 0xc0 }, /* inc rax */
		{ 0x48, 0xd1, 0xe0 }, /* shl rax,1 */
		{ 0x38, 0xd8, 0x90 }, /* cmp al,bl */
		{ 0x9e, 0x90, 0x90 }, /* sahf */
	};
	static const uint64_t vals[] = {
		0, 1, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x80
	};
	struct h h;

	(void)state;
	h_init(&h, H_LONG);
	for (size_t p = 0; p < sizeof(producers) / sizeof(producers[0]); p++) {
		for (unsigned cc = 0; cc < 16; cc++) {
			/* producer; setcc [rdi]; jcc +2; mov cl,1; ud2 */
			uint8_t code[] = { producers[p][0],
					   producers[p][1],
					   producers[p][2],
					   0x0f,
					   (uint8_t)(0x90 + cc),
					   0x07,
					   (uint8_t)(0x70 + cc),
					   0x02,
					   0xb1,
					   0x01,
					   0x0f,
					   0x0b };

			for (unsigned k = 0; k < 36; k++) {
				h.regs.rax = vals[k / 6], h.regs.rbx = vals[k % 6];
				h.regs.rcx = 0, h.regs.rdi = H_DATA, h.regs.rflags = 2;
				h_run_ud2(&h, code, sizeof(code));
				if ((h.regs.rcx == 0) != h.ram[H_DATA])
					fail_msg("producer %zu cc %x: jcc %s, setcc %u", p, cc,
						 h.regs.rcx ? "not taken" : "taken", h.ram[H_DATA]);
			}
		}
	}
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_matches_generic),
		cmocka_unit_test(test_fast_matches_generic_prot32),
		cmocka_unit_test(test_fast_faults),
		cmocka_unit_test(test_jcc_matches_setcc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
