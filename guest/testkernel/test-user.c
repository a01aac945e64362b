/* test-user.c - the `user` part of the paging test: CPL3 and back.
 *
 * Sets up what a kernel needs for user mode (a GDT with user segments and a
 * TSS whose RSP0 takes interrupts from CPL3; STAR/LSTAR/SFMASK for SYSCALL;
 * user pages in the window of pgtable.h), enters user.S's user_main at CPL3
 * with IRETQ, and checks what it reports: USER_SYSCALLS SYSCALL/SYSRET round
 * trips (results computed here, RCX/R11 semantics, RFLAGS masked by
 * SFMASK), INT 0x80 through a DPL 3 gate, #GP for HLT and for INT through a
 * DPL 0 gate, #PF with the U bit. The user code leaves with a last SYSCALL
 * that returns to CPL0. Everything is restored after.
 *
 * user_call() (paging.h) runs other .text.user code the same way, for tests
 * whose loop must run at CPL3 (virtio-net-bench-user), and hands back what
 * its SYS_EXIT passed. */
#include "arch.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "paging.h"
#include "pgtable.h"
#include "user.h"

#define USER_SYSCALLS 1000

#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_SFMASK 0xC0000084
#define EFER_SCE (1ul << 0)

#define FL_CF 0x00001
#define FL_TF 0x00100
#define FL_IF 0x00200
#define FL_DF 0x00400
#define FL_NT 0x04000
#define FL_AC 0x40000
#define USER_SFMASK (FL_CF | FL_TF | FL_IF | FL_DF | FL_NT | FL_AC)

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

/* Window pages (pgtable.h) of the user address space. */
#define UPG_CODE 64 /* .text.user, read-only, user */
#define UPG_STACK 80 /* user stack */
#define UPG_KONLY 81 /* present, supervisor only */
#define UPG_ABSENT 82 /* not present */
#define POOL_STACK 5
#define POOL_KONLY 6

/* What syscall_entry (user.S) pushed, lowest address first. */
struct user_syscall_frame {
	uint64_t rax, rdi, rsi, rdx, r8, r9, r10, rcx, r11, entry_rflags;
};

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iopb;
} __attribute__((packed));

_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

struct gdt_desc {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

uint64_t syscall_dispatch(struct user_syscall_frame *f);
uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t a0, uint64_t a1, uint64_t a2);
extern void syscall_entry(void);
extern char user_text_start[], user_text_end[], user_main[], user_sys_ret[];
extern char user_hlt[], user_hlt_resume[], user_int_dpl0[], user_int_dpl0_resume[];
extern char user_pf_read[], user_pf_read_resume[], user_pf_write[], user_pf_write_resume[];
extern char user_int[], user_int_done[], user_intr_stack_top[];
extern void user_exit(void);
extern struct gdt_desc gdt_desc; /* head.S */

static uint64_t user_gdt[USER_GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 user_tss __attribute__((aligned(16)));

/* What the kernel side saw. */
static struct {
	unsigned int calls, int_hits;
	uint64_t fail_code, fail_iter, done;
	const char *bad; /* first problem seen by syscall_dispatch */
	uint64_t bad_value;
	bool exited; /* SYS_EXIT arrived (SYSCALL, or KVM-PVM's #PF at LSTAR) */
	uint64_t ret[3]; /* its %rdi, %rsi, %rdx */
} seen;

/* The user address of a label in .text.user. */
static uint64_t uva(const char *label)
{
	return pg_va(UPG_CODE) + (uint64_t)(label - user_text_start);
}

static void note_bad(const char *what, uint64_t value)
{
	if (!seen.bad) {
		seen.bad = what;
		seen.bad_value = value;
	}
}

/* Called by syscall_entry on its own stack: 0 to SYSRET, else leave user mode. */
uint64_t syscall_dispatch(struct user_syscall_frame *f)
{
	uint16_t cs, ss;

	__asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	if (cs != TK_CS64 || ss != USER_KSS)
		note_bad("CS:SS after SYSCALL are not STAR's", (uint64_t)cs << 16 | ss);
	switch (f->rax) {
	case SYS_MIX:
		seen.calls++;
		if (f->rcx != uva(user_sys_ret))
			note_bad("RCX at entry is not the return address", f->rcx);
		if ((f->r11 & (FL_CF | FL_DF)) != (FL_CF | FL_DF))
			note_bad("R11 at entry lacks the user's CF|DF", f->r11);
		if (f->entry_rflags & USER_SFMASK)
			note_bad("RFLAGS at entry not masked by SFMASK", f->entry_rflags);
		f->rax = f->rdi * SYS_MIX_MUL + f->rsi;
		return 0;
	case SYS_FAIL:
		seen.fail_code = f->rdi;
		seen.fail_iter = f->rsi;
		return 1;
	case SYS_EXIT:
		seen.done = f->rdi;
		seen.exited = true;
		seen.ret[0] = f->rdi;
		seen.ret[1] = f->rsi;
		seen.ret[2] = f->rdx;
		return 1;
	default:
		note_bad("unknown system call", f->rax);
		return 1;
	}
}

static void user_int_handler(struct isr_frame *f)
{
	if ((f->cs & 3) != USER_RPL || f->ss != (USER_DS | USER_RPL))
		note_bad("INT 0x80 frame CS/SS", f->cs << 16 | f->ss);
	seen.int_hits++;
	f->rax = f->rdi + USER_INT_ADD;
}

static uint64_t tss_desc_low(uint64_t base, uint32_t limit)
{
	return (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ul << 40 /* P, 64-bit TSS */ |
	       (uint64_t)(limit >> 16 & 0xF) << 48 | (base >> 24 & 0xFF) << 56;
}

/* Loads the user GDT (head.S's four entries first) and the TSS. Rebuilt each
 * time: LTR marks the descriptor busy, and a busy TSS cannot be loaded again. */
static void user_gdt_load(void)
{
	uint64_t base = (uintptr_t)&user_tss;
	struct gdt_desc d = { sizeof(user_gdt) - 1, (uintptr_t)user_gdt };

	memcpy(user_gdt, (void *)gdt_desc.base, 4 * sizeof(uint64_t));
	user_gdt[USER_KSS / 8] = 0x00cf92000000ffff; /* data, DPL 0 */
	user_gdt[USER_STAR_BASE / 8] = 0x00cffa000000ffff; /* 32-bit code, DPL 3 */
	user_gdt[USER_DS / 8] = 0x00cff2000000ffff; /* data, DPL 3 */
	user_gdt[USER_CS / 8] = 0x00affa000000ffff; /* 64-bit code, DPL 3 */
	user_gdt[USER_TSS / 8] = tss_desc_low(base, sizeof(user_tss) - 1);
	user_gdt[USER_TSS / 8 + 1] = base >> 32;
	memset(&user_tss, 0, sizeof(user_tss));
	user_tss.rsp[0] = (uintptr_t)user_intr_stack_top;
	user_tss.iopb = sizeof(user_tss); /* no I/O bitmap: all ports fault at CPL3 */
	__asm__ volatile("lgdt %0; ltr %w1" : : "m"(d), "r"(USER_TSS) : "memory");
}

/* The kernel's data selector everywhere again: SYSCALL left SS = USER_KSS,
 * which head.S's GDT does not have, and IRETQ to CPL3 nulled DS-GS. */
static void user_segs_restore(void)
{
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs\n\t"
			 "mov %0, %%gs\n\tmov %0, %%ss"
			 :
			 : "r"(TK_DS)
			 : "memory");
}

static void user_map(void)
{
	uint64_t pages = (uint64_t)(user_text_end - user_text_start) / PG_SIZE;

	for (uint64_t i = 0; i < pages; i++)
		pg_map(pg_va(UPG_CODE + i), (uintptr_t)user_text_start + i * PG_SIZE,
		       PTE_P | PTE_US);
	pg_map(pg_va(UPG_STACK), pg_pool(POOL_STACK), PTE_P | PTE_RW | PTE_US);
	pg_map(pg_va(UPG_KONLY), pg_pool(POOL_KONLY), PTE_P | PTE_RW);
	pg_map(pg_va(UPG_ABSENT), 0, 0);
}

/* The faults user_main provokes, each resumed at the label after it. */
static struct tk_fault user_faults[] = {
	{ .vector = VEC_GP }, /* hlt */
	{ .vector = VEC_GP }, /* int $USER_INT_DPL0_VEC */
	{ .vector = VEC_PF }, /* read of the supervisor page */
	{ .vector = VEC_PF }, /* write to the absent page */
};

/* From the fault handler: IRETQ to user_exit at CPL0 instead of back to
 * CPL3, which leaves user mode without SYSCALL. user_exit loads its own
 * stack at once, so the frame's RSP only has to be a kernel address. */
static void user_escape(struct isr_frame *f)
{
	if (f->rax == SYS_EXIT) {
		seen.exited = true;
		seen.ret[0] = f->rdi;
		seen.ret[1] = f->rsi;
		seen.ret[2] = f->rdx;
	}
	f->cs = TK_CS64;
	f->ss = TK_DS;
	f->rip = (uintptr_t)user_exit;
	f->rsp = (uintptr_t)f;
	f->rflags = 0x2;
}

/* What KVM-PVM does for a non-PVM guest at CPL3 (measured on our build
 * machines): SYSCALL loads RIP/RCX/R11/RFLAGS but stays at CPL3, so the
 * fetch at LSTAR faults (#PF with U set); INT n raises #UD. Always armed,
 * so that any CPU doing this gets a FAIL line rather than a panic; only
 * paging:kvm-pvm accepts it. */
static struct tk_fault pvm_syscall = { .vector = VEC_PF, .hook = user_escape };
static struct tk_fault pvm_int = { .vector = VEC_UD };
static struct tk_fault pvm_int_dpl0 = { .vector = VEC_UD };

static void user_arm(void)
{
	const char *at[][2] = { { user_hlt, user_hlt_resume },
				{ user_int_dpl0, user_int_dpl0_resume },
				{ user_pf_read, user_pf_read_resume },
				{ user_pf_write, user_pf_write_resume } };

	for (unsigned int i = 0; i < TK_ARRAY_SIZE(user_faults); i++) {
		user_faults[i].rip = uva(at[i][0]);
		user_faults[i].resume = uva(at[i][1]);
		fault_arm(&user_faults[i]);
	}
	pvm_syscall.rip = (uintptr_t)syscall_entry;
	pvm_int.rip = uva(user_int);
	pvm_int.resume = uva(user_int_done);
	pvm_int_dpl0.rip = uva(user_int_dpl0);
	pvm_int_dpl0.resume = uva(user_int_dpl0_resume);
	fault_arm(&pvm_syscall);
	fault_arm(&pvm_int);
	fault_arm(&pvm_int_dpl0);
}

/* The #GP error code of INT n through a DPL 0 gate names the gate: the SDM
 * says (n << 3) | 2 (IDT bit); QEMU 7.2's TCG reports (n << 4) | 2 in long
 * mode (its gates are 16 bytes). Both are accepted, and printed. */
static bool is_int_gp_error(uint64_t e)
{
	return e == (USER_INT_DPL0_VEC << 3 | 2) || e == (USER_INT_DPL0_VEC << 4 | 2);
}

static int user_check_fault(unsigned int i)
{
	static const char *const what[] = { "hlt at CPL3", "int through a DPL 0 gate",
					    "read of a supervisor page",
					    "write to an absent page" };
	const uint64_t error[] = { 0, 0, PF_P | PF_U, PF_W | PF_U };
	const uint64_t cr2[] = { 0, 0, pg_va(UPG_KONLY), pg_va(UPG_ABSENT) + 8 };
	const struct tk_fault *t = &user_faults[i];

	if (t->hits != 1)
		return part_fail("%s: %u faults, expected 1", what[i], t->hits);
	if ((t->cs & 3) != USER_RPL)
		return part_fail("%s: fault frame CS=0x%lx, not RPL 3", what[i], t->cs);
	if (i == 1 ? !is_int_gp_error(t->error) : t->error != error[i])
		return part_fail("%s: error code 0x%lx", what[i], t->error);
	if (t->vector == VEC_PF && t->cr2 != cr2[i])
		return part_fail("%s: cr2=0x%lx, expected 0x%lx", what[i], t->cr2, cr2[i]);
	return 0;
}

static int user_check_faults(void)
{
	int r;

	for (unsigned int i = 0; i < TK_ARRAY_SIZE(user_faults); i++) {
		if (i == 1 && pvm_int_dpl0.hits) {
			if (!paging_kvm_pvm)
				return part_fail(
					"INT through a DPL 0 gate at CPL3 raised #UD, not #GP");
			kprintf("paging: user: kvm-pvm: INT through a DPL 0 gate raised #UD, not "
				"#GP: not checked\n");
			continue;
		}
		if ((r = user_check_fault(i)))
			return r;
	}
	if (user_faults[1].hits)
		kprintf("paging: user: #GP error for INT through a DPL 0 gate: 0x%lx\n",
			user_faults[1].error);
	return 0;
}

static int user_check_calls(void)
{
	if (pvm_syscall.hits && !seen.calls) {
		if (!paging_kvm_pvm)
			return part_fail("SYSCALL from CPL3 stayed at CPL3 (fetch at LSTAR faulted "
					 "with error 0x%lx)",
					 pvm_syscall.error);
		kprintf("paging: user: kvm-pvm: SYSCALL from CPL3 stayed at CPL3: round trips "
			"not checked\n");
	} else if (seen.calls != USER_SYSCALLS || seen.done != USER_SYSCALLS)
		return part_fail("%u system calls seen, user code counted %lu, expected %u",
				 seen.calls, seen.done, USER_SYSCALLS);
	if (pvm_int.hits) {
		if (!paging_kvm_pvm)
			return part_fail("INT 0x80 at CPL3 raised #UD");
		kprintf("paging: user: kvm-pvm: INT 0x80 at CPL3 raised #UD: not checked\n");
		return 0;
	}
	if (seen.int_hits != 1)
		return part_fail("INT 0x80 handler ran %u times", seen.int_hits);
	return 0;
}

static int user_check(void)
{
	static const char *const fails[] = {
		[USER_FAIL_RCX] = "RCX after SYSRET is not the return address",
		[USER_FAIL_FLAGS] = "CF/DF not restored by SYSRET",
		[USER_FAIL_R11] = "RFLAGS after SYSRET differ from R11",
		[USER_FAIL_VALUE] = "wrong system call result",
		[USER_FAIL_CLOBBER] = "an argument register changed across SYSCALL",
		[USER_FAIL_INT] = "INT 0x80 returned a wrong RAX",
	};
	int r;

	if (seen.fail_code)
		return part_fail("user code: %s (iteration %lu)",
				 seen.fail_code < TK_ARRAY_SIZE(fails) ? fails[seen.fail_code] :
									 "?",
				 seen.fail_iter);
	if (seen.bad)
		return part_fail("kernel side: %s (0x%lx)", seen.bad, seen.bad_value);
	if ((r = user_check_calls()))
		return r;
	return user_check_faults();
}

/* One trip to CPL3: user_main(@count, ...) until its last SYSCALL (or an escape). */
static void user_run(uint64_t count)
{
	fault_disarm_all();
	user_arm();
	user_enter(uva(user_main), pg_va(UPG_STACK) + PG_SIZE, count, pg_va(UPG_KONLY),
		   pg_va(UPG_ABSENT));
	user_segs_restore();
	fault_disarm_all();
}

struct user_saved {
	uint64_t efer, star, lstar, sfmask;
};

static void user_setup(struct user_saved *s)
{
	s->efer = rdmsr(MSR_EFER);
	s->star = rdmsr(MSR_STAR);
	s->lstar = rdmsr(MSR_LSTAR);
	s->sfmask = rdmsr(MSR_SFMASK);
	memset(&seen, 0, sizeof(seen));
	user_map();
	user_gdt_load();
	wrmsr(MSR_STAR, (uint64_t)USER_STAR_BASE << 48 | (uint64_t)TK_CS64 << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
	wrmsr(MSR_SFMASK, USER_SFMASK);
	wrmsr(MSR_EFER, s->efer | EFER_SCE);
	idt_set_handler(USER_INT_VEC, user_int_handler);
	idt_set_user_gate(USER_INT_VEC, true);
}

/* TR keeps our TSS after the GDT switch: nothing uses it at CPL0 (no IST). */
static void user_teardown(const struct user_saved *s)
{
	__asm__ volatile("lgdt %0" : : "m"(gdt_desc) : "memory");
	idt_set_user_gate(USER_INT_VEC, false);
	idt_set_handler(USER_INT_VEC, NULL);
	wrmsr(MSR_EFER, s->efer);
	wrmsr(MSR_SFMASK, s->sfmask);
	wrmsr(MSR_LSTAR, s->lstar);
	wrmsr(MSR_STAR, s->star);
}

int part_user(void)
{
	struct user_saved saved;

	user_setup(&saved);
	user_run(USER_SYSCALLS);
	/* The first SYSCALL escaped (KVM-PVM): run the rest without the loop. */
	if (pvm_syscall.hits && !seen.calls)
		user_run(0);
	user_teardown(&saved);
	kprintf("paging: user: %u syscalls, int 0x80 %u, faults %u %u %u %u\n", seen.calls,
		seen.int_hits, user_faults[0].hits, user_faults[1].hits, user_faults[2].hits,
		user_faults[3].hits);
	return user_check();
}

int user_call(const void *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t ret[3])
{
	struct user_saved saved;
	uint64_t at = (uintptr_t)fn;

	if (at < (uintptr_t)user_text_start || at >= (uintptr_t)user_text_end)
		return -1;
	user_setup(&saved);
	fault_disarm_all();
	pvm_syscall.rip = (uintptr_t)syscall_entry;
	fault_arm(&pvm_syscall);
	user_enter(uva((const char *)fn), pg_va(UPG_STACK) + PG_SIZE, a0, a1, a2);
	user_segs_restore();
	fault_disarm_all();
	user_teardown(&saved);
	if (!seen.exited)
		return -1;
	memcpy(ret, seen.ret, sizeof(seen.ret));
	return 0;
}
