/* smc.S - code templates for the self-modifying code part of the paging test
 * (test-smc.c copies them into a writable buffer and patches them). Each is
 * position-independent; the rip-relative stores below address the template's
 * own bytes, wherever it was copied. */

	.section .rodata
	.code64

/* uint32_t f(void): mov $imm32, %eax; ret. test-smc.c rewrites the immediate
 * (bytes 1-4) between calls. */
	.globl smc_imm, smc_imm_end
smc_imm:
	movl $0, %eax
	ret
smc_imm_end:

/* uint32_t f(uint32_t x): stores x over the immediate of the instruction
 * right after the store, which must then execute with it: returns x. */
	.globl smc_next, smc_next_end
smc_next:
	movl %edi, 1f+1(%rip)
1:	movl $0, %eax
	ret
smc_next_end:

/* uint32_t f(uint8_t opcode, uint32_t a, uint32_t b): stores @opcode over
 * the opcode of the "op %edx, %eax" two instructions on (01 add, 29 sub,
 * 31 xor, 21 and, 09 or: all "op r32, r/m32" with ModRM 0xd0), returns
 * a op b. */
	.globl smc_op, smc_op_end
smc_op:
	movb %dil, 1f(%rip)
	movl %esi, %eax
1:	addl %edx, %eax
	ret
smc_op_end:
