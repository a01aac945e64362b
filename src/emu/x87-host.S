/* The x87 arithmetic of the software CPU, done by the host's own x87 unit
 * (x86-64 hosts only). Each function loads its operands from memory (80-bit
 * extended values, or the memory operand's format), runs one x87
 * instruction with the guest's precision and rounding control and every
 * exception masked, and returns the host FSW (exception flags, C0-C3) so
 * the caller applies the guest's masks. The host x87 stack is empty on
 * entry and on return (SysV ABI) and the host control word is restored.
 *
 * C prototypes (x87.h):
 *   uint16_t emu_x87h_<op>(const void *a, const void *b, void *out, uint32_t cw,
 *                          void *out2);
 *   a = ST(0)-like operand (or memory source), b = second operand,
 *   out = result (80-bit, or the memory destination's format), out2 = the
 *   second result of FXTRACT/FPTAN/FSINCOS; cw = host CW | guest C0-C3 << 16. */

	.text

/* prologue: save the host CW in the red zone, then load an environment with
 * the guest's (masked) CW from cw[15:0], the guest's C0-C3 from cw[31:16]
 * (what an instruction leaves "unchanged" or "undefined" stays the
 * guest's), no exception flags, TOP 0 and every register empty */
.macro ENTRY name
	.globl	emu_x87h_\name
	.type	emu_x87h_\name, @function
emu_x87h_\name:
	fnstcw	-2(%rsp)
	mov	%ecx, %eax
	shr	$16, %eax
	movl	%ecx, -40(%rsp)
	movw	$0xffff, -38(%rsp)
	movl	%eax, -36(%rsp)
	movw	$0xffff, -34(%rsp)
	movl	$0xffffffff, -32(%rsp)
	movq	$0, -28(%rsp)
	movq	$0, -20(%rsp)
	movl	$0, -12(%rsp)
	fldenv	-40(%rsp)
.endm

.macro EXIT name
	fninit
	fldcw	-2(%rsp)
	ret
	.size	emu_x87h_\name, . - emu_x87h_\name
.endm

/* out = ST0 op ST1 with ST0 = *a, ST1 = *b; both popped */
.macro BIN name, insn
	ENTRY \name
	fldt	(%rsi)
	fldt	(%rdi)
	\insn
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	fstp	%st(0)
	EXIT \name
.endm

/* ST1 op ST0 with pop (FPATAN, FYL2X, FYL2XP1): ST0 = *a, ST1 = *b */
.macro BINPOP name, insn
	ENTRY \name
	fldt	(%rsi)
	fldt	(%rdi)
	\insn
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	EXIT \name
.endm

/* out = op(*a) */
.macro UN name, insn
	ENTRY \name
	fldt	(%rdi)
	\insn
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	EXIT \name
.endm

/* out = ST0, out2 = ST1 after op(*a) pushed a second value */
.macro UN2 name, insn
	ENTRY \name
	fldt	(%rdi)
	\insn
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	fstpt	(%r8)
	EXIT \name
.endm

/* flags only: compare ST0 = *a with ST1 = *b */
.macro CMP name, insn
	ENTRY \name
	fldt	(%rsi)
	fldt	(%rdi)
	\insn
	fnstsw	%ax
	fnclex
	fstp	%st(0)
	fstp	%st(0)
	EXIT \name
.endm

/* out = *a op *b with *b in a memory format (m32fp/m64fp: the host sees the
 * operand as the guest's instruction does: SNaN, denormal, precedence) */
.macro MEMOP name, insn
	ENTRY \name
	fldt	(%rdi)
	\insn	(%rsi)
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	EXIT \name
.endm

/* out(80-bit) = load of *a in the memory format */
.macro LOAD name, insn
	ENTRY \name
	\insn	(%rdi)
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	EXIT \name
.endm

/* *out = store of the 80-bit *a in the memory format (a popping insn) */
.macro STORE name, insn
	ENTRY \name
	fldt	(%rdi)
	\insn	(%rdx)
	fnstsw	%ax
	fnclex
	EXIT \name
.endm

/* out = a constant, rounded as the control word says */
.macro CONST name, insn
	ENTRY \name
	\insn
	fnstsw	%ax
	fnclex
	fstpt	(%rdx)
	EXIT \name
.endm

	BIN add, "fadd %st(1), %st"
	BIN sub, "fsub %st(1), %st"
	BIN mul, "fmul %st(1), %st"
	BIN div, "fdiv %st(1), %st"
	BIN prem, "fprem"
	BIN prem1, "fprem1"
	BIN scale, "fscale"
	BINPOP patan, "fpatan"
	BINPOP yl2x, "fyl2x"
	BINPOP yl2xp1, "fyl2xp1"
	UN sqrt, "fsqrt"
	UN rndint, "frndint"
	UN f2xm1, "f2xm1"
	UN sin, "fsin"
	UN cos, "fcos"
	UN tst, "ftst"
	UN xam, "fxam"
	UN2 xtract, "fxtract"
	UN2 ptan, "fptan"
	UN2 sincos, "fsincos"
	MEMOP adds, "fadds"
	MEMOP muls, "fmuls"
	MEMOP coms, "fcoms"
	MEMOP subs, "fsubs"
	MEMOP subrs, "fsubrs"
	MEMOP divs, "fdivs"
	MEMOP divrs, "fdivrs"
	MEMOP addl, "faddl"
	MEMOP mull, "fmull"
	MEMOP coml, "fcoml"
	MEMOP subl, "fsubl"
	MEMOP subrl, "fsubrl"
	MEMOP divl, "fdivl"
	MEMOP divrl, "fdivrl"
	CMP com, "fcom %st(1)"
	CMP ucom, "fucom %st(1)"
	LOAD ld32, "flds"
	LOAD ld64, "fldl"
	LOAD bld, "fbld"
	STORE st32, "fstps"
	STORE st64, "fstpl"
	STORE ist16, "fistps"
	STORE ist32, "fistpl"
	STORE ist64, "fistpll"
	STORE istt16, "fisttps"
	STORE istt32, "fisttpl"
	STORE istt64, "fisttpll"
	STORE bstp, "fbstp"
	CONST ld1, "fld1"
	CONST ldl2t, "fldl2t"
	CONST ldl2e, "fldl2e"
	CONST ldpi, "fldpi"
	CONST ldlg2, "fldlg2"
	CONST ldln2, "fldln2"
	CONST ldz, "fldz"

	.section .note.GNU-stack, "", @progbits
