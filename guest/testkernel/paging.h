/* paging.h - shared by the parts of the `paging` test (test-paging.c,
 * test-user.c, test-smc.c): expected faults, and the parts themselves.
 *
 * A part arms the faults it provokes; the #GP and #PF handlers of the test
 * accept only an armed fault (any other panics, as outside the test),
 * record what the CPU reported, repair the mapping or move RIP on, and
 * return to the faulting context. */
#ifndef VS_TK_PAGING_H
#define VS_TK_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "lib.h"

struct isr_frame;

struct tk_fault {
	unsigned int vector;
	uint64_t rip; /* the faulting instruction, or 0 for any */
	uint64_t resume; /* RIP to continue at, or 0: retry the instruction */
	uint64_t map_pa; /* if map_flags: map CR2's page to map_pa first */
	uint64_t map_flags;
	void (*hook)(struct isr_frame *f); /* if set: called last, may rewrite the frame */
	/* Filled by the handler. */
	unsigned int hits;
	uint64_t error, cr2, at, cs;
};

/* Arms @t (hits cleared) until fault_disarm_all(); at most FAULT_MAX at once. */
#define FAULT_MAX 8
void fault_arm(struct tk_fault *t);
void fault_disarm_all(void);

/* `paging:kvm-pvm`: tolerate what KVM-PVM cannot do for a non-PVM guest
 * (test-user.c), and say so. Without it every part is strict. */
extern bool paging_kvm_pvm;

/* The handler for vectors 6, 13 and 14 while the test runs. */
void fault_handler(struct isr_frame *f);

/* Each part returns 0 or part_fail(...), which keeps a one-line reason. */
int part_fail(const char *fmt, ...) TK_PRINTF(1, 2);

int part_user(void);
int part_smc(void);

/* Window pages (pgtable.h) that user_call() leaves to its caller. */
#define UPG_CALLER_FIRST 96
#define UPG_CALLER_LAST 127

/* Runs @fn, a function in .text.user (user.S, or C code placed there:
 * position-independent, touching only its stack and what it is given), at
 * CPL3 with %rdi/%rsi/%rdx = @a0..@a2, on the user GDT, TSS, SYSCALL MSRs,
 * code and stack mappings of the `user` part, until it makes SYS_EXIT; then
 * restores everything. Needs pg_window_init() and fault_handler() on #PF
 * (KVM-PVM delivers SYSCALL from CPL3 as a #PF at LSTAR, handled the same).
 * The caller maps whatever else @fn touches into window pages
 * UPG_CALLER_FIRST..UPG_CALLER_LAST with PTE_US. Returns 0 with SYS_EXIT's
 * %rdi/%rsi/%rdx in @ret, or -1 (@fn not in .text.user, or it left by
 * another system call). Any unexpected fault at CPL3 panics. */
int user_call(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t ret[3]);

#endif
