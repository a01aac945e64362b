/* Corpus: exceptions at CPL3. #PF (read, write, fetch, stack, write to the
 * read-only code page, fetch from the NX data page), #GP (non-canonical
 * address, privileged instructions, INT n through a DPL0 gate, segment
 * loads), #SS, #UD (UD0/UD1/UD2, LOCK misuse, opcodes invalid in 64-bit
 * mode), #AC with RFLAGS.AC, #BP/#DB from INT3/INT1. What ran before the
 * fault must be there; the faulting instruction must have changed nothing. */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define HOLE DIFF_HOLE_VA

	/* One privileged instruction after a register write that must stay. */
	.macro	PRIV name, insn:vararg
CASE \name
	mov	$0x1234, %eax
	\insn
END
	.endm

	CORPUS_BEGIN exc

CASE pf_read_unmapped
	mov	$7, %ebx
	mov	HOLE+0x10, %rax
END

CASE pf_read_below_data
	mov	$MEM, %esi
	mov	-8(%rsi), %rax
END

CASE pf_write_unmapped
	mov	%rax, HOLE+0x123
END

CASE pf_write_crossing_page
	mov	$0x1122334455667788, %rax
	mov	%rax, MEM+DIFF_DATA_SIZE-4
END

CASE pf_read_crossing_page
	mov	MEM+DIFF_DATA_SIZE-2, %eax
END

CASE pf_write_code_page
	lea	(%rip), %rbx
	movb	$0x90, (%rbx)
END

CASE pf_fetch_unmapped
	mov	$HOLE, %eax
	jmp	*%rax
END

CASE pf_fetch_nx_data
	mov	$MEM+0x100, %ecx
	call	*%rcx
END

CASE pf_push_unmapped_stack
	mov	$HOLE+8, %esp
	push	%rax
	push	%rbx
END

CASE pf_rmw_lock_unmapped
	lock incl HOLE+0x40
END

CASE pf_rep_stos_into_hole
	cld
	mov	$MEM+DIFF_DATA_SIZE-12, %edi
	mov	$8, %ecx
	rep stosl
END

CASE gp_noncanonical_read
	mov	$0x0000800000000000, %rax
	mov	(%rax), %rbx
END

CASE gp_noncanonical_write
	mov	$0xffff7fffffffffff, %rdx
	mov	%ecx, (%rdx)
END

CASE gp_noncanonical_jmp
	mov	$0x0000800000000000, %rax
	jmp	*%rax
END

CASE ss_noncanonical_stack
	mov	$0x8000000000000008, %rsp
	push	%rax
END

CASE ac_alignment_check
	pushfq
	orl	$0x40000, (%rsp)
	popfq
	mov	MEM+3, %eax
END

CASE ac_off_unaligned_ok
	mov	MEM+3, %eax
	mov	%rax, MEM+0x101
END

PRIV gp_hlt, hlt
PRIV gp_cli, cli
PRIV gp_sti, sti
PRIV gp_in, in $0x80, %al
PRIV gp_out, out %al, $0x80
PRIV gp_in_dx, in (%dx), %eax
PRIV gp_insb, insb
PRIV gp_outsb, outsb
PRIV gp_rdmsr, rdmsr
PRIV gp_wrmsr, wrmsr
PRIV gp_mov_from_cr0, mov %cr0, %rax
PRIV gp_mov_to_cr3, mov %rax, %cr3
PRIV gp_mov_dr7, mov %rax, %db7
PRIV gp_lgdt, lgdt MEM
PRIV gp_lidt, lidt MEM
PRIV gp_lldt, lldt %ax
PRIV gp_ltr, ltr %ax
PRIV gp_invlpg, invlpg MEM
PRIV gp_wbinvd, wbinvd
PRIV gp_invd, invd
PRIV gp_clts, clts
PRIV gp_swapgs, swapgs
PRIV gp_sysret, sysretq
PRIV gp_int_0x21, int $0x21
PRIV gp_int_0xff, int $0xff
PRIV bp_int3, int3
PRIV bp_int_3, int $3
PRIV ud_ud2, ud2
PRIV ud_ud0, .byte 0x0f, 0xff, 0xc0
PRIV ud_ud1, .byte 0x0f, 0xb9, 0xc0
PRIV ud_lock_register, .byte 0xf0, 0x01, 0xc0
PRIV ud_lock_mov, .byte 0xf0, 0x89, 0x04, 0x25, 0x00, 0x00, 0x10, 0x10
PRIV ud_lock_nop, .byte 0xf0, 0x90
PRIV ud_push_es, .byte 0x06
PRIV ud_daa, .byte 0x27
PRIV ud_pusha, .byte 0x60
PRIV ud_into, .byte 0xce
PRIV ud_aam, .byte 0xd4, 0x0a
PRIV ud_lds, .byte 0xc5, 0x00, 0x00
PRIV ud_jmp_far_direct, .byte 0xea, 0, 0, 0, 0, 0x33, 0

CASE seg_load_user_data
	mov	$DIFF_USER_SS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%ds, %ebx
	mov	%es, %cx
	mov	%ss, %edx
	mov	%cs, %esi
	xor	%eax, %eax
	mov	%eax, %ds
	mov	%eax, %es
END

CASE seg_load_kernel_data_gp
	mov	$0x18, %eax
	mov	%eax, %ds
END

CASE seg_load_ss_code_gp
	mov	$DIFF_USER_CS, %eax
	mov	%eax, %ss
END

CASE seg_load_ss_null_gp
	xor	%eax, %eax
	mov	%eax, %ss
END

/* Allowed at CPL3: far transfers and IRETQ to the same privilege, and the
 * descriptor probes (LAR/LSL/VERR/VERW) against Linux's GDT. */
CASE far_ret_same_cpl
	push	$DIFF_USER_CS
	lea	1f(%rip), %rax
	push	%rax
	lretq
	ud2
1:	mov	%cs, %ebx
	push	$DIFF_USER_CS
	lea	2f(%rip), %rcx
	push	%rcx
	lretq	$0
2:	FLAGS
END

CASE far_jmp_call_memory	/* m16:32 (AMD has no REX.W m16:64 form) */
	lea	1f(%rip), %eax
	mov	%eax, MEM+0x100
	movw	$DIFF_USER_CS, MEM+0x104
	ljmp	*MEM+0x100
	ud2
1:	lea	2f(%rip), %eax
	mov	%eax, MEM+0x110
	movw	$DIFF_USER_CS, MEM+0x114
	lcall	*MEM+0x110
	jmp	3f
2:	mov	(%rsp), %edx
	mov	4(%rsp), %esi
	lretl
3:	FLAGS
END

CASE iretq_same_cpl
	mov	%rsp, %rbx
	push	$DIFF_USER_SS
	push	%rbx
	push	$DIFF_CF|DIFF_ZF|DIFF_OF|0x202
	push	$DIFF_USER_CS
	lea	1f(%rip), %rax
	push	%rax
	iretq
	ud2
1:	FLAGS
END

CASE lar_lsl_verr_verw
	mov	$DIFF_USER_CS, %eax
	lar	%eax, %ebx
	FLAGS
	lsl	%eax, %ecx
	FLAGS
	verr	%ax
	FLAGS
	verw	%ax
	FLAGS
	mov	$DIFF_USER_SS, %eax
	lar	%ax, %dx
	FLAGS
	lsl	%rax, %rsi
	FLAGS
	verw	%ax
	FLAGS
	mov	$0x18, %eax
	lar	%eax, %edi
	FLAGS
	verr	%ax
	FLAGS
	mov	$0x2b3, %eax
	lsl	%eax, %r8d
	FLAGS
	xor	%eax, %eax
	lar	%eax, %r9d
	FLAGS
END

	CORPUS_END
