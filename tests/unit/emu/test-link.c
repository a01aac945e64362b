/* Linked generated code (src/emu/jit.c "Linking", exec.c chain_add()), end
 * to end with the whole emu library: a loop of blocks in one page runs on
 * from block to block in host code, with the same results and statistics
 * as the interpreter; a kick stops a guest spinning in a linked loop; a
 * linked successor that is rewritten is not run again; a block entered
 * through a link that rewrites its own next instruction runs the new one;
 * a link to another page is not followed once that page is mapped
 * elsewhere, nor after a CR3 load; a VM with two vCPUs does not link.
 * Exits whose successor is known jump straight to it (jit.h "Chaining"):
 * the same results and statistics; such a jump into a block whose code
 * is freed and reused is put back first; VESSEL_EMU_LINK=0 turns it all
 * off. Each guest ends with an OUT to port
 * 0x500, which kicks the vCPU (sys-fake.h). */
#define SYS_FAKE_REAL_CORE
#include "sys-fake.h"
#include "common/util.h"
#include "vs-test.h"
#include "jit-modes.h"

#include <pthread.h>
#include <time.h>

#define CODE 0x5000
#define RESULT 0x100000

/* 1000 rounds of two blocks (the loop head ends in a Jcc to one of two
 * tails): rax = 3000, rdx = 500 at the end, 5507 instructions in 2001
 * blocks. */
__asm__(".pushsection .rodata\n"
	".globl loop_code, loop_code_end\n"
	"loop_code:\n"
	"	xorl %eax, %eax\n"
	"	xorl %edx, %edx\n"
	"	movl $1000, %ecx\n"
	"1:	addq $3, %rax\n"
	"	testb $1, %cl\n"
	"	jz 2f\n"
	"	incq %rdx\n"
	"2:	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rax, 0x100000\n"
	"	movq %rdx, 0x100008\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"loop_code_end:\n"
	".popsection\n");
extern const uint8_t loop_code[], loop_code_end[];
#define LOOP_INSNS 5507u /* 3 + 1000 * 5 + 500 + 4 (the OUT's block) */

/* A block jumping to itself. */
static const uint8_t spin_code[] = { 0xeb, 0xfe };

/* 4000 rounds; every fourth patches the immediate of the stub (in this
 * page, so a call's block links to it) to the round number; each round
 * calls the stub and counts returns other than the last patch (rbx). */
__asm__(".pushsection .rodata\n"
	".globl patch_code, patch_code_end\n"
	"patch_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	movl $4000, %r9d\n"
	"1:	testb $3, %r8b\n"
	"	jnz 3f\n"
	"	movb %r8b, 6f+1(%rip)\n"
	"	jmp 3f\n"
	"3:	call 6f\n"
	"	movl %r8d, %edx\n"
	"	andb $0xfc, %dl\n"
	"	cmpb %dl, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	incq %r8\n"
	"	decl %r9d\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	movb $0, %al\n"
	"	ret\n"
	"patch_code_end:\n"
	".popsection\n");
extern const uint8_t patch_code[], patch_code_end[];

/* 10 rounds of A (sets rdi) and S (stores through rdi, then adds the
 * immediate of its next instruction to esi), back through TRAMP, a
 * WBINVD (a system block: the dispatch loop starts the block after it,
 * the jump to A): A points rdi at scratch memory but in the last round at
 * that immediate, so S, entered through links, rewrites its own next
 * instruction: esi = 9 * 1 + 2. */
#define TRAMP 0x6000
static const uint8_t tramp_code[] = {
	0x0f, 0x09, /* wbinvd */
	0x41, 0xff, 0xe5, /* jmp *%r13 */
};
__asm__(".pushsection .rodata\n"
	".globl self_code, self_code_end\n"
	"self_code:\n"
	"	movl $10, %ecx\n"
	"	xorl %esi, %esi\n"
	"	leaq 7f+1(%rip), %r10\n"
	"	leaq 1f(%rip), %r13\n"
	"	movl $0x6000, %r11d\n"
	"1:	movl $0x100100, %edi\n"
	"	cmpl $1, %ecx\n"
	"	cmoveq %r10, %rdi\n"
	"	jmp 2f\n"
	"2:	movb $2, (%rdi)\n"
	"7:	movl $1, %eax\n"
	"	addl %eax, %esi\n"
	"	decl %ecx\n"
	"	jz 3f\n"
	"	jmp *%r11\n"
	"3:	movq %rsi, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"self_code_end:\n"
	".popsection\n");
extern const uint8_t self_code[], self_code_end[];

/* 4 rounds: call a RET at r13, then the stub at linear 0x7000 (each from
 * a block in another page, which links to it), then map that page to the
 * other of gpa 0x7000 and 0x8000 (stubs returning 1 and 2) and INVLPG it:
 * eax sums to 1 + 2 + 1 + 2. With r13 = 0x7800 the first call makes the
 * dispatch loop translate the page again, so the second call's link finds
 * the page cached, but at the other gpa; with r13 = 0x6800 the page is
 * not cached at all. */
#define STUB1 0x7000
#define STUB2 0x8000
static const uint8_t stub1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 }; /* mov $1, %eax; ret */
static const uint8_t stub2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 };
__asm__(".pushsection .rodata\n"
	".globl remap_code, remap_code_end\n"
	"remap_code:\n"
	"	movl $0x7000, %r14d\n"
	"	movl $0x7007, %r15d\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"1:	call *%r13\n"
	"	call *%r14\n"
	"	addl %eax, %ebx\n"
	"	xorq $0xf000, %r15\n"
	"	movq %r15, 0x13038\n" /* PT's entry for linear 0x7000 */
	"	invlpg 0x7000\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"remap_code_end:\n"
	".popsection\n");
extern const uint8_t remap_code[], remap_code_end[];

/* The same with a direct CALL of the stub (a CALL rel32 from CODE to
 * 0x7000), whose block's exit is chained across pages to the stub. */
__asm__(".pushsection .rodata\n"
	".globl remapd_code, remapd_code_end\n"
	"remapd_code:\n"
	"	movl $0x7007, %r15d\n"
	"	xorl %ebx, %ebx\n"
	"	movl $4, %ecx\n"
	"1:	call *%r13\n"
	"	.byte 0xe8\n"
	"	.long 0x7000 - 0x5000 - (2f - remapd_code)\n"
	"2:	addl %eax, %ebx\n"
	"	xorq $0xf000, %r15\n"
	"	movq %r15, 0x13038\n"
	"	invlpg 0x7000\n"
	"	decl %ecx\n"
	"	jnz 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"remapd_code_end:\n"
	".popsection\n");
extern const uint8_t remapd_code[], remapd_code_end[];

/* Calls the stub at linear 0x7000 (gpa 0x7000: returns 1), loads CR3
 * with tables that map it to gpa 0x8000 (returns 2), calls it again. */
#define PML4_2 0x14000 /* PML4, PDPT, PD, PT again, with PT[7] = 0x8000 */
__asm__(".pushsection .rodata\n"
	".globl cr3_code, cr3_code_end\n"
	"cr3_code:\n"
	"	movl $0x7000, %r14d\n"
	"	call *%r14\n"
	"	movl %eax, %ebx\n"
	"	movl $0x14000, %eax\n"
	"	movq %rax, %cr3\n"
	"	call *%r14\n"
	"	addl %eax, %ebx\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"cr3_code_end:\n"
	".popsection\n");
extern const uint8_t cr3_code[], cr3_code_end[];

/* 200 rounds: rewrite the immediate of the stub S (retiring its block),
 * call a stub U_r never run before (built into the code S's block had,
 * freed meanwhile: same size, first on its free list), then call S from
 * a block in S's page, whose direct exit had been chained to S's old
 * code; count the calls of S that did not return the new immediate
 * (rbx). */
#define USTUBS 0xb000 /* U_r at USTUBS + 8 * r: mov $0xee, %al; ret */
__asm__(".pushsection .rodata\n"
	".globl reuse_code, reuse_code_end\n"
	"reuse_code:\n"
	"	xorl %ebx, %ebx\n"
	"	xorl %r8d, %r8d\n"
	"	movl $0xb000, %r12d\n"
	"1:	movb %r8b, 6f+1(%rip)\n"
	"	leaq (%r12,%r8,8), %rax\n"
	"	call *%rax\n"
	"	call 6f\n"
	"	cmpb %r8b, %al\n"
	"	je 4f\n"
	"	incl %ebx\n"
	"4:	incq %r8\n"
	"	cmpq $200, %r8\n"
	"	jne 1b\n"
	"	movq %rbx, 0x100000\n"
	"	movw $0x500, %dx\n"
	"	outb %al, %dx\n"
	"	ud2\n"
	"6:	movb $0, %al\n"
	"	ret\n"
	"reuse_code_end:\n"
	".popsection\n");
extern const uint8_t reuse_code[], reuse_code_end[];

static struct machine *link_machine_jit(unsigned ncpus, const uint8_t *code, const uint8_t *end,
					enum emu_jit_mode jit)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct emu_ram_region r;
	struct emu_vm_config cfg = {
		.ncpus = ncpus, .ram = &r, .nram = 1, .io = &fake_io, .jit = jit
	};

	m->ram = aligned_alloc(4096, RAM_SIZE);
	memset(m->ram, 0, RAM_SIZE);
	r = (struct emu_ram_region){ .gpa = 0, .size = RAM_SIZE, .hva = m->ram };
	assert_int_equal(emu_vm_new(&cfg, &m->vm), 0);
	m->cpu = emu_vm_cpu(m->vm, 0);
	fake_kick_vm = m->vm;
	setup_long(m);
	m->cpu->rip = CODE;
	memcpy(m->ram + CODE, code, (size_t)(end - code));
	return m;
}

static struct machine *link_machine(unsigned ncpus, const uint8_t *code, const uint8_t *end)
{
	return link_machine_jit(ncpus, code, end, test_jit);
}

/* Runs vCPU 0 until the guest's OUT kicks it; returns its statistics. */
static struct emu_stats run_to_kick(struct machine *m)
{
	struct emu_stats st;

	assert_int_equal(emu_cpu_run(m->cpu, &m->exit), 0);
	assert_int_equal(m->exit.reason, EMU_EXIT_KICK);
	emu_cpu_get_stats(m->cpu, &st);
	return st;
}

/* Most blocks ran on through links with host code, none without; with
 * host code, exits were chained straight to their successors. */
static void check_linked(const struct emu_stats *st)
{
	if (test_jit == EMU_JIT_ON) {
		assert_true(st->dispatches * 10 < st->blocks_run);
		assert_true(st->chains > 0);
	} else {
		assert_int_equal(st->dispatches, st->blocks_run);
		assert_int_equal(st->chains, 0);
	}
}

static void test_loop_runs_linked(void **state)
{
	struct machine *m = link_machine(1, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(get64(m, RESULT + 8), 500);
	/* linked blocks count as the loop counts them */
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.insns_user, 0);
	assert_int_equal(st.blocks_run, 2001);
	check_linked(&st);
	machine_free(m);
}

/* The same at CPL3: insns_user counts linked blocks too. */
static void test_loop_runs_linked_user(void **state)
{
	struct machine *m = link_machine(1, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	load_seg_raw(m->cpu, EMU_CS, SEL_UCODE | 3, 0x2fb | EMU_SEG_G);
	load_seg_raw(m->cpu, EMU_SS, SEL_UDATA | 3, 0xcf3);
	m->cpu->rflags |= 3u << 12; /* IOPL 3: the OUT is allowed */
	emu_update_mode(m->cpu);
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.insns_user, LOOP_INSNS);
	check_linked(&st);
	machine_free(m);
}

/* A guest spinning in a block linked to itself still leaves at a kick
 * (an event, as the timer thread's interrupts are). */
static void test_kick_stops_linked_spin(void **state)
{
	struct machine *m = link_machine(1, spin_code, spin_code + sizeof(spin_code));
	struct runner r = { .cpu = m->cpu };
	struct timespec until;
	struct emu_stats st;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, run_thread, &r), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	emu_cpu_kick(m->cpu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	assert_int_equal(pthread_timedjoin_np(t, NULL, &until), 0);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.exit.reason, EMU_EXIT_KICK);
	emu_cpu_get_stats(m->cpu, &st);
	assert_true(st.blocks_run > 1000);
	check_linked(&st);
	machine_free(m);
}

/* A link is only as good as its generation: once the stub a call's block
 * links to is rewritten, the call must run the new stub. */
static void test_linked_successor_rewritten(void **state)
{
	struct machine *m = link_machine(1, patch_code, patch_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0); /* every call returned the last patch */
	/* every patch but the first (before the stub ever ran) drops it */
	assert_int_equal(st.blocks_flushed, 999);
	if (test_jit == EMU_JIT_ON) { /* between patches, calls ran on into the stub */
		assert_true(st.dispatches < st.blocks_run);
		assert_true(st.chains > 999); /* each new stub chained to again */
	}
	machine_free(m);
}

/* A retired block's code is freed and reused by another block while the
 * block that jumped straight into it lives on: that jump must have been
 * put back (else the call runs U_r's code, or a freed block's). */
static void test_chained_target_freed_and_reused(void **state)
{
	struct machine *m = link_machine(1, reuse_code, reuse_code_end);
	static const uint8_t ustub[] = { 0xb0, 0xee, 0xc3 }; /* mov $0xee, %al; ret */
	struct emu_stats st;

	(void)state;
	for (unsigned r = 0; r < 200; r++)
		memcpy(m->ram + USTUBS + 8 * r, ustub, sizeof(ustub));
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 0);
	assert_int_equal(st.blocks_flushed, 199);
	if (test_jit == EMU_JIT_ON)
		assert_true(st.chains >= 199);
	machine_free(m);
}

/* VESSEL_EMU_LINK=0 (for a VM that leaves the choice to the environment)
 * turns linking off, chaining included: every block starts from the
 * dispatch loop. */
static void test_link_env_off(void **state)
{
	char *jit_env = getenv("VESSEL_EMU_JIT");
	struct machine *m;
	struct emu_stats st;

	(void)state;
	if (jit_env) /* the environment decides, so host code must be on */
		jit_env = strdup(jit_env);
	unsetenv("VESSEL_EMU_JIT");
	setenv("VESSEL_EMU_LINK", "0", 1);
	m = link_machine_jit(1, loop_code, loop_code_end, EMU_JIT_DEFAULT);
	st = run_to_kick(m);
	unsetenv("VESSEL_EMU_LINK");
	if (jit_env)
		setenv("VESSEL_EMU_JIT", jit_env, 1);
	free(jit_env);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_true(st.blocks_jit > 0);
	assert_int_equal(st.dispatches, st.blocks_run);
	assert_int_equal(st.chains, 0);
	machine_free(m);
}

/* A block entered through a link rewrites its own next instruction: the
 * write must cut that block (cc->cur is it, not the one the dispatch loop
 * started), and the instructions it did not run are not counted. */
static void test_linked_block_patches_itself(void **state)
{
	struct machine *m = link_machine(1, self_code, self_code_end);
	struct emu_stats st;

	(void)state;
	memcpy(m->ram + TRAMP, tramp_code, sizeof(tramp_code));
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 11);
	/* 5 + 10 * 4 + 10 * 5 + 9 * 3 + 3; the cut block's rest ran as a
	 * new one */
	assert_int_equal(st.insns, 125);
	if (test_jit == EMU_JIT_ON)
		assert_true(st.dispatches < st.blocks_run);
	machine_free(m);
}

/* A link across pages is only followed while the dispatch loop's cached
 * translation of its target's page is the one it was made with: after
 * the page is mapped elsewhere (and INVLPG, a system instruction, drops
 * the cached translations), the call's block must not run on into the
 * stub it linked to before: neither through the link check (an indirect
 * call) nor through a direct exit chained across pages (a CALL rel32). */
static void test_link_after_remap(void **state)
{
	static const uint64_t first[] = { 0x7800, 0x6800, 0x7800, 0x6800 };

	(void)state;
	for (unsigned i = 0; i < VS_ARRAY_SIZE(first); i++) {
		struct machine *m = i < 2 ? link_machine(1, remap_code, remap_code_end) :
					    link_machine(1, remapd_code, remapd_code_end);
		struct emu_stats st;

		memcpy(m->ram + STUB1, stub1, sizeof(stub1));
		memcpy(m->ram + STUB2, stub2, sizeof(stub2));
		m->ram[0x6800] = m->ram[STUB1 + 0x800] = m->ram[STUB2 + 0x800] = 0xc3;
		m->cpu->r[EMU_RSP] = 0x90000;
		m->cpu->r[EMU_R13] = first[i];
		st = run_to_kick(m);
		assert_int_equal(get64(m, RESULT), 6);
		if (test_jit == EMU_JIT_ON)
			assert_true(st.dispatches < st.blocks_run);
		if (test_jit == EMU_JIT_ON && i >= 2) /* the direct CALL's exit */
			assert_true(st.chains > 0);
		machine_free(m);
	}
}

/* Regression: MOV to CR3 was not a system instruction, so the dispatch
 * loop kept its cached code page translations across it (and links
 * their check): the second call ran the old stub. */
static void test_cr3_load_retranslates(void **state)
{
	struct machine *m = link_machine(1, cr3_code, cr3_code_end);

	(void)state;
	memcpy(m->ram + STUB1, stub1, sizeof(stub1));
	memcpy(m->ram + STUB2, stub2, sizeof(stub2));
	for (unsigned i = 0; i < 4; i++) /* PML4, PDPT, PD, PT */
		memcpy(m->ram + PML4_2 + i * 0x1000, m->ram + PML4 + i * 0x1000, 0x1000);
	for (unsigned i = 0; i < 3; i++) /* each points at the next copy */
		put64(m, PML4_2 + i * 0x1000, PML4_2 + (i + 1) * 0x1000 + 7);
	put64(m, PML4_2 + 3 * 0x1000 + 7 * 8, STUB2 | 7);
	m->cpu->r[EMU_RSP] = 0x90000;
	run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3);
	machine_free(m);
}

/* With two vCPUs no block links (a link's words could tear between two
 * writers), and the loop still runs right. */
static void test_two_vcpus_do_not_link(void **state)
{
	struct machine *m = link_machine(2, loop_code, loop_code_end);
	struct emu_stats st;

	(void)state;
	st = run_to_kick(m);
	assert_int_equal(get64(m, RESULT), 3000);
	assert_int_equal(st.insns, LOOP_INSNS);
	assert_int_equal(st.dispatches, st.blocks_run);
	assert_int_equal(st.chains, 0);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_loop_runs_linked),
		BOTH(test_loop_runs_linked_user),
		BOTH(test_kick_stops_linked_spin),
		BOTH(test_linked_successor_rewritten),
		BOTH(test_chained_target_freed_and_reused),
		cmocka_unit_test(test_link_env_off),
		BOTH(test_linked_block_patches_itself),
		BOTH(test_link_after_remap),
		BOTH(test_cr3_load_retranslates),
		BOTH(test_two_vcpus_do_not_link),
	};

	return vs_test_run("emu-link", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
}
