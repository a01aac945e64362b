/* Corpus: conditions and control flow. SETcc, CMOVcc and Jcc for all 16
 * conditions under several flag images; LOOP/JRCXZ; CALL/RET near (direct,
 * indirect, RET imm16); PUSH/POP of every kind; ENTER/LEAVE with nesting;
 * PUSHF/POPF, LAHF/SAHF, CLC/STC/CMC, CLD/STD. */
#include "corpus.h"

#define MEM DIFF_DATA_VA

	/* Loads RFLAGS from img (arithmetic bits), then each condition's
	 * SETcc into consecutive bytes at MEM+off. */
	.macro	SETCC_ALL img, off
	push	$((\img) | 2)
	popfq
	mov	$MEM+\off, %edi
	.irp	cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	set\cc	(%rdi)
	lea	1(%rdi), %rdi
	.endr
	.endm

	/* CMOVcc of every condition, 64- and 32-bit (a false 32-bit CMOV still
	 * clears bits 63:32), results pushed. */
	.macro	CMOV_ALL img
	push	$((\img) | 2)
	popfq
	.irp	cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	mov	%rdx, %rax
	cmov\cc	%rcx, %rax
	push	%rax
	mov	%rdx, %rax
	cmov\cc	%ecx, %eax
	push	%rax
	.endr
	.endm

	/* Jcc of every condition: pushes 1 when taken, 0 when not. */
	.macro	JCC_ALL img
	push	$((\img) | 2)
	popfq
	.irp	cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	j\cc	1f
	push	$0
	jmp	2f
1:	push	$1
2:
	.endr
	.endm

	CORPUS_BEGIN flow

CASE setcc_all
	SETCC_ALL 0, 0x100
	SETCC_ALL DIFF_ARITH, 0x110
	SETCC_ALL DIFF_CF, 0x120
	SETCC_ALL DIFF_ZF, 0x130
	SETCC_ALL DIFF_SF, 0x140
	SETCC_ALL DIFF_OF, 0x150
	SETCC_ALL DIFF_SF|DIFF_OF, 0x160
	SETCC_ALL DIFF_PF|DIFF_CF, 0x170
	SETCC_ALL DIFF_ZF|DIFF_SF, 0x180
	SETCC_ALL DIFF_OF|DIFF_ZF, 0x190
	setb	%al
	setg	%ah
	setne	%sil
	setl	%r9b
END

CASE cmov_all_flags_clear
	mov	$0x1111111122222222, %rdx
	mov	$0x3333333344444444, %rcx
	CMOV_ALL 0
END

CASE cmov_all_flags_set
	mov	$0x1111111122222222, %rdx
	mov	$0x3333333344444444, %rcx
	CMOV_ALL DIFF_ARITH
END

CASE cmov_mixed
	mov	$0x1111111122222222, %rdx
	mov	$0x3333333344444444, %rcx
	CMOV_ALL DIFF_SF|DIFF_CF
	push	$DIFF_OF|DIFF_ZF|2
	popfq
	cmove	MEM+8, %r8
	cmovne	MEM+16, %r9
	cmovl	MEM+24, %r10w
	cmovg	MEM+32, %r11w
	cmovo	MEM+40, %r12d
END

CASE jcc_all
	JCC_ALL 0
	JCC_ALL DIFF_ARITH
	JCC_ALL DIFF_ZF|DIFF_PF
	JCC_ALL DIFF_SF
	JCC_ALL DIFF_OF|DIFF_CF
END

CASE jcc_near_and_backward
	mov	$5, %ecx
	xor	%eax, %eax
1:	add	%ecx, %eax
	dec	%ecx
	{disp32} jnz 1b
	cmp	$15, %eax
	{disp32} je 2f
	mov	$-1, %eax
2:	{disp32} jmp 3f
	ud2
3:	FLAGS
END

CASE loop_jrcxz
	mov	$7, %ecx
	xor	%eax, %eax
1:	inc	%eax
	loop	1b
	mov	$10, %ecx
	xor	%ebx, %ebx
2:	inc	%ebx
	cmp	$4, %ebx
	loopne	2b
	mov	$10, %ecx
	mov	$MEM, %edi
3:	cmpb	$0, (%rdi)
	lea	1(%rdi), %rdi
	loope	3b
	xor	%ecx, %ecx
	jrcxz	4f
	mov	$-1, %edx
4:	mov	$0x100000000, %rcx
	jecxz	5f
	mov	$-1, %esi
5:	addr32 loop 6f
6:	FLAGS
END

CASE call_ret
	call	1f
	jmp	3f
1:	push	%rbx
	call	2f
	pop	%rbx
	ret
2:	mov	(%rsp), %rax
	ret
3:	lea	4f(%rip), %rcx
	call	*%rcx
	jmp	5f
4:	ret	$16
5:	lea	6f(%rip), %rdx
	mov	%rdx, MEM+0x100
	call	*MEM+0x100
	jmp	7f
6:	mov	%rsp, %rsi
	ret
7:	FLAGS
END

CASE jmp_indirect
	lea	1f(%rip), %rax
	jmp	*%rax
	ud2
1:	lea	2f(%rip), %rbx
	mov	%rbx, MEM+0x20
	jmp	*MEM+0x20
	ud2
2:	mov	$MEM+0x18, %ecx
	lea	3f(%rip), %rdx
	mov	%rdx, 8(%rcx)
	jmp	*8(%rcx)
	ud2
3:	nop
END

CASE push_pop_all
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rsp
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r15
	push	$-5
	push	$0x12345678
	pushw	$0x7777
	pushw	%ax
	pushq	MEM+0x10
	pushw	MEM+0x18
	popw	%bx
	popq	MEM+0x20
	popw	MEM+0x28
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%rax
	pop	%rcx
	pop	%rdx
	pop	%rbx
END

CASE push_pop_rsp
	push	%rsp
	pop	%rax
	mov	%rsp, %rbx
	push	$0x10100f00
	pop	%rsp
	push	%rbx
	mov	(%rsp), %rcx
	popq	MEM+0xf00
	mov	%rbx, %rsp
	push	%rsp
	popq	(%rsp)
	pop	%rdx
	push	%rax
	popq	-8(%rsp)
	mov	-8(%rsp), %rsi
END

CASE enter_leave
	mov	%rsp, %r8
	enter	$16, $0
	mov	%rbp, %rax
	movq	$0x1234, -8(%rbp)
	leave
	mov	$MEM+0x800, %ebp
	enter	$8, $1
	mov	%rbp, %rbx
	leave
	mov	$MEM+0x800, %ebp
	enter	$0x20, $3
	mov	%rbp, %rcx
	mov	%rsp, %rdx
	leave
	mov	$MEM+0x800, %ebp
	enter	$0, $31
	mov	%rsp, %rsi
	leave
	mov	%r8, %rdi
	sub	%rsp, %rdi
END

CASE enter_leave_16bit
	mov	$MEM+0x800, %ebp
	.byte	0x66
	enter	$8, $0
	mov	%rbp, %rax
	mov	%rsp, %rbx
	.byte	0x66
	leave
	mov	%rbp, %rcx
	mov	%rsp, %rdx
END

CASE pushf_popf
	push	$DIFF_ARITH|DIFF_DF|2
	popfq
	pushfq
	push	$2
	popfq
	pushfq
	pushq	$0x200000|2
	popfq
	pushfq
	push	$2
	popfq
	pushfq
	push	$DIFF_CF|DIFF_ZF|0x2
	popfq
	pushfw
	popw	%ax
	pushw	$DIFF_SF|2
	popfw
	FLAGS
	cld
END

CASE lahf_sahf
	lahf
	mov	%ah, %bl
	mov	$0xff, %ah
	sahf
	FLAGS
	lahf
	mov	%ah, %bh
	mov	$0x00, %ah
	sahf
	FLAGS
	lahf
	mov	%ah, %cl
	mov	$0x95, %ah
	sahf
	FLAGS
	lahf
	mov	%ah, %ch
END

CASE flag_ops
	clc
	FLAGS
	stc
	FLAGS
	cmc
	FLAGS
	cmc
	FLAGS
	std
	FLAGS
	cld
	FLAGS
	std
END

	CORPUS_END
