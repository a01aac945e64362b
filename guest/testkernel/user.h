/* user.h - constants shared by user.S and test-user.c: the GDT the user-mode
 * part of the paging test loads, the system call numbers of its CPL3 code,
 * and the failure codes that code reports. */
#ifndef VS_TK_USER_H
#define VS_TK_USER_H

/* Selectors of the test GDT. SYSCALL takes CS from STAR[47:32] and SS = CS + 8;
 * 64-bit SYSRET takes CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8 (SDM
 * vol. 2 SYSCALL/SYSRET), which fixes this order. The first four entries are
 * head.S's, so the selectors in use stay valid across the switch. */
#define USER_KSS 0x20 /* kernel SS after SYSCALL: a copy of TK_DS */
#define USER_STAR_BASE 0x28 /* 32-bit user code (unused; STAR[63:48] base) */
#define USER_DS 0x30
#define USER_CS 0x38
#define USER_TSS 0x40 /* 16-byte descriptor */
#define USER_GDT_ENTRIES 10
#define USER_RPL 3

/* Vectors: INT from CPL3 through a DPL 3 gate, and one whose gate stays DPL 0. */
#define USER_INT_VEC 0x80
#define USER_INT_DPL0_VEC 0x81
#define USER_INT_ADD 0x1001 /* the INT handler returns %rdi + this in %rax */

/* System calls of the user code (number in %rax). */
#define SYS_MIX 1 /* %rax = %rdi * SYS_MIX_MUL + %rsi */
#define SYS_FAIL 2 /* %rdi = USER_FAIL_*, %rsi = iteration; back to CPL0 */
#define SYS_EXIT 3 /* %rdi = iterations done; back to CPL0 */
#define SYS_MIX_MUL 0x9E3779B97F4A7C15

/* What the user code found wrong (SYS_FAIL %rdi). */
#define USER_FAIL_RCX 1 /* %rcx after SYSRET is not the return address */
#define USER_FAIL_FLAGS 2 /* CF/DF not restored from %r11 by SYSRET */
#define USER_FAIL_R11 3 /* RFLAGS after SYSRET differ from %r11 */
#define USER_FAIL_VALUE 4 /* wrong result */
#define USER_FAIL_CLOBBER 5 /* an argument register changed */
#define USER_FAIL_INT 6 /* INT 0x80 returned a wrong %rax */

/* Flags the user code sets before SYSCALL; SFMASK must clear them. */
#define USER_FLAGS_CF 0x001
#define USER_FLAGS_DF 0x400

#endif
