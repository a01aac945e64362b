/* trampoline.S - the AP startup trampoline.
 *
 * smp.c copies [tramp_start, tramp_end) to TK_TRAMP_BASE (below 1 MiB, page
 * aligned) and sends INIT-SIPI-SIPI with vector TK_TRAMP_BASE >> 12. The AP
 * starts here in real mode at CS = TK_TRAMP_BASE >> 4, IP = 0; it loads our GDT,
 * goes to protected mode, then to long mode on the BSP's page tables and jumps
 * to ap_start64 (head.S). Only label differences are used for addresses inside
 * the trampoline, so the code is position-independent up to TK_TRAMP_BASE. */
#include "layout.h"

	.section .rodata
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $TK_CS32, $(TK_TRAMP_BASE + tramp_pm32 - tramp_start)

	.code32
tramp_pm32:
	movl $TK_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax /* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx /* EFER */
	rdmsr
	orl $0x100, %eax /* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax /* PG */
	movl %eax, %cr0
	ljmp $TK_CS64, $ap_start64

	.balign 8
tramp_gdt_desc:
	.word TK_GDT_LIMIT
	.long gdt
tramp_end:
