/* The native runner: a sequence runs on the host CPU in this process, at
 * CPL3 like in emu. The code page (read+exec, written through a second,
 * writable mapping of the same memfd) and the data pages sit at the fixed
 * addresses of layout.h inside a PROT_NONE reservation, so stray accesses
 * fault like the unmapped pages of emu's page tables.
 *
 * tramp.S loads the start state and jumps in. Every way out is a signal:
 * the UD2 end marker (SIGILL), faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGTRAP) and the watchdog (SIGALRM). The handler runs on an alternate
 * stack (the case's RSP points into the data area, which must not be
 * touched), copies the registers, trap number, error code and CR2 from the
 * signal frame (they are the CPU's own), and siglongjmps back. */
#include "diff.h"

#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define NATIVE_RESERVE_VA (DIFF_CODE_VA - 0x100000)
#define NATIVE_RESERVE_SIZE 0x400000
#define NATIVE_ALTSTACK (64 * 1024)
#define NATIVE_WATCHDOG_S 2
#define UD2_0 0x0f
#define UD2_1 0x0b

void diff_native_enter(const struct diff_state *st);

_Static_assert(offsetof(struct diff_state, rflags) == DIFF_ST_RFLAGS, "tramp.S offsets");
_Static_assert(offsetof(struct diff_state, xmm) == DIFF_ST_XMM, "tramp.S offsets");
_Static_assert(offsetof(struct diff_state, mxcsr) == DIFF_ST_MXCSR, "tramp.S offsets");

/* A signal handler has no context argument: the run in flight lives here.
 * One native run at a time per process. */
static struct {
	uint8_t *code_rw; /* writable alias of the code page */
	sigjmp_buf jmp;
	struct diff_result *out;
	uint64_t end_rip; /* where the UD2 end marker is */
} native;

static uint64_t greg(const ucontext_t *uc, int reg)
{
	return (uint64_t)uc->uc_mcontext.gregs[reg];
}

static void native_capture(const ucontext_t *uc, struct diff_result *out)
{
	static const int map[16] = {
		REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
		REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
	};

	for (int i = 0; i < 16; i++)
		out->st.r[i] = greg(uc, map[i]);
	if (uc->uc_mcontext.fpregs) {
		memcpy(out->st.xmm, uc->uc_mcontext.fpregs->_xmm, sizeof(out->st.xmm));
		out->st.mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	}
	out->st.rip = greg(uc, REG_RIP);
	out->st.rflags = greg(uc, REG_EFL);
	out->vector = (int)greg(uc, REG_TRAPNO);
	out->err = (uint32_t)greg(uc, REG_ERR);
	out->cr2 = greg(uc, REG_CR2);
}

/* Vectors that push an error code (SDM vol. 3 §6.3.1). */
static bool vector_has_err(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* The kernel keeps RFLAGS.AC for the handler: with CR0.AM set (Linux sets
 * it), a case that set AC would make every unaligned access of the handler
 * and of what follows fault. */
static inline void native_clear_ac(void)
{
	__asm__ volatile("pushfq; andl $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
}

static void native_signal(int sig, siginfo_t *si, void *ucv)
{
	struct diff_result *out = native.out;

	(void)si;
	native_clear_ac();
	native_capture(ucv, out);
	if (sig == SIGALRM) {
		out->vector = DIFF_HANG;
	} else if (out->vector == 6 && out->st.rip == native.end_rip) {
		out->vector = DIFF_END;
	}
	out->has_err = out->vector >= 0 && vector_has_err(out->vector);
	if (!out->has_err)
		out->err = 0;
	if (out->vector != 14)
		out->cr2 = 0;
	siglongjmp(native.jmp, 1);
}

static int native_map(void)
{
	void *p = mmap((void *)NATIVE_RESERVE_VA, NATIVE_RESERVE_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	int fd;

	if (p != (void *)NATIVE_RESERVE_VA)
		return p == MAP_FAILED ? -errno : -EEXIST;
	fd = memfd_create("emu-diff-code", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, DIFF_CODE_SIZE) < 0)
		return -errno;
	native.code_rw = mmap(NULL, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	p = mmap((void *)DIFF_CODE_VA, DIFF_CODE_SIZE, PROT_READ | PROT_EXEC,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (native.code_rw == MAP_FAILED || p == MAP_FAILED)
		return -ENOMEM;
	p = mmap((void *)DIFF_DATA_VA, DIFF_DATA_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? -errno : 0;
}

int diff_native_init(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM };
	static uint8_t altstack[NATIVE_ALTSTACK];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = native_signal,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
	int r = native_map();

	if (r < 0)
		return r;
	if (sigaltstack(&ss, NULL) < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

void diff_native_run(void *ctx, const struct diff_seq *seq, struct diff_result *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (seq->len > DIFF_CODE_MAX) {
		out->vector = DIFF_ERROR;
		snprintf(out->detail, sizeof(out->detail), "code too long (%zu)", seq->len);
		return;
	}
	memset(native.code_rw, DIFF_CODE_FILL, DIFF_CODE_SIZE);
	memcpy(native.code_rw, seq->code, seq->len);
	native.code_rw[seq->len] = UD2_0;
	native.code_rw[seq->len + 1] = UD2_1;
	memcpy((void *)DIFF_DATA_VA, seq->init->data, DIFF_DATA_SIZE);
	native.out = out;
	native.end_rip = DIFF_CODE_VA + seq->len;
	if (sigsetjmp(native.jmp, 1) == 0) {
		alarm(NATIVE_WATCHDOG_S);
		diff_native_enter(seq->init);
	}
	alarm(0);
	memcpy(out->st.data, (void *)DIFF_DATA_VA, DIFF_DATA_SIZE);
}
