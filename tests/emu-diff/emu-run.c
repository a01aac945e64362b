/* The emu runner: a sequence runs in a fresh emu VM at CPL3, 64-bit mode,
 * driven only through the public API (emu/emu.h), with exit_on_exception
 * so that the end marker (UD2) and every fault end emu_cpu_run().
 *
 * Guest RAM (64 KiB) holds 4-level page tables that map the code page
 * (user, read-only), the two data pages (user, writable, NX) and a
 * supervisor page with a GDT and IDT like Linux's at the addresses of
 * layout.h; everything else is unmapped, so stray accesses fault as they do
 * natively. A watchdog thread kicks a run that takes too long. */
#include "diff.h"

#include "emu/emu.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAM_SIZE 0x10000
#define GPA_PML4 0x1000
#define GPA_PDPT 0x2000
#define GPA_PD 0x3000
#define GPA_PT 0x4000
#define GPA_GDT 0x5000 /* GDT at +0, TSS at +0x100 */
#define GPA_IDT 0x6000
#define GPA_CODE 0x7000
#define GPA_DATA 0x8000
#define VA_GDT (DIFF_DATA_VA + 0xfe000)
#define VA_IDT (DIFF_DATA_VA + 0xff000)
#define TSS_OFF 0x100
#define GDT_LIMIT 0x7f /* 16 entries, as Linux */
#define SEL_KCODE 0x10
#define SEL_TSS 0x40
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_NX (1ULL << 63)
#define CR0_LINUX 0x80050033ULL /* PG AM WP NE ET MP PE */
#define CR4_PAE_FX 0x620ULL /* PAE OSFXSR OSXMMEXCPT */
#define EFER_LONG 0xd01ULL /* NXE LMA LME SCE */
#define RFLAGS_IF 0x200ULL
#define WATCHDOG_S 2
#define NCPUID 100

struct emu_ctx {
	uint8_t *ram;
	pthread_t watchdog;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct emu_cpu *running; /* the watchdog kicks it when it overstays */
	uint64_t generation;
	bool quit;
};

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static uint64_t pt_index(uint64_t va)
{
	return (va >> 12) & 511;
}

static void build_page_tables(uint8_t *ram)
{
	put64(ram, GPA_PML4, GPA_PDPT | PTE_P | PTE_W | PTE_U);
	put64(ram, GPA_PDPT, GPA_PD | PTE_P | PTE_W | PTE_U);
	put64(ram, GPA_PD + 8 * ((DIFF_CODE_VA >> 21) & 511), GPA_PT | PTE_P | PTE_W | PTE_U);
	put64(ram, GPA_PT + 8 * pt_index(DIFF_CODE_VA), GPA_CODE | PTE_P | PTE_U);
	for (uint64_t i = 0; i < DIFF_DATA_SIZE / 0x1000; i++)
		put64(ram, GPA_PT + 8 * pt_index(DIFF_DATA_VA + i * 0x1000),
		      (GPA_DATA + i * 0x1000) | PTE_P | PTE_W | PTE_U | PTE_NX);
	put64(ram, GPA_PT + 8 * pt_index(VA_GDT), GPA_GDT | PTE_P | PTE_W | PTE_NX);
	put64(ram, GPA_PT + 8 * pt_index(VA_IDT), GPA_IDT | PTE_P | PTE_W | PTE_NX);
}

/* Linux's GDT (arch/x86/include/asm/segment.h) and a 64-bit TSS; an IDT
 * of interrupt gates, DPL 3 only for #BP and #OF, as Linux sets them. */
static void build_descriptors(uint8_t *ram)
{
	static const uint64_t gdt[7] = {
		0,
		0x00cf9b000000ffffULL,
		0x00af9b000000ffffULL,
		0x00cf93000000ffffULL,
		0x00cffb000000ffffULL,
		0x00cff3000000ffffULL,
		0x00affb000000ffffULL,
	};
	uint64_t tss = VA_GDT + TSS_OFF;

	for (int i = 0; i < 7; i++)
		put64(ram, GPA_GDT + 8 * (uint64_t)i, gdt[i]);
	put64(ram, GPA_GDT + SEL_TSS,
	      0x67 | (tss & 0xffffff) << 16 | 0x8bULL << 40 | (tss >> 24 & 0xff) << 56);
	put64(ram, GPA_GDT + SEL_TSS + 8, tss >> 32);
	/* I/O bitmap offset past the limit, as Linux: every port #GPs at CPL3 */
	ram[GPA_GDT + TSS_OFF + 0x66] = 0x68;
	for (uint64_t v = 0; v < 256; v++) {
		uint64_t dpl = v == 3 || v == 4 ? 3 : 0;

		put64(ram, GPA_IDT + 16 * v,
		      (uint64_t)SEL_KCODE << 16 | (0x8eULL | dpl << 5) << 40);
	}
}

static struct kvm_segment user_seg(uint16_t sel, bool code)
{
	return (struct kvm_segment){ .base = 0,
				     .limit = 0xffffffff,
				     .selector = sel,
				     .type = code ? 0xb : 0x3,
				     .present = 1,
				     .dpl = 3,
				     .db = !code,
				     .s = 1,
				     .l = code,
				     .g = 1 };
}

static void set_sregs(struct kvm_sregs *s)
{
	struct kvm_segment null = { .unusable = 1 };

	s->cs = user_seg(DIFF_USER_CS, true);
	s->ss = user_seg(DIFF_USER_SS, false);
	s->ds = s->es = s->fs = s->gs = null;
	s->ldt = null;
	s->tr = (struct kvm_segment){ .base = VA_GDT + TSS_OFF,
				      .limit = 0x67,
				      .selector = SEL_TSS,
				      .type = 0xb,
				      .present = 1 };
	s->gdt = (struct kvm_dtable){ .base = VA_GDT, .limit = GDT_LIMIT };
	s->idt = (struct kvm_dtable){ .base = VA_IDT, .limit = 256 * 16 - 1 };
	s->cr0 = CR0_LINUX;
	s->cr3 = GPA_PML4;
	s->cr4 = CR4_PAE_FX;
	s->efer = EFER_LONG;
	s->cr2 = 0;
}

static void regs_to_kvm(const struct diff_state *st, struct kvm_regs *k)
{
	const uint64_t *r = st->r;

	*k = (struct kvm_regs){
		.rax = r[DIFF_RAX],
		.rbx = r[DIFF_RBX],
		.rcx = r[DIFF_RCX],
		.rdx = r[DIFF_RDX],
		.rsi = r[DIFF_RSI],
		.rdi = r[DIFF_RDI],
		.rsp = r[DIFF_RSP],
		.rbp = r[DIFF_RBP],
		.r8 = r[DIFF_R8],
		.r9 = r[DIFF_R9],
		.r10 = r[DIFF_R10],
		.r11 = r[DIFF_R11],
		.r12 = r[DIFF_R12],
		.r13 = r[DIFF_R13],
		.r14 = r[DIFF_R14],
		.r15 = r[DIFF_R15],
		.rip = DIFF_CODE_VA,
		/* user mode always runs with IF set; PUSHF shows it */
		.rflags = st->rflags | RFLAGS_IF | 0x2,
	};
}

static void regs_from_kvm(const struct kvm_regs *k, struct diff_state *st)
{
	uint64_t *r = st->r;

	r[DIFF_RAX] = k->rax, r[DIFF_RBX] = k->rbx, r[DIFF_RCX] = k->rcx, r[DIFF_RDX] = k->rdx;
	r[DIFF_RSI] = k->rsi, r[DIFF_RDI] = k->rdi, r[DIFF_RSP] = k->rsp, r[DIFF_RBP] = k->rbp;
	r[DIFF_R8] = k->r8, r[DIFF_R9] = k->r9, r[DIFF_R10] = k->r10, r[DIFF_R11] = k->r11;
	r[DIFF_R12] = k->r12, r[DIFF_R13] = k->r13, r[DIFF_R14] = k->r14, r[DIFF_R15] = k->r15;
	st->rip = k->rip;
	st->rflags = k->rflags;
}

/* ---- watchdog ------------------------------------------------------------ */

static void *watchdog_main(void *arg)
{
	struct emu_ctx *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->quit) {
		uint64_t gen = c->generation;
		struct timespec ts;

		if (!c->running) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += WATCHDOG_S;
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT && c->running &&
		    c->generation == gen)
			emu_cpu_kick(c->running);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void watch(struct emu_ctx *c, struct emu_cpu *cpu)
{
	pthread_mutex_lock(&c->lock);
	c->running = cpu;
	c->generation++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* ---- a run ------------------------------------------------------------------ */

static int vm_prepare(struct emu_ctx *c, const struct diff_seq *seq, struct emu_vm **vm)
{
	struct emu_ram_region ram = { .gpa = 0, .size = RAM_SIZE, .hva = c->ram };
	struct emu_vm_config cfg = { .ncpus = 1, .ram = &ram, .nram = 1, .exit_on_exception = true };
	struct emu_cpu *cpu;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t fx[512];
	int r;

	memset(c->ram + GPA_CODE, DIFF_CODE_FILL, DIFF_CODE_SIZE);
	memcpy(c->ram + GPA_CODE, seq->code, seq->len);
	c->ram[GPA_CODE + seq->len] = 0x0f; /* UD2: the end marker */
	c->ram[GPA_CODE + seq->len + 1] = 0x0b;
	memcpy(c->ram + GPA_DATA, seq->init->data, DIFF_DATA_SIZE);
	if ((r = emu_vm_new(&cfg, vm)) < 0)
		return r;
	cpu = emu_vm_cpu(*vm, 0);
	emu_cpu_get_sregs(cpu, &sregs);
	set_sregs(&sregs);
	if ((r = emu_cpu_set_sregs(cpu, &sregs)) < 0)
		return r;
	regs_to_kvm(seq->init, &regs);
	emu_cpu_set_regs(cpu, &regs);
	emu_cpu_get_fxsave(cpu, fx);
	memcpy(fx + 24, &seq->init->mxcsr, 4);
	memcpy(fx + 160, seq->init->xmm, sizeof(seq->init->xmm));
	return emu_cpu_set_fxsave(cpu, fx);
}

static void fill_result(const struct emu_exit *ex, uint64_t end, struct diff_result *out)
{
	switch (ex->reason) {
	case EMU_EXIT_EXCEPTION:
		out->vector = ex->vector;
		if (ex->vector == 6 && out->st.rip == end)
			out->vector = DIFF_END;
		out->has_err = ex->has_error_code;
		out->err = ex->has_error_code ? ex->error_code : 0;
		out->cr2 = ex->vector == 14 ? ex->cr2 : 0;
		break;
	case EMU_EXIT_KICK:
		out->vector = DIFF_HANG;
		break;
	default:
		out->vector = DIFF_ERROR;
		snprintf(out->detail, sizeof(out->detail), "exit %d: %.140s", ex->reason,
			 ex->detail);
		break;
	}
}

static void emu_run(void *ctx, const struct diff_seq *seq, struct diff_result *out)
{
	struct emu_ctx *c = ctx;
	struct emu_vm *vm = NULL;
	struct emu_exit ex;
	struct kvm_regs regs;
	uint8_t fx[512];
	int r;

	memset(out, 0, sizeof(*out));
	if (seq->len > DIFF_CODE_MAX || (r = vm_prepare(c, seq, &vm)) < 0) {
		out->vector = DIFF_ERROR;
		snprintf(out->detail, sizeof(out->detail), "cannot set up the VM");
		emu_vm_free(vm);
		return;
	}
	watch(c, emu_vm_cpu(vm, 0));
	emu_cpu_run(emu_vm_cpu(vm, 0), &ex);
	watch(c, NULL);
	emu_cpu_get_regs(emu_vm_cpu(vm, 0), &regs);
	regs_from_kvm(&regs, &out->st);
	emu_cpu_get_fxsave(emu_vm_cpu(vm, 0), fx);
	memcpy(&out->st.mxcsr, fx + 24, 4);
	memcpy(out->st.xmm, fx + 160, sizeof(out->st.xmm));
	fill_result(&ex, DIFF_CODE_VA + seq->len, out);
	memcpy(out->st.data, c->ram + GPA_DATA, DIFF_DATA_SIZE);
	emu_vm_free(vm);
}

/* ---- the runner ---------------------------------------------------------------- */

static bool cpuid_bit(const struct kvm_cpuid2 *cpuid, uint32_t leaf, int reg, int bit)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		uint32_t v[4] = { e->eax, e->ebx, e->ecx, e->edx };

		if (e->function == leaf && e->index == 0)
			return v[reg] >> bit & 1;
	}
	return false;
}

uint64_t diff_emu_features(void)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + NCPUID * sizeof(cpuid->entries[0]));
	uint64_t f = 0;

	if (!cpuid)
		return 0;
	cpuid->nent = NCPUID;
	if (emu_supported_cpuid(cpuid) == 0) {
		f |= cpuid_bit(cpuid, 1, 2, 23) ? DIFF_REQ_POPCNT : 0;
		f |= cpuid_bit(cpuid, 1, 2, 22) ? DIFF_REQ_MOVBE : 0;
		f |= cpuid_bit(cpuid, 1, 2, 13) ? DIFF_REQ_CX16 : 0;
		f |= cpuid_bit(cpuid, 0x80000001, 2, 5) ? DIFF_REQ_LZCNT : 0;
		f |= cpuid_bit(cpuid, 7, 1, 3) ? DIFF_REQ_BMI1 : 0;
		f |= cpuid_bit(cpuid, 1, 2, 0) ? DIFF_REQ_SSE3 : 0;
		f |= cpuid_bit(cpuid, 1, 2, 9) ? DIFF_REQ_SSSE3 : 0;
		f |= cpuid_bit(cpuid, 1, 2, 19) ? DIFF_REQ_SSE41 : 0;
		f |= cpuid_bit(cpuid, 1, 2, 20) ? DIFF_REQ_SSE42 : 0;
		f |= cpuid_bit(cpuid, 1, 3, 23) ? DIFF_REQ_MMX : 0;
	}
	free(cpuid);
	return f;
}

int diff_emu_open(struct diff_runner *r)
{
	struct emu_ctx *c = calloc(1, sizeof(*c));
	sigset_t all, old;
	int e;

	if (!c || !(c->ram = aligned_alloc(4096, RAM_SIZE))) {
		free(c);
		return -ENOMEM;
	}
	memset(c->ram, 0, RAM_SIZE);
	build_page_tables(c->ram);
	build_descriptors(c->ram);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	/* The native runner's signals (SIGALRM included) belong to this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&c->watchdog, NULL, watchdog_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		free(c->ram);
		free(c);
		return -e;
	}
	*r = (struct diff_runner){ .name = "emu", .run = emu_run, .ctx = c };
	return 0;
}

void diff_emu_close(struct diff_runner *r)
{
	struct emu_ctx *c = r->ctx;

	pthread_mutex_lock(&c->lock);
	c->quit = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->watchdog, NULL);
	free(c->ram);
	free(c);
}
