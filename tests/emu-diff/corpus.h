/* GNU as macros for the corpus (corpus-*.S): each case is readable asm
 * between CASE and END; the macros lay out a struct diff_case table.
 *
 *	CORPUS_BEGIN alu
 *	CASE add_carry, undef=DIFF_AF, req=0, seed=7
 *		mov	$-1, %rax
 *		add	$1, %rax
 *	END
 *	CORPUS_END
 *
 * name:  a symbol-like name, also the TAP test name.
 * undef: RFLAGS bits left undefined by the case (not compared).
 * req:   DIFF_REQ_* features the case needs (else skipped).
 * seed:  start state (state.c diff_state_random); 0: the case's index + 1.
 *
 * FLAGS [undef] pushes RFLAGS with the undefined bits cleared.
 *
 * The case's bytes are copied to DIFF_CODE_VA, so a case may use relative
 * jumps and RIP-relative operands inside itself and absolute addresses
 * from layout.h, nothing else of this file. C comments only: the
 * file goes through cpp. */
#ifndef VS_EMU_DIFF_CORPUS_H
#define VS_EMU_DIFF_CORPUS_H

#include "layout.h"

	.set	diff_n, 0

	.macro	diff_label_def kind, n
.Ldiff_\kind\()_\n:
	.endm

	.macro	diff_label_ref kind, n
	.quad	.Ldiff_\kind\()_\n
	.endm

	.macro	CORPUS_BEGIN family
	.section .data.rel.ro.emu_diff, "aw"
	.balign	8
	.globl	diff_corpus_\family
diff_corpus_\family:
	.endm

	/* The entry that ends the table (name NULL), after every case. */
	.macro	CORPUS_END
	.section .data.rel.ro.emu_diff, "aw"
	.subsection 2
	.quad	0, 0, 0, 0, 0, 0
	.section .note.GNU-stack, "", @progbits
	.endm

	.macro	CASE name, undef=0, req=0, seed=0
	.section .rodata.emu_diff_names, "a"
	.altmacro
	diff_label_def n, %diff_n
	.noaltmacro
	.asciz	"\name"
	.section .data.rel.ro.emu_diff, "aw"
	.subsection 1
	.altmacro
	diff_label_ref n, %diff_n
	diff_label_ref s, %diff_n
	diff_label_ref e, %diff_n
	.noaltmacro
	.quad	\undef, \req, \seed
	.section .text.emu_diff_corpus, "ax"
	.altmacro
	diff_label_def s, %diff_n
	.noaltmacro
	.endm

	/* Pushes RFLAGS into the data area (compared) with the undef bits
	 * cleared in the pushed copy; the live flags stay as they were. */
	.macro	FLAGS undef=0
	pushfq
	.if	\undef
	pushfq
	andq	$~(\undef), 8(%rsp)
	popfq
	movq	$0, -8(%rsp)	/* the unmasked copy POPFQ left below RSP */
	.endif
	.endm

	/* An FXSAVE image at img (16-byte aligned, in the data area) with
	 * what the host may leave stale cleared: FOP/FIP/FDP (Intel updates
	 * them only on unmasked exceptions on newer parts), MXCSR and the XMM
	 * registers. Clobbers RAX, RCX, RDI and DF. */
	.macro	X87_DUMP img
	cld
	fxsave	\img
	movw	$0, \img+6
	movq	$0, \img+8
	movq	$0, \img+16
	movq	$0, \img+24
	lea	\img+160, %rdi
	mov	$44, %ecx
	xor	%eax, %eax
	rep stosq
	.endm

	.macro	END
	.altmacro
	diff_label_def e, %diff_n
	.noaltmacro
	.set	diff_n, diff_n + 1
	.endm

#endif
