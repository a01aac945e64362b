/* Corpus: data movement. MOV in every size (partial register writes, the
 * 32-bit zero extension, 8-bit high registers, moffs with a 64-bit
 * address), MOVZX/MOVSX/MOVSXD, CBW/CWDE/CDQE/CWD/CDQ/CQO, XLAT, LEA with
 * every addressing form (SIB, no base, no index, RIP-relative, 32-bit
 * address size), XCHG/CMPXCHG/CMPXCHG8B/16B/XADD with and without LOCK,
 * and the NOP forms. */
#include "corpus.h"

#define MEM DIFF_DATA_VA

	CORPUS_BEGIN mov

CASE mov_partial_registers
	mov	$-1, %rax
	mov	$0x12, %al
	mov	$0x34, %ah
	mov	$0x5678, %bx
	mov	$0x9abcdef0, %ecx
	mov	%ah, %dl
	mov	%dh, %bh
	mov	%bl, %ch
	mov	%sil, %dil
	mov	%r8b, %r9b
	mov	%r10w, %r11w
	mov	%r12d, %r13d
	mov	$0x123456789abcdef0, %r14
	movl	$-1, %r15d
	movq	$-2, %rbp
END

CASE mov_memory
	mov	%rax, MEM+8
	mov	%ebx, MEM+16
	mov	%cx, MEM+20
	mov	%dl, MEM+22
	mov	%dh, MEM+23
	movb	$0x7f, MEM+24
	movw	$-3, MEM+26
	movl	$0x80000000, MEM+28
	movq	$-0x70000000, MEM+32
	mov	MEM+0x100, %rsi
	mov	MEM+0x108, %edi
	mov	MEM+0x10c, %r8w
	mov	MEM+0x10e, %r9b
	mov	MEM+0x10f, %ah
	mov	MEM+0x7ff, %r10
	mov	%r11, MEM+0x1ff8
END

CASE mov_moffs_absolute
	movabs	MEM+0x40, %al
	movabs	MEM+0x48, %ax
	movabs	MEM+0x50, %eax
	mov	$0, %rax
	movabs	MEM+0x58, %rax
	movabs	%rax, MEM+0x60
	movabs	%eax, MEM+0x68
	movabs	%ax, MEM+0x70
	movabs	%al, MEM+0x78
END

CASE movzx_movsx
	mov	$0x8081828384858687, %rax
	movzbl	%al, %ebx
	movzbl	%ah, %ecx
	movzwl	%ax, %edx
	movzwq	%ax, %rsi
	movsbl	%al, %edi
	movsbl	%ah, %ebp
	movsbq	%al, %r8
	movswl	%ax, %r9d
	movswq	%ax, %r10
	movslq	%eax, %r11
	movsbw	%al, %r12w
	movzbw	%al, %r13w
	movsbq	MEM+8, %r14
	movzwl	MEM+16, %r15d
	movslq	MEM+24, %rbp
	movzbl	%sil, %eax
END

CASE movsxd_32bit_dest
	mov	$0x80000000, %eax
	.byte	0x63, 0xd8
	.byte	0x66, 0x48, 0x63, 0xc8
	.byte	0x48, 0x63, 0x14, 0x25
	.long	MEM+0x30
END

CASE cbw_cwd_cqo
	mov	$0x80, %eax
	cbtw
	mov	%rax, %rbx
	mov	$0x8000, %eax
	cwtl
	mov	%rax, %rcx
	mov	$0x80000000, %eax
	cltq
	mov	%rax, %rdx
	mov	$0x8000, %ax
	cwtd
	mov	%rdx, %rsi
	mov	$0x7fffffff, %eax
	cltd
	mov	%rdx, %rdi
	mov	$-1, %rax
	cqto
	mov	$0x7f, %eax
	cbtw
END

CASE xlat_forms
	mov	$MEM+0x100, %ebx
	mov	$0x7f, %al
	xlat
	mov	%al, %cl
	mov	$0xff, %al
	xlat
	mov	$0x1234567800000000+MEM+0x200, %rbx
	mov	$3, %al
	addr32 xlat
END

CASE lea_forms
	lea	(%rax), %r8
	lea	8(%rbx), %r9
	lea	-0x80(%rcx,%rdx), %r10
	lea	0x12345678(%rsi,%rdi,2), %r11
	lea	(%r12,%r13,4), %r14
	lea	-1(,%r15,8), %r15
	lea	0x7fffffff, %rax
	lea	(%rsp), %rbx
	lea	8(%rsp,%rbp,1), %rcx
	lea	(%rbp), %rdx
	lea	(%r13), %rsi
	lea	(%r12), %rdi
	lea	4(%r12,%r12,2), %r8
	lea	(,%rbp,1), %r9
	lea	0x10(%rsp,%r13,1), %r10
	lea	(%rax,%rax,8), %eax
	lea	-2(%rbx,%rcx,4), %r11w
	lea	(%rsp), %r12d
	lea	1f(%rip), %r13
	lea	-0x100(%rip), %r14d
1:	lea	(%eax,%ebx,2), %rsi
	lea	-4(%ecx), %edi
	lea	0x10(%esp,%ebp,8), %r15
END

CASE xchg_forms
	xchg	%rax, %rbx
	xchg	%ecx, %edx
	xchg	%si, %di
	xchg	%r8b, %r9b
	xchg	%ah, %bh
	xchg	%eax, %eax
	xchg	%rax, %r10
	xchg	%ax, %r11w
	xchg	%r12, MEM+0x10
	xchg	%r13d, MEM+0x18
	xchg	MEM+0x20, %r14w
	xchg	%r15b, MEM+0x28
	xchg	%ch, MEM+0x29
	FLAGS
END

CASE cmpxchg_forms
	mov	MEM+0x10, %rax
	cmpxchg	%rbx, MEM+0x10
	FLAGS
	cmpxchg	%rcx, MEM+0x10
	FLAGS
	mov	%edx, %eax
	cmpxchg	%esi, %edx
	FLAGS
	cmpxchg	%edi, %edx
	FLAGS
	lock cmpxchgw %r8w, MEM+0x20
	FLAGS
	mov	MEM+0x28, %al
	lock cmpxchgb %r9b, MEM+0x28
	FLAGS
	mov	$5, %eax
	mov	$5, %r10d
	cmpxchg	%r11d, %r10d
	FLAGS
	cmpxchg	%ah, %bh
	FLAGS
END

CASE cmpxchg_32bit_fail_zero_extends
	mov	$0x1111111122222222, %rax
	mov	$0x3333333344444444, %rbx
	mov	$0x5555555566666666, %rcx
	cmpxchg	%ecx, %ebx
	FLAGS
	mov	$0x7777777744444444, %rax
	mov	$0x3333333344444444, %rbx
	cmpxchg	%ecx, %ebx
	FLAGS
END

CASE cmpxchg8b_16b, req=DIFF_REQ_CX16
	mov	MEM+0x40, %rax
	mov	MEM+0x48, %rdx
	lock cmpxchg16b MEM+0x40
	FLAGS
	lock cmpxchg16b MEM+0x40
	FLAGS
	mov	MEM+0x50, %eax
	mov	MEM+0x54, %edx
	cmpxchg8b MEM+0x50
	FLAGS
	cmpxchg8b MEM+0x58
	FLAGS
END

CASE cmpxchg16b_misaligned_gp, req=DIFF_REQ_CX16
	lock cmpxchg16b MEM+0x48
END

CASE xadd_forms
	xadd	%rax, %rbx
	FLAGS
	xadd	%ecx, %edx
	FLAGS
	xadd	%si, %di
	FLAGS
	xadd	%r8b, %r9b
	FLAGS
	lock xaddq %r10, MEM+0x10
	FLAGS
	lock xaddl %r11d, MEM+0x18
	FLAGS
	lock xaddw %r12w, MEM+0x1c
	FLAGS
	xaddb	%ah, MEM+0x1e
	FLAGS
	xadd	%r13, %r13
	FLAGS
END

CASE nop_forms
	nop
	xchg	%ax, %ax
	nopw	0(%rax,%rax,1)
	nopl	0x12345678(%rax)
	.byte	0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00
	endbr64
	pause
	.byte	0x0f, 0x18, 0x00
	lfence
	mfence
	sfence
	FLAGS
END

	CORPUS_END
