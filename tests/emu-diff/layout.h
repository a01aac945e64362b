/* Where a differential test case lives, natively and in emu: the same
 * virtual addresses in both, so RIP-relative and absolute addressing give
 * the same results. Included by the C runners and by the corpus (.S), so
 * only #defines (no casts, no spaces inside values: GNU as macro arguments
 * are separated by spaces). */
#ifndef VS_EMU_DIFF_LAYOUT_H
#define VS_EMU_DIFF_LAYOUT_H

/* One page of code, read+exec (user), the end marker (UD2) right after the
 * case. Below and above it: unmapped. */
#define DIFF_CODE_VA 0x10000000
#define DIFF_CODE_SIZE 0x1000
/* The rest of the code page: INT3, in case a case jumps astray. */
#define DIFF_CODE_FILL 0xcc
/* Two pages of data, read+write (user), no exec; the stack is inside. */
#define DIFF_DATA_VA 0x10100000
#define DIFF_DATA_SIZE 0x2000
#define DIFF_STACK_TOP 0x10101000
/* Unmapped in both worlds: the page after the data area. */
#define DIFF_HOLE_VA 0x10102000

/* Linux's user selectors; emu's GDT uses the same. */
#define DIFF_USER_CS 0x33
#define DIFF_USER_SS 0x2b

/* RFLAGS bits a case may declare undefined (the "undef" mask). */
#define DIFF_CF 0x1
#define DIFF_PF 0x4
#define DIFF_AF 0x10
#define DIFF_ZF 0x40
#define DIFF_SF 0x80
#define DIFF_DF 0x400
#define DIFF_OF 0x800
#define DIFF_ARITH 0x8d5

/* CPU features a case needs ("req"): the host and emu's CPUID must both
 * have them, else the case is skipped. */
#define DIFF_REQ_POPCNT 0x1
#define DIFF_REQ_LZCNT 0x2
#define DIFF_REQ_BMI1 0x4
#define DIFF_REQ_MOVBE 0x8
#define DIFF_REQ_CX16 0x10
#define DIFF_REQ_SSE3 0x20
#define DIFF_REQ_SSSE3 0x40
#define DIFF_REQ_SSE41 0x80
#define DIFF_REQ_SSE42 0x100
#define DIFF_REQ_MMX 0x200

/* Offsets in struct diff_state (diff.h; native.c checks them). */
#define DIFF_ST_RFLAGS 136
#define DIFF_ST_XMM 8336
#define DIFF_ST_MXCSR 8592

#endif
