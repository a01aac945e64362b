/* Linked generated code (src/emu/jit.c "Linking", exec.c chain_add()), end
 * to end with the whole emu library: a loop of blocks in one page runs on
 * from block to block in host code, with the same results and statistics
 * as the interpreter; a kick stops a guest spinning in a linked loop; a
 * linked successor that is rewritten is not run again; a block entered
 * through a link that rewrites its own next instruction runs the new one;
 * a link to another page is not followed once that page is mapped
 * elsewhere, nor after a CR3 load; a VM with two vCPUs does not link.
 * Exits whose successor is known jump straight to it (jit.h "Chaining"):
 * the same results and statistics; such a jump into a block whose code
 * is freed and reused is put back first; VESSEL_EMU_LINK=0 turns it all
 * off. Each guest ends with an OUT to port
 * 0x500, which kicks the vCPU (sys-fake.h). */
#define SYS_FAKE_REAL_CORE
#include "sys-fake.h"
#include "common/util.h"
#include "vs-test.h"
#include "jit-modes.h"

#include <pthread.h>
#include <time.h>

#define CODE 0x5000
#define RESULT 0x100000

/* 1000 rounds of two blocks (the loop head ends in a Jcc to one of two
 * tails): rax = 3000, rdx = 500 at the end, 5507 instructions in 2001
 * blocks. */
__asm__(".pushsection .rodata\n"
	".globl loop_code, loop_code_end\n"
	"loop_code:\n"
	"	xorl %eax, %eax\n"
	"	xorl %edx, %edx\n"
	"	movl $1000, %ecx\n"
	"1:	addq $3, %rax\n"
	"	testb $1, %cl\n"
	"	jz 2f\n"
	"	incq %rdx\n"
	"2:	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rax, 0x100000\n"
	"	movq %rdx, 0x100008\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"loop_code_end:\n"
	".popsection\n");
extern const uint8_t loop_code[], loop_code_end[];
#define LOOP_INSNS 5507u /* 3 + 1000 * 5 + 500 + 4 (the OUT's block) */

/* A block jumping to itself. */
static const uint8_t spin_code[] = { 0xeb, 0xfe };

/* 4000 rounds; every fourth patches the immediate of the stub (in this
 * page, so a call's block links to it) to the round number; each round
 * calls the stub and counts returns other than the last patch (rbx). */
__asm__(".pushsection .rodata\n"
	".globl patch_code, patch_code_end\n"
	"patch_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	movl $4000, %r9d\n"
	"1:	testb $3, %r8b\n"
	"	jnz 3f\n"
	"	movb %r8b, 6f+1(%rip)\n"
	"	jmp 3f\n"
	"3:	call 6f\n"
	"	movl %r8d, %edx\n"
	"	andb $0xfc, %dl\n"
	"	cmpb %dl, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	movb $0, %al\n"
	"	ret\n"
	"patch_code_end:\n"
	".popsection\n");
extern const uint8_t patch_code[], patch_code_end[];

/* 10 rounds of A (sets rdi) and S (stores through rdi, then adds the
 * immediate of its next instruction to esi), back through TRAMP, a
 * WBINVD (a system block: the dispatch loop starts the block after it,
 * the jump to A): A points rdi at scratch memory but in the last round at
 * that immediate, so S, entered through links, rewrites its own next
 * instruction: esi = 9 * 1 + 2. */
#define TRAMP 0x6000
static const uint8_t tramp_code[] = {
	0x0f, 0x09, /* wbinvd */
	0x41, 0xff, 0xe5, /* jmp *%r13 */
};
__asm__(".pushsection .rodata\n"
	".globl self_code, self_code_end\n"
	"self_code:\n"
	"	movl $10, %ecx\n"
	"	xorl %esi, %esi\n"
	"	leaq 7f+1(%rip), %r10\n"
	"	leaq 1f(%rip), %r13\n"
	"	movl $0x6000, %r11d\n"
	"1:	movl $0x100100, %edi\n"
	"	cmpl $1, %ecx\n"
	"	cmoveq %r10, %rdi\n"
	"	jmp 2f\n"
	"2:	movb $2, (%rdi)\n"
	"7:	movl $1, %eax\n"
	"	addl %eax, %esi\n"
	"	decl %ecx\n"
	"	jz 3f\n"
	"	jmp *%r11\n"
	"3:	movq %rsi, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"self_code_end:\n"
	".popsection\n");
extern const uint8_t self_code[], self_code_end[];

/* 4 rounds: call a RET at r13, then the stub at linear 0x7000 (each from
 * a block in another page, which links to it), then map that page to the
 * other of gpa 0x7000 and 0x8000 (stubs returning 1 and 2) and INVLPG it:
 * eax sums to 1 + 2 + 1 + 2. With r13 = 0x7800 the first call makes the
 * dispatch loop translate the page again, so the second call's link finds
 * the page cached, but at the other gpa; with r13 = 0x6800 the page is
 * not cached at all. */
#define STUB1 0x7000
#define STUB2 0x8000
static const uint8_t stub1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 }; /* mov $1, %eax; ret */
static const uint8_t stub2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 };
__asm__(".pushsection .rodata\n"
	".globl remap_code, remap_code_end\n"
	"remap_code:\n"
	"	movl $0x7000, %r14d\n"
	"	movl $0x7007, %r15d\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"1:	call *%r13\n"
	"	call *%r14\n"
	"	addl %eax, %ebx\n"
	"	xorq $0xf000, %r15\n"
	"	movq %r15, 0x13038\n" /* PT's entry for linear 0x7000 */
	"	invlpg 0x7000\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"remap_code_end:\n"
	".popsection\n");
extern const uint8_t remap_code[], remap_code_end[];

/* The same with a direct CALL of the stub (a CALL rel32 from CODE to
 * 0x7000), whose block's exit is chained across pages to the stub. */
__asm__(".pushsection .rodata\n"
	".globl remapd_code, remapd_code_end\n"
	"remapd_code:\n"
	"	movl $0x7007, %r15d\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"1:	call *%r13\n"
	"	.byte 0xe8\n"
	"	.long 0x7000 - 0x5000 - (2f - remapd_code)\n"
	"2:	addl %eax, %ebx\n"
	"	xorq $0xf000, %r15\n"
	"	movq %r15, 0x13038\n"
	"	invlpg 0x7000\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"remapd_code_end:\n"
	".popsection\n");
extern const uint8_t remapd_code[], remapd_code_end[];

/* Calls the stub at linear 0x7000 (gpa 0x7000: returns 1), loads CR3
 * with tables that map it to gpa 0x8000 (returns 2), calls it again. */
#define PML4_2 0x14000 /* PML4, PDPT, PD, PT again, with PT[7] = 0x8000 */
__asm__(".pushsection .rodata\n"
	".globl cr3_code, cr3_code_end\n"
	"cr3_code:\n"
	"	movl $0x7000, %r14d\n"
	"	call *%r14\n"
	"	movl %eax, %ebx\n"
	"	movl $0x14000, %eax\n"
	"	movq %rax, %cr3\n"
	"	call *%r14\n"
	"	addl %eax, %ebx\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"cr3_code_end:\n"
	".popsection\n");
extern const uint8_t cr3_code[], cr3_code_end[];

/* 200 rounds: rewrite the immediate of the stub S (retiring its block),
 * call a stub U_r never run before (built into the code S's block had,
 * freed meanwhile: same size, first on its free list), then call S from
 * a block in S's page, whose direct exit had been chained to S's old
 * code; count the calls of S that did not return the new immediate
 * (rbx). */
#define USTUBS 0xb000 /* U_r at USTUBS + 8 * r: mov $0xee, %al; ret */
__asm__(".pushsection .rodata\n"
	".globl reuse_code, reuse_code_end\n"
	"reuse_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	movl $0xb000, %r12d\n"
	"1:	movb %r8b, 6f+1(%rip)\n"
	"	leaq (%r12,%r8,8), %rax\n"
	"	call *%rax\n"
	"	call 6f\n"
	"	cmpb %r8b, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	incq %r8\n"
	"	cmpq $200, %r8\n"
	"	jne 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	movb $0, %al\n"
	"	ret\n"
	"reuse_code_end:\n"
	".popsection\n");
extern const uint8_t reuse_code[], reuse_code_end[];

/* The jump table (exec.c jump_add(), jit.c emit_jump_lookup()): a RET
 * to one of four callers, 1000 rounds; rax = 4000, 14005 instructions
 * in 9001 blocks. The RET's block remembers two successors, so without
 * the table half its returns and more went back to the loop. */
__asm__(".pushsection .rodata\n"
	".globl ret_code, ret_code_end\n"
	"ret_code:\n"
	"	xorl %eax, %eax\n"
	"	movl $1000, %ecx\n"
	"1:	call 5f\n"
	"	call 5f\n"
	"	call 5f\n"
	"	call 5f\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rax, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"5:	incq %rax\n"
	"	ret\n"
	"ret_code_end:\n"
	".popsection\n");
extern const uint8_t ret_code[], ret_code_end[];
#define RET_INSNS 14005u
#define RET_BLOCKS 9001u

/* A spin through the table alone: X, Y, Z and H2 (after H's WBINVD, a
 * system block) each step r8 and jump through SEQ[r8]: X H Y H Z H, then
 * X Y Z forever. Each of X, Y, Z is first reached from the loop (so the
 * table has it) and each has only H, or nothing, as a link, so the
 * X -> Y -> Z -> X loop never returns to the dispatch loop by itself. */
#define SEQ 0x60000
__asm__(".pushsection .rodata\n"
	".globl tspin_code, tspin_x, tspin_y, tspin_z, tspin_h, tspin_code_end\n"
	"tspin_code:\n"
	"	xorl %r8d, %r8d\n"
	"	movl $6, %r9d\n"
	"	jmp *0x60000\n"
	"tspin_x:\n"
	"	incl %r8d\n"
	"	cmpl $9, %r8d\n"
	"	cmovel %r9d, %r8d\n"
	"	jmp *0x60000(,%r8,8)\n"
	"tspin_y:\n"
	"	incl %r8d\n"
	"	cmpl $9, %r8d\n"
	"	cmovel %r9d, %r8d\n"
	"	jmp *0x60000(,%r8,8)\n"
	"tspin_z:\n"
	"	incl %r8d\n"
	"	cmpl $9, %r8d\n"
	"	cmovel %r9d, %r8d\n"
	"	jmp *0x60000(,%r8,8)\n"
	"tspin_h:\n"
	"	wbinvd\n"
	"	incl %r8d\n"
	"	cmpl $9, %r8d\n"
	"	cmovel %r9d, %r8d\n"
	"	jmp *0x60000(,%r8,8)\n"
	"tspin_code_end:\n"
	".popsection\n");
extern const uint8_t tspin_code[], tspin_x[], tspin_y[], tspin_z[], tspin_h[], tspin_code_end[];

/* 400 rounds of four calls of a RET; every fourth patches the
 * immediate of the third return site (C, "movb $imm, %al") to the round
 * number, the others add 1, 2 and 3 to r11: rbx counts C's values other
 * than the last patch (0), r11 = 2400. The RET's block remembers the
 * first and the last return site it went back to through the loop, so
 * C (and the second) come from the table, whose slot for C names the
 * retired block after a patch. */
__asm__(".pushsection .rodata\n"
	".globl smcret_code, smcret_code_end\n"
	"smcret_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	xorl %r11d, %r11d\n"
	"	movl $400, %r9d\n"
	"1:	testb $3, %r8b\n"
	"	jnz 3f\n"
	"	movb %r8b, 7f+1(%rip)\n"
	"	jmp 3f\n"
	"3:	call 6f\n"
	"	addl $1, %r11d\n"
	"	call 6f\n"
	"	addl $2, %r11d\n"
	"	call 6f\n"
	"7:	movb $0, %al\n"
	"	movl %r8d, %edx\n"
	"	andb $0xfc, %dl\n"
	"	cmpb %dl, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	call 6f\n"
	"	addl $3, %r11d\n"
	"	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movq %r11, 0x100008\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	ret\n"
	"smcret_code_end:\n"
	".popsection\n");
extern const uint8_t smcret_code[], smcret_code_end[];

/* rsi = region, rcx = pages. Per page: writes 1365 fresh stubs "mov
 * $imm8, %al; ret" and calls each (rbx counts wrong immediates), and
 * after each three calls of a RET (f: r12 += 1) from three sites that add
 * 1, 2, 3 to r11. With a small code cache the fresh stubs flush it again
 * and again, retiring f's return sites with the table's slots naming
 * them. */
__asm__(".pushsection .rodata\n"
	".globl flushret_code, flushret_code_end\n"
	"flushret_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	xorl %r11d, %r11d\n"
	"	xorl %r12d, %r12d\n"
	"1:	movq %rsi, %rdx\n"
	"	movl $1365, %r9d\n"
	"	movq %r8, %r10\n"
	"2:	movb $0xb0, (%rdx)\n"
	"	movb %r10b, 1(%rdx)\n"
	"	movb $0xc3, 2(%rdx)\n"
	"	addq $3, %rdx\n"
	"	incq %r10\n"
	"	decl %r9d\n"
	"	jnz 2b\n"
	"	movq %rsi, %rdx\n"
	"	movl $1365, %r9d\n"
	"3:	call *%rdx\n"
	"	cmpb %r8b, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	call 6f\n"
	"	addl $1, %r11d\n"
	"	call 6f\n"
	"	addl $2, %r11d\n"
	"	call 6f\n"
	"	addl $3, %r11d\n"
	"	addq $3, %rdx\n"
	"	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 3b\n"
	"	addq $4096, %rsi\n"
	"	decq %rcx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movq %r11, 0x100008\n"
	"	movq %r12, 0x100010\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	incl %r12d\n"
	"	ret\n"
	"flushret_code_end:\n"
	".popsection\n");
extern const uint8_t flushret_code[], flushret_code_end[];
#define FLUSH_REGION 0x200000
#define FLUSH_PAGES 16

/* 4 rounds: f's RET returns to two sites here, then to 0x7003 in the
 * page at linear 0x7000 (reached through r12: "call *%r13 (f); mov $1
 * or $2, %eax; jmp *%r14", at gpa 0x7000 or 0x8000), then to one more
 * site here; then the page is mapped to the other gpa: with r10 = 0 by
 * its PT entry and INVLPG, else by a CR3 load (r10 = PML4 ^ PML4_2).
 * ebx sums to 1 + 2 + 1 + 2. The return to 0x7003 is f's third
 * successor: found in the table, whose slot names the page's old gpa. */
static const uint8_t page_code1[] = {
	0x41, 0xff, 0xd5, /* call *%r13 */
	0xb8, 0x01, 0x00, 0x00, 0x00, /* mov $1, %eax */
	0x41, 0xff, 0xe6, /* jmp *%r14 */
};
static const uint8_t page_code2[] = {
	0x41, 0xff, 0xd5, /* call *%r13 */
	0xb8, 0x02, 0x00, 0x00, 0x00, /* mov $2, %eax */
	0x41, 0xff, 0xe6, /* jmp *%r14 */
};
__asm__(".pushsection .rodata\n"
	".globl remapret_code, remapret_code_end\n"
	"remapret_code:\n"
	"	movl $0x7000, %r12d\n"
	"	movl $0x7007, %r15d\n"
	"	leaq 6f(%rip), %r13\n"
	"	leaq 2f(%rip), %r14\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"1:	call 6f\n"
	"	call 6f\n"
	"	jmp *%r12\n"
	"2:	addl %eax, %ebx\n"
	"	call 6f\n"
	"	testq %r10, %r10\n"
	"	jnz 8f\n"
	"	xorq $0xf000, %r15\n"
	"	movq %r15, 0x13038\n" /* PT's entry for linear 0x7000 */
	"	invlpg 0x7000\n"
	"	jmp 9f\n"
	"8:	movq %cr3, %rax\n"
	"	xorq %r10, %rax\n"
	"	movq %rax, %cr3\n"
	"9:	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	ret\n"
	"remapret_code_end:\n"
	".popsection\n");
extern const uint8_t remapret_code[], remapret_code_end[];

/* 200 rounds across three pages: CLI and STI (an event: emu_exec()
 * returns after it), a jump to page B, an IRETQ to the same ring there
 * (a system block, and an event) into page C, a jump back to page A:
 * 1201 blocks. */
#define PAGE_B 0x6000
#define PAGE_C 0x7000
#define ROUNDS 200
__asm__(".pushsection .rodata\n"
	".globl pages_code, pages_back, pages_code_end, pageb_code, pageb_code_end\n"
	"pages_code:\n"
	"	movl $200, %ecx\n"
	"	movl $0x6000, %r12d\n"
	"	movl $0x7000, %r13d\n"
	"1:	cli\n"
	"	sti\n"
	"	jmp *%r12\n"
	"pages_back:\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq $1, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"pages_code_end:\n"
	"pageb_code:\n"
	"	movq %rsp, %rax\n"
	"	pushq $0x10\n"
	"	pushq %rax\n"
	"	pushfq\n"
	"	pushq $0x08\n"
	"	pushq %r13\n"
	"	iretq\n"
	"pageb_code_end:\n"
	".popsection\n");
extern const uint8_t pages_code[], pages_back[], pages_code_end[], pageb_code[], pageb_code_end[];
static const uint8_t pagec_code[] = { 0x41, 0xff, 0xe6 }; /* jmp *%r14 */

/* S (at CPL0, in a supervisor-only page) runs, then an IRETQ to CPL3
 * code that calls S: the fetch must fault (#PF, error code 0x15: present,
 * user, instruction fetch), although the dispatch loop had S's page
 * translated and S's block at hand. */
__asm__(".pushsection .rodata\n"
	".globl cpl_code, cpl_pf, cpl_code_end, cpl_user, cpl_user_end\n"
	"cpl_code:\n"
	"	xorl %r9d, %r9d\n"
	"	call 5f\n"
	"	leaq 5f(%rip), %rax\n"
	"	pushq $0x23\n"
	"	pushq $0x90000\n"
	"	pushq $0x3002\n"
	"	pushq $0x2b\n"
	"	pushq $0x6000\n"
	"	iretq\n"
	"5:	incl %r9d\n"
	"	ret\n"
	"cpl_pf:\n"
	"	popq %rax\n"
	"	movq %rax, 0x100008\n"
	"	movq $100, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"cpl_code_end:\n"
	"cpl_user:\n"
	"	call *%rax\n"
	"	movq %r9, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"cpl_user_end:\n"
	".popsection\n");
extern const uint8_t cpl_code[], cpl_pf[], cpl_code_end[], cpl_user[], cpl_user_end[];

/* The table holds 64-bit blocks only, for 64-bit code: four rounds of a
 * RET to four callers (the second return site, R2, "inc %rbx; jmp *%r15"
 * comes from the table), then a far return to compat mode, where a RET
 * goes to R2 again: as 32-bit code that is "dec %eax; inc %ebx; inc
 * %ecx; jmp *%edi", to mode_right (ecx = 1); R2's 64-bit block would
 * jump to mode_wrong. */
__asm__(".pushsection .rodata\n"
	".globl mode_code, mode_code_end\n"
	"mode_code:\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"	leaq 3f(%rip), %r15\n"
	"1:	call 5f\n"
	"	nop\n"
	"	call 5f\n"
	"mode_r2:\n"
	"	incq %rbx\n"
	"	jmp *%r15\n"
	"3:	call 5f\n"
	"	nop\n"
	"	call 5f\n"
	"	nop\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	leaq mode_wrong(%rip), %r15\n"
	"	leaq mode_right(%rip), %rdi\n"
	"	leaq mode_r2(%rip), %rsi\n"
	"	pushq $0x18\n"
	"	leaq 7f(%rip), %rax\n"
	"	pushq %rax\n"
	"	lretq\n"
	"5:	ret\n"
	"	.code32\n"
	"7:	pushl %esi\n"
	"	ret\n"
	"mode_right:\n"
	"	movl %ecx, 0x100008\n"
	"	movl $1, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"mode_wrong:\n"
	"	movl $2, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"	.code64\n"
	"mode_code_end:\n"
	".popsection\n");
extern const uint8_t mode_code[], mode_code_end[];

/* A VM whose vCPU 0 is set to run code at CODE; cache_bytes: the code
 * cache's budget (0: the default), jit: its generated code. */
static struct machine *link_machine_cfg(unsigned ncpus, const uint8_t *code, const uint8_t *end,
					uint64_t cache_bytes, enum emu_jit_mode jit)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct emu_ram_region r;
	struct emu_vm_config cfg = { .ncpus = ncpus,
				     .ram = &r,
				     .nram = 1,
				     .io = &fake_io,
				     .code_cache_bytes = cache_bytes,
				     .jit = jit };

	m->ram = aligned_alloc(4096, RAM_SIZE);
	memset(m->ram, 0, RAM_SIZE);
	r = (struct emu_ram_region){ .gpa = 0, .size = RAM_SIZE, .hva = m->ram };
	assert_int_equal(emu_vm_new(&cfg, &m->vm), 0);
	m->cpu = emu_vm_cpu(m->vm, 0);
	fake_kick_vm = m->vm;
	setup_long(m);
	m->cpu->rip = CODE;
	memcpy(m->ram + CODE, code, (size_t)(end - code));
	m->cpu->r[EMU_RSP] = 0x90000;
	return m;
}

static struct machine *link_machine(unsigned ncpus, const uint8_t *code, const uint8_t *end)
{
	return link_machine_cfg(ncpus, code, end, 0, test_jit);
}

/* Runs vCPU 0 until the guest's OUT kicks it; returns its statistics. */
static struct emu_stats run_to_kick(struct machine *m)
{
	struct emu_stats st;

	assert_int_equal(emu_cpu_run(m->cpu, &m->exit), 0);
	assert_int_equal(m->exit.reason, EMU_EXIT_KICK);
	emu_cpu_get_stats(m->cpu, &st);
	return st;
}

/* Most blocks ran on through links with host code, none without; with
 * host code, exits were chained straight to their successors. */
static void check_linked(const struct emu_stats *st)
{
	if (test_jit == EMU_JIT_ON) {
		assert_true(st->dispatches * 10 < st->blocks_run);
		assert_true(st->chains > 0);
	} else {
		assert_int_equal(st->dispatches, st->blocks_run);
		assert_int_equal(st->chains, 0);
	}
}

static void test_loop_runs_linked(void **state)
{
	struct machine *m = link_machine(1, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(get64(m, RESULT + 8), 500);
	/* linked blocks count as the loop counts them */
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.insns_user, 0);
	assert_int_equal(st.blocks_run, 2001);
	check_linked(&st);
	machine_free(m);
}

/* The same at CPL3: insns_user counts linked blocks too. */
static void test_loop_runs_linked_user(void **state)
{
	struct machine *m = link_machine(1, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	load_seg_raw(m->cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(m->cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	m->cpu->rflags |= 3u << 12; /* IOPL 3: the OUT is allowed */
	emu_update_mode(m->cpu);
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.insns_user, LOOP_INSNS);
	check_linked(&st);
	machine_free(m);
}

/* A guest spinning in a block linked to itself still leaves at a kick
 * (an event, as the timer thread's interrupts are). */
static void test_kick_stops_linked_spin(void **state)
{
	struct machine *m = link_machine(1, spin_code, spin_code + sizeof(spin_code));
	struct runner r = { .cpu = m->cpu };
	struct timespec until;
	struct emu_stats st;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	emu_cpu_kick(m->cpu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	assert_int_equal(pthread_timedjoin_np(t, NULL, &until), 0);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.exit.reason, EMU_EXIT_KICK);
	emu_cpu_get_stats(m->cpu, &st);
	assert_true(st.blocks_run > 1000);
	check_linked(&st);
	machine_free(m);
}

/* A link is only as good as its generation: once the stub a call's block
 * links to is rewritten, the call must run the new stub. */
static void test_linked_successor_rewritten(void **state)
{
	struct machine *m = link_machine(1, patch_code, patch_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0); /* every call returned the last patch */
	/* every patch but the first (before the stub ever ran) drops it */
	assert_int_equal(st.blocks_flushed, 999);
	if (test_jit == EMU_JIT_ON) { /* between patches, calls ran on into the stub */
		assert_true(st.dispatches < st.blocks_run);
		assert_true(st.chains > 999); /* each new stub chained to again */
	}
	machine_free(m);
}

/* A retired block's code is freed and reused by another block while the
 * block that jumped straight into it lives on: that jump must have been
 * put back (else the call runs U_r's code, or a freed block's). */
static void test_chained_target_freed_and_reused(void **state)
{
	struct machine *m = link_machine(1, reuse_code, reuse_code_end);
	static const uint8_t ustub[] = { 0xb0, 0xee, 0xc3 }; /* mov $0xee, %al; ret */
	struct emu_stats st;

	(void)state;
	for (unsigned r = 0; r < 200; r++)
		memcpy(m->ram + USTUBS + 8 * r, ustub, sizeof(ustub));
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0);
	assert_int_equal(st.blocks_flushed, 199);
	if (test_jit == EMU_JIT_ON)
		assert_true(st.chains >= 199);
	machine_free(m);
}

/* A block entered through a link rewrites its own next instruction: the
 * write must cut that block (cc->cur is it, not the one the dispatch loop
 * started), and the instructions it did not run are not counted. */
static void test_linked_block_patches_itself(void **state)
{
	struct machine *m = link_machine(1, self_code, self_code_end);
	struct emu_stats st;

	(void)state;
	memcpy(m->ram + TRAMP, tramp_code, sizeof(tramp_code));
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 11);
	/* 5 + 10 * 4 + 10 * 5 + 9 * 3 + 3; the cut block's rest ran as a
	 * new one */
	assert_int_equal(st.insns, 125);
	if (test_jit == EMU_JIT_ON)
		assert_true(st.dispatches < st.blocks_run);
	machine_free(m);
}

/* A link across pages is only followed while the dispatch loop's cached
 * translation of its target's page is the one it was made with: after
 * the page is mapped elsewhere (and INVLPG, a system instruction, drops
 * the cached translations), the call's block must not run on into the
 * stub it linked to before: neither through the link check (an indirect
 * call) nor through a direct exit chained across pages (a CALL rel32). */
static void test_link_after_remap(void **state)
{
	static const uint64_t first[] = { 0x7800, 0x6800, 0x7800, 0x6800 };

	(void)state;
	for (unsigned i = 0; i < VS_ARRAY_SIZE(first); i++) {
		struct machine *m = i < 2 ? link_machine(1, remap_code, remap_code_end) :
					    link_machine(1, remapd_code, remapd_code_end);
		struct emu_stats st;

		memcpy(m->ram + STUB1, stub1, sizeof(stub1));
		memcpy(m->ram + STUB2, stub2, sizeof(stub2));
		m->ram[0x6800] = m->ram[STUB1 + 0x800] = m->ram[STUB2 + 0x800] = 0xc3;
		m->cpu->r[EMU_RSP] = 0x90000;
		m->cpu->r[EMU_R13] = first[i];
		st = run_to_kick(m);
		assert_int_equal(get64(m, RESULT), 6);
		if (test_jit == EMU_JIT_ON)
			assert_true(st.dispatches < st.blocks_run);
		if (test_jit == EMU_JIT_ON && i >= 2) /* the direct CALL's exit */
			assert_true(st.chains > 0);
		machine_free(m);
	}
}

/* Regression: MOV to CR3 was not a system instruction, so the dispatch
 * loop kept its cached code page translations across it (and links
 * their check): the second call ran the old stub. */
static void test_cr3_load_retranslates(void **state)
{
	struct machine *m = link_machine(1, cr3_code, cr3_code_end);

	(void)state;
	memcpy(m->ram + STUB1, stub1, sizeof(stub1));
	memcpy(m->ram + STUB2, stub2, sizeof(stub2));
	for (unsigned i = 0; i < 4; i++) /* PML4, PDPT, PD, PT */
		memcpy(m->ram + PML4_2 + i * 0x1000, m->ram + PML4 + i * 0x1000, 0x1000);
	for (unsigned i = 0; i < 3; i++) /* each points at the next copy */
		put64(m, PML4_2 + i * 0x1000, PML4_2 + (i + 1) * 0x1000 + 7);
	put64(m, PML4_2 + 3 * 0x1000 + 7 * 8, STUB2 | 7);
	m->cpu->r[EMU_RSP] = 0x90000;
	run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3);
	machine_free(m);
}

/* With two vCPUs no block links (a link's words could tear between two
 * writers), and the loop still runs right. */
static void test_two_vcpus_do_not_link(void **state)
{
	struct machine *m = link_machine(2, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.dispatches, st.blocks_run);
	assert_int_equal(st.chains, 0);
	machine_free(m);
}

/* A RET to one of four callers runs on through the jump table, counted
 * as the dispatch loop counts (at CPL0 and CPL3: insns_user too). */
static void test_ret_through_table(void **state)
{
	(void)state;
	for (unsigned user = 0; user < 2; user++) {
		struct machine *m = link_machine(1, ret_code, ret_code_end);
		struct emu_stats st;

		if (user) {
			load_seg_raw(m->cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
			load_seg_raw(m->cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
			m->cpu->rflags |= 3u << 12; /* IOPL 3: the OUT is allowed */
			emu_update_mode(m->cpu);
		}
		st = run_to_kick(m);
		assert_int_equal(get64(m, RESULT), 4000);
		assert_int_equal(st.insns, RET_INSNS);
		assert_int_equal(st.insns_user, user ? RET_INSNS : 0);
		assert_int_equal(st.blocks_run, RET_BLOCKS);
		if (test_jit == EMU_JIT_ON) /* each block once, then the links and the table */
			assert_true(st.dispatches < 40);
		else
			assert_int_equal(st.dispatches, st.blocks_run);
		machine_free(m);
	}
}

/* A kick stops a loop whose every block is entered through the table. */
static void test_kick_stops_table_spin(void **state)
{
	struct machine *m = link_machine(1, tspin_code, tspin_code_end);
	const uint8_t *seq[] = { tspin_x, tspin_h, tspin_y, tspin_h, tspin_z,
				 tspin_h, tspin_x, tspin_y, tspin_z };
	struct runner r = { .cpu = m->cpu };
	struct timespec until;
	struct emu_stats st;
	pthread_t t;

	(void)state;
	for (unsigned i = 0; i < VS_ARRAY_SIZE(seq); i++)
		put64(m, SEQ + 8 * i, CODE + (uint64_t)(seq[i] - tspin_code));
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	emu_cpu_kick(m->cpu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	assert_int_equal(pthread_timedjoin_np(t, NULL, &until), 0);
	assert_int_equal(r.exit.reason, EMU_EXIT_KICK);
	emu_cpu_get_stats(m->cpu, &st);
	assert_true(st.blocks_run > 1000);
	if (test_jit == EMU_JIT_ON) /* the loop ran the first few blocks only */
		assert_true(st.dispatches < 20);
	machine_free(m);
}

/* A slot is only as good as its generation: once the return site it
 * names is rewritten, the RET must run the new block. */
static void test_table_target_rewritten(void **state)
{
	struct machine *m = link_machine(1, smcret_code, smcret_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0);
	assert_int_equal(get64(m, RESULT + 8), 2400);
	assert_int_equal(st.blocks_flushed, 99);
	machine_free(m);
}

/* Nor does a slot outlive a flush of the whole cache (the ASan build
 * checks that no freed block is entered). */
static void test_table_survives_flushes(void **state)
{
	struct machine *m =
		link_machine_cfg(1, flushret_code, flushret_code_end, 256 << 10, test_jit);
	struct emu_stats st;
	uint64_t calls = FLUSH_PAGES * 1365;

	(void)state;
	m->cpu->r[EMU_RSI] = FLUSH_REGION;
	m->cpu->r[EMU_RCX] = FLUSH_PAGES;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0);
	assert_int_equal(get64(m, RESULT + 8), 6 * calls);
	assert_int_equal(get64(m, RESULT + 16), 3 * calls);
	assert_true(st.cache_flushes > 10);
	machine_free(m);
}

/* A slot is only followed while the loop's cached translation of its
 * block's page is the one it was made with: after INVLPG or a CR3 load
 * maps the page to the other gpa, the RET into it runs the other code. */
static void test_table_after_remap(void **state)
{
	(void)state;
	for (unsigned cr3 = 0; cr3 < 2; cr3++) {
		struct machine *m = link_machine(1, remapret_code, remapret_code_end);

		memcpy(m->ram + STUB1, page_code1, sizeof(page_code1));
		memcpy(m->ram + STUB2, page_code2, sizeof(page_code2));
		for (unsigned i = 0; i < 4; i++) /* PML4, PDPT, PD, PT */
			memcpy(m->ram + PML4_2 + i * 0x1000, m->ram + PML4 + i * 0x1000, 0x1000);
		for (unsigned i = 0; i < 3; i++) /* each points at the next copy */
			put64(m, PML4_2 + i * 0x1000, PML4_2 + (i + 1) * 0x1000 + 7);
		put64(m, PML4_2 + 3 * 0x1000 + 7 * 8, STUB2 | 7);
		m->cpu->r[EMU_R10] = cr3 ? PML4 ^ PML4_2 : 0;
		run_to_kick(m);
		assert_int_equal(get64(m, RESULT), 6);
		machine_free(m);
	}
}

/* With two vCPUs, or with VESSEL_EMU_LINK=0 (for a VM that leaves the
 * choice to the environment), no code looks up the table and no exit is
 * chained: every block starts from the dispatch loop, with the same
 * results. */
static void test_table_off(void **state)
{
	char *jit_env = getenv("VESSEL_EMU_JIT");

	(void)state;
	if (jit_env) /* the environment decides, so host code must be on */
		jit_env = strdup(jit_env);
	unsetenv("VESSEL_EMU_JIT");
	for (unsigned i = 0; i < 2; i++) {
		struct machine *m;
		struct emu_stats st;

		if (i)
			setenv("VESSEL_EMU_LINK", "0", 1);
		m = link_machine_cfg(i ? 1 : 2, ret_code, ret_code_end, 0,
				     i ? EMU_JIT_DEFAULT : EMU_JIT_ON);
		unsetenv("VESSEL_EMU_LINK");
		st = run_to_kick(m);
		assert_int_equal(get64(m, RESULT), 4000);
		assert_int_equal(st.insns, RET_INSNS);
		assert_true(st.blocks_jit > 0);
		assert_int_equal(st.dispatches, st.blocks_run);
		assert_int_equal(st.chains, 0);
		machine_free(m);
	}
	if (jit_env)
		setenv("VESSEL_EMU_JIT", jit_env, 1);
	free(jit_env);
}

/* CLI, STI, the returns from emu_exec() after STI and an IRETQ to the
 * same ring leave the blocks around them linked: three dispatches a
 * round (the block after STI, again after its interrupt shadow, and the
 * block after the IRETQ); one more each when CLI was a system block or
 * the IRETQ or the return from emu_exec() dropped the cached
 * translations (page A's, which page C's jump back links into). */
static void test_translations_kept(void **state)
{
	struct machine *m = link_machine(1, pages_code, pages_code_end);
	struct emu_stats st;

	(void)state;
	memcpy(m->ram + PAGE_B, pageb_code, (size_t)(pageb_code_end - pageb_code));
	memcpy(m->ram + PAGE_C, pagec_code, sizeof(pagec_code));
	m->cpu->r[EMU_R14] = CODE + (uint64_t)(pages_back - pages_code);
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 1);
	assert_int_equal(st.blocks_run, ROUNDS * 6 + 1);
	if (test_jit == EMU_JIT_ON)
		assert_true(st.dispatches <= ROUNDS * 3 + 10);
	machine_free(m);
}

/* ... but not across a change of privilege level. */
static void test_translations_dropped_for_user(void **state)
{
	struct machine *m = link_machine(1, cpl_code, cpl_code_end);

	(void)state;
	memcpy(m->ram + PAGE_B, cpl_user, (size_t)(cpl_user_end - cpl_user));
	put64(m, PT + 8 * (CODE >> 12), CODE | 3); /* supervisor only */
	set_gate(m, 14, CODE + (uint64_t)(cpl_pf - cpl_code), 0, 0, false);
	run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 100);
	assert_int_equal(get64(m, RESULT + 8), 0x15);
	machine_free(m);
}

/* A RET in compat mode to an address the table holds a 64-bit block
 * for runs the 32-bit block. */
static void test_table_64bit_only(void **state)
{
	struct machine *m = link_machine(1, mode_code, mode_code_end);

	(void)state;
	run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 1);
	assert_int_equal(get64(m, RESULT + 8), 1);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_loop_runs_linked),
		BOTH(test_loop_runs_linked_user),
		BOTH(test_kick_stops_linked_spin),
		BOTH(test_linked_successor_rewritten),
		BOTH(test_chained_target_freed_and_reused),
		BOTH(test_linked_block_patches_itself),
		BOTH(test_link_after_remap),
		BOTH(test_cr3_load_retranslates),
		BOTH(test_two_vcpus_do_not_link),
		BOTH(test_ret_through_table),
		BOTH(test_kick_stops_table_spin),
		BOTH(test_table_target_rewritten),
		BOTH(test_table_survives_flushes),
		BOTH(test_table_after_remap),
		cmocka_unit_test(test_table_off),
		BOTH(test_translations_kept),
		BOTH(test_translations_dropped_for_user),
		BOTH(test_table_64bit_only),
	};

	return vs_test_run("emu-link", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
}
