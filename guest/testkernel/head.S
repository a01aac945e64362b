/* head.S - entry points, GDT and page tables of the test guest.
 *
 * Three ways in, all ending in long_mode_common with %rsi = the boot structure
 * and %edi = which protocol brought us here (layout.h TK_BOOT_*):
 *   load+0x000  startup_32   bzImage 32-bit entry (boot.rst "32-bit boot protocol"),
 *                            %esi = boot_params, paging off.
 *   load+0x200  startup_64   bzImage 64-bit entry (boot.rst "64-bit boot protocol"),
 *                            long mode, loader's identity map, %rsi = boot_params.
 *   pvh_start32              Xen PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), %ebx = hvm_start_info.
 * Whatever the way in, we switch at once to our own GDT and page tables so that
 * nothing of the loader's is used beyond the entry. The page tables are static
 * (built by the assembler) because CPL0 instructions are expensive where KVM
 * emulates them: the boot path runs a few dozen instructions before C. */
#include "layout.h"

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PE_PG 0x80000001

	.section .head.text, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	cld
	movl $TK_BOOT_BZIMAGE32, %edi
	jmp enter_long_mode

	/* kernel_info (boot protocol 2.15): the setup header's kernel_info_offset points here. */
	.org TK_KERNEL_INFO_OFFSET
	.globl kernel_info
kernel_info:
	.ascii "LToP"
	.long kernel_info_end - kernel_info /* size */
	.long kernel_info_end - kernel_info /* size_total */
	.long 0 /* setup_type_max */
kernel_info_end:

	.org TK_ENTRY64_OFFSET
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movl $TK_BOOT_BZIMAGE64, %edi
	/* The protocol promises no stack: take ours before the far return. */
	leaq boot_stack_top(%rip), %rsp
	lgdt gdt_desc(%rip)
	pushq $TK_CS64
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movl $pml4, %eax
	movq %rax, %cr3
	jmp long_mode_common

	.text
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %esi
	movl $TK_BOOT_PVH, %edi
	/* fall through */

/* 32-bit protected mode, paging off, %esi/%edi as for long_mode_common.
 * %cs is flat but %ds may not be (the bzImage real-mode setup jumps here
 * straight after setting CR0.PE), hence the %cs override. */
enter_long_mode:
	lgdt %cs:gdt_desc
	ljmp $TK_CS32, $1f
1:	movl $TK_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PE_PG, %eax
	movl %eax, %cr0
	ljmp $TK_CS64, $long_mode_common

	.code64
long_mode_common:
	movl $TK_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* From 32-bit code the upper halves are undefined: zero-extend. */
	cmpl $TK_BOOT_BZIMAGE64, %edi
	je 2f
	movl %esi, %esi
2:	movl %edi, %r13d
	movq %rsi, %r12
	leaq boot_stack_top(%rip), %rsp
	leaq _bss_start(%rip), %rdi
	leaq _bss_end(%rip), %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	movl %r13d, %edi
	movq %r12, %rsi
	call kmain
3:	cli
	hlt
	jmp 3b

/* Where the APs land from the trampoline (trampoline.S), in long mode on our
 * page tables; ap_stack_top was set by the BSP before it sent the SIPIs. */
	.globl ap_start64
ap_start64:
	movl $TK_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	lgdt gdt_desc(%rip)
	movq ap_stack_top(%rip), %rsp
	call ap_main
4:	cli
	hlt
	jmp 4b

/* The Xen PVH entry note: QEMU (and any PVH loader) enters pvh_start32 in
 * 32-bit protected mode with %ebx = hvm_start_info. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4 /* namesz */
	.long 4 /* descsz */
	.long 18 /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start32

	.data
	.balign 16
	.globl gdt, gdt_desc
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* TK_CS32: 32-bit code, flat */
	.quad 0x00cf92000000ffff /* TK_DS: data, flat */
	.quad 0x00af9a000000ffff /* TK_CS64: 64-bit code */
gdt_end:
	.if gdt_end - gdt != TK_GDT_LIMIT + 1
	.error "TK_GDT_LIMIT does not match the GDT"
	.endif
	.balign 8
gdt_desc:
	.word TK_GDT_LIMIT
	.quad gdt

/* Identity map of the low 4 GiB with 2 MiB pages; 3-4 GiB (the PCI/MMIO hole:
 * LAPIC, IOAPIC, BARs) uncached. Present|RW|PS = 0x83, +PWT|PCD = 0x9b. */
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + 0x3
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x3
	.quad pd + 0x1003
	.quad pd + 0x2003
	.quad pd + 0x3003
	.fill 508, 8, 0
pd:
	.set tk_addr, 0
	.rept 2048
	.if tk_addr < 0xC0000000
	.quad tk_addr + 0x83
	.else
	.quad tk_addr + 0x9b
	.endif
	.set tk_addr, tk_addr + 0x200000
	.endr

	.section .noinit, "aw", @nobits
	.balign 16
boot_stack:
	.skip TK_BOOT_STACK_SIZE
boot_stack_top:
