/* bench.S - the work loops of the `bench` test (test-bench.c), in assembly
 * so that the instructions per iteration are known exactly.
 *
 * Every instruction a loop executes per iteration is written through the
 * macro I (inner loop) or O (outer loop, per outer iteration), which count
 * it; after each loop the counts are stored in .rodata as
 * bench_<loop>_insns and bench_<loop>_outer_insns. Set-up before a loop
 * runs once per call and is not counted. A REP-prefixed string instruction
 * counts as one instruction, as the CPU's retired-instruction counter
 * counts it; test-bench.c also reports bytes for those loops. All loops
 * take SysV arguments and return a checksum in %rax. */

#include "bench.h"

.macro I insn:vararg
	\insn
	.set bench_inner, bench_inner + 1
.endm

.macro O insn:vararg
	\insn
	.set bench_outer, bench_outer + 1
.endm

.macro BENCH_START
	.set bench_inner, 0
	.set bench_outer, 0
.endm

/* Stores the counts as the .quads \name\()_insns and \name\()_outer_insns,
 * after checking them against the counts the loop's comment documents. */
.macro BENCH_END name, inner, outer
	.if bench_inner != \inner || bench_outer != \outer
	.error "\name: the instruction count differs from the documented one"
	.endif
	.pushsection .rodata
	.balign 8
	.globl \name\()_insns, \name\()_outer_insns
\name\()_insns:
	.quad bench_inner
\name\()_outer_insns:
	.quad bench_outer
	.popsection
.endm

	.text
	.code64

/* uint64_t bench_alu_loop(uint64_t n, const uint64_t seed[5]): n rounds of
 * a mix of add/xor/rol/sub/imul/mov/shr/lea/cmp/adc on registers; returns
 * their xor. test-bench.c alu_ref() is the same in C. 15 instructions per round. */
	.globl bench_alu_loop
bench_alu_loop:
	movq 0(%rsi), %rax
	movq 8(%rsi), %rdx
	movq 16(%rsi), %rcx
	movq 24(%rsi), %r8
	movq 32(%rsi), %r9
	BENCH_START
1:	I addq %rdx, %rax
	I xorq %rax, %rcx
	I rolq $13, %rcx
	I subq %rcx, %r8
	I imulq $0x2545F491, %r8, %r9
	I movq %r9, %r10
	I shrq $17, %r10
	I xorq %r10, %r9
	I addq %r9, %rdx
	I leaq 3(%rax,%rdx,4), %r11
	I xorq %r11, %r8
	I cmpq %rdx, %rax
	I adcq $0, %rcx
	I decq %rdi
	I jnz 1b
	BENCH_END bench_alu, 15, 0
	xorq %rdx, %rax
	xorq %rcx, %rax
	xorq %r8, %rax
	xorq %r9, %rax
	ret

/* uint64_t bench_mem_loop(uint64_t passes, uint64_t *buf, uint64_t words):
 * each pass loads every word, adds it to the sum and stores it back plus
 * one. Returns the sum. 7 instructions per word, 3 more per pass. */
	.globl bench_mem_loop
bench_mem_loop:
	xorl %eax, %eax
	BENCH_START
1:	O xorl %ecx, %ecx
2:	I movq (%rsi,%rcx,8), %r8
	I addq %r8, %rax
	I incq %r8
	I movq %r8, (%rsi,%rcx,8)
	I incq %rcx
	I cmpq %rdx, %rcx
	I jb 2b
	O decq %rdi
	O jnz 1b
	BENCH_END bench_mem, 7, 3
	ret

/* uint64_t bench_call_loop(uint64_t n, uint64_t seed): n calls two deep;
 * returns the value threaded through them (bench_call() in test-bench.c
 * recomputes it). 9 instructions per round (3 here, 3 in each callee). */
	.globl bench_call_loop
bench_call_loop:
	movq %rsi, %rax
	BENCH_START
1:	I call bench_call_f1
	I decq %rdi
	I jnz 1b
	ret
bench_call_f1:
	I addq %rdi, %rax
	I call bench_call_f2
	I ret
bench_call_f2:
	I rolq $5, %rax
	I xorq %rdi, %rax
	I ret
	BENCH_END bench_call, 9, 0

/* uint64_t bench_movsb_loop(uint64_t n, void *dst, const void *src, uint64_t
 * len): n copies of len bytes with REP MOVSB. Returns 0; test-bench.c
 * compares. 6 instructions per copy, the REP MOVSB one of them. */
	.globl bench_movsb_loop
bench_movsb_loop:
	movq %rdi, %r8
	movq %rsi, %r9
	movq %rcx, %r10
	BENCH_START
1:	I movq %r9, %rdi
	I movq %rdx, %rsi
	I movq %r10, %rcx
	I rep movsb
	I decq %r8
	I jnz 1b
	BENCH_END bench_movsb, 6, 0
	xorl %eax, %eax
	ret

/* uint64_t bench_stosq_loop(uint64_t n, uint64_t *dst, uint64_t words):
 * n fills of @words words with REP STOSQ, pass k (n down to 1) storing k:
 * the last leaves every word 1. Returns 0. 6 instructions per fill, the REP STOSQ one of them. */
	.globl bench_stosq_loop
bench_stosq_loop:
	movq %rdi, %r8
	movq %rsi, %r9
	movq %rdx, %r10
	BENCH_START
1:	I movq %r9, %rdi
	I movq %r10, %rcx
	I movq %r8, %rax
	I rep stosq
	I decq %r8
	I jnz 1b
	BENCH_END bench_stosq, 6, 0
	xorl %eax, %eax
	ret

/* uint64_t bench_bytecopy_loop(uint64_t n, void *dst, const void *src,
 * uint64_t len): n copies of len bytes, one byte load and store at a time.
 * Returns 0. 5 instructions per byte, 3 more per copy. */
	.globl bench_bytecopy_loop
bench_bytecopy_loop:
	movq %rdi, %r8
	BENCH_START
1:	O xorl %eax, %eax
2:	I movb (%rdx,%rax), %r9b
	I movb %r9b, (%rsi,%rax)
	I incq %rax
	I cmpq %rcx, %rax
	I jb 2b
	O decq %r8
	O jnz 1b
	BENCH_END bench_bytecopy, 5, 3
	xorl %eax, %eax
	ret

/* The loops' memory, not zeroed at boot (test-bench.c fills what it reads). */
	.section .noinit, "aw", @nobits
	.balign 4096
	.globl bench_buf
bench_buf:
	.skip BENCH_BUF_SIZE
