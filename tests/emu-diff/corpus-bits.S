/* Corpus: bit instructions (BT/BTS/BTR/BTC with register and immediate
 * offsets, on registers and memory, where a register offset reaches
 * outside the addressed operand), BSF/BSR, POPCNT/LZCNT/TZCNT (when both
 * the host and emu have them), BSWAP and MOVBE. SDM: BT* define CF only;
 * BSF/BSR define ZF only, and leave the destination undefined for a zero
 * source (not compared here); LZCNT/TZCNT define CF and ZF. */
#include "corpus.h"

#define MEM DIFF_DATA_VA
#define OSAP DIFF_OF|DIFF_SF|DIFF_AF|DIFF_PF
#define NOTZ DIFF_CF|DIFF_OF|DIFF_SF|DIFF_AF|DIFF_PF
#define OSPA DIFF_OF|DIFF_SF|DIFF_PF|DIFF_AF

	CORPUS_BEGIN bits

CASE bt_register, undef=OSAP
	mov	$0x8000000000000001, %rax
	bt	$0, %rax
	FLAGS	OSAP
	bt	$63, %rax
	FLAGS	OSAP
	bt	$64, %rax
	FLAGS	OSAP
	mov	$33, %ecx
	bt	%rcx, %rax
	FLAGS	OSAP
	bts	$5, %ebx
	FLAGS	OSAP
	btr	$31, %edx
	FLAGS	OSAP
	btc	$15, %si
	FLAGS	OSAP
	mov	$70, %ecx
	bts	%rcx, %rdi
	FLAGS	OSAP
	btr	%ecx, %r8d
	FLAGS	OSAP
	btc	%cx, %r9w
	FLAGS	OSAP
END

CASE bt_memory, undef=OSAP
	btl	$3, MEM+0x10
	FLAGS	OSAP
	btsq	$63, MEM+0x18
	FLAGS	OSAP
	btrw	$17, MEM+0x20
	FLAGS	OSAP
	lock btcl $30, MEM+0x28
	FLAGS	OSAP
	mov	$100, %ecx
	bts	%rcx, MEM+0x30
	FLAGS	OSAP
	mov	$-9, %rdx
	btr	%rdx, MEM+0x40
	FLAGS	OSAP
	mov	$-100, %esi
	lock btc %esi, MEM+0x100
	FLAGS	OSAP
	mov	$1000, %di
	bt	%di, MEM+0x200
	FLAGS	OSAP
	mov	$-17, %di
	bts	%di, MEM+0x200
	FLAGS	OSAP
END

CASE bsf_bsr, undef=NOTZ
	mov	$0x0000100000000100, %rax
	bsf	%rax, %rbx
	FLAGS	NOTZ
	bsr	%rax, %rcx
	FLAGS	NOTZ
	mov	$0x80000000, %edx
	bsf	%edx, %esi
	bsr	%edx, %edi
	mov	$0x0100, %r8w
	bsf	%r8w, %r9w
	bsr	%r8w, %r10w
	movq	$0x40, MEM+8
	bsfq	MEM+8, %r11
	bsrl	MEM+8, %r12d
	FLAGS	NOTZ
END

CASE bsf_bsr_zero_sets_zf, undef=NOTZ
	xor	%eax, %eax
	bsf	%rax, %rbx
	setz	%cl
	bsr	%eax, %edx
	setz	%ch
	mov	$0, %rbx
	mov	$0, %rdx
	FLAGS	NOTZ
END

CASE popcnt_forms, req=DIFF_REQ_POPCNT
	mov	$-1, %rax
	popcnt	%rax, %rbx
	FLAGS
	xor	%ecx, %ecx
	popcnt	%ecx, %edx
	FLAGS
	mov	$0xf0f0, %si
	popcnt	%si, %di
	FLAGS
	popcntq	MEM+0x10, %r8
	FLAGS
	popcnt	%r9d, %r9d
	FLAGS
END

CASE lzcnt_forms, undef=OSPA, req=DIFF_REQ_LZCNT
	xor	%eax, %eax
	lzcnt	%rax, %rbx
	FLAGS	OSPA
	mov	$1, %ecx
	lzcnt	%ecx, %edx
	FLAGS	OSPA
	mov	$0x8000, %si
	lzcnt	%si, %di
	FLAGS	OSAP
	lzcnt	%r8, %r9
	FLAGS	OSPA
	lzcntl	MEM+0x18, %r10d
	FLAGS	OSPA
	xor	%r11d, %r11d
	lzcnt	%r11w, %r12w
	FLAGS	OSPA
END

CASE tzcnt_forms, undef=OSPA, req=DIFF_REQ_BMI1
	xor	%eax, %eax
	tzcnt	%rax, %rbx
	FLAGS	OSPA
	mov	$0x100, %ecx
	tzcnt	%ecx, %edx
	FLAGS	OSPA
	mov	$1, %si
	tzcnt	%si, %di
	FLAGS	OSPA
	tzcnt	%r8, %r9
	FLAGS	OSPA
	tzcntq	MEM+0x20, %r10
	FLAGS	OSPA
	xor	%r11d, %r11d
	tzcnt	%r11w, %r12w
	FLAGS	OSPA
END

CASE bswap_forms
	mov	$0x0102030405060708, %rax
	bswap	%rax
	mov	$0x11223344, %ebx
	bswap	%ebx
	bswap	%rcx
	bswap	%r8
	bswap	%r15d
	bswap	%edx
	FLAGS
END

CASE movbe_forms, req=DIFF_REQ_MOVBE
	movbe	MEM+0x10, %rax
	movbe	MEM+0x18, %ebx
	movbe	MEM+0x20, %cx
	movbe	%rdx, MEM+0x28
	movbe	%esi, MEM+0x30
	movbe	%di, MEM+0x34
	movbe	MEM+0x40, %r9
	movbe	%r10d, MEM+0x48
	FLAGS
END

	CORPUS_END
