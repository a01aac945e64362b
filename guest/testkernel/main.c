/* main.c - kmain: parse vessel.test= and run the named tests in order.
 *
 * Output protocol (docs/testkernel.md), on COM1:
 *   vessel-test: start <list>
 *   <test>: <info>                   any number, prefixed with the test name
 *   vessel-test: <test>: PASS | FAIL <reason>
 *   vessel-test: result: N passed, M failed
 * then exit status 0 (all passed), 1 (some failed), 2 (bad test list),
 * 3 (panic). exit:N exits at once with status N. */
#include "apic.h"
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "idt.h"
#include "layout.h"
#include "tests.h"

#define TEST_KEY "vessel.test="
#define TK_ARG_MAX 80 /* virtio-net-udp:tx-user/N/MAC/SRCIP/DSTIP is the longest */
#define FAIL_REASON_MAX 200

void kmain(int protocol, uint64_t params);

uint32_t bsp_apic_id;
static char fail_reason[FAIL_REASON_MAX];

static int test_exit(const char *arg);
static int test_panic(const char *arg);
static int test_hang(const char *arg);
static int test_triplefault(const char *arg);
static int test_reset(const char *arg);

static const struct tk_test tests[] = {
	{ "bootparams", test_bootparams, 0 },
	{ "cpuid", test_cpuid, 0 },
	{ "smp", test_smp, 0 },
	{ "pci", test_pci, 0 },
	{ "acpi", test_acpi, 0 },
	{ "acpi-poweroff", test_acpi_poweroff, 0 },
	{ "acpi-button", test_acpi_button, 0 },
	{ "pvpanic", test_pvpanic, 0 },
	{ "timer", test_timer, 0 },
	{ "irq", test_irq, 0 },
	{ "paging", test_paging, TK_ARG_OPTIONAL },
	{ "bench", test_bench, TK_ARG_OPTIONAL },
	{ "codewalk", test_codewalk, TK_ARG_OPTIONAL },
	{ "touch", test_touch, TK_ARG_OPTIONAL },
	{ "virtio-rng", test_virtio_rng, 0 },
	{ "sse", test_sse, TK_ARG_OPTIONAL },
	{ "virtio-blk", test_virtio_blk, 0 },
	{ "virtio-blk-qcow2magic", test_virtio_blk_magic, 0 },
	{ "virtio-blk-bench", test_virtio_blk_bench, TK_ARG_OPTIONAL },
	{ "virtio-blk-ab", test_virtio_blk_ab, TK_ARG_OPTIONAL },
	{ "virtio-blk-bench-user", test_virtio_blk_bench_user, TK_ARG_OPTIONAL },
	{ "virtio-blk-ab-user", test_virtio_blk_ab_user, TK_ARG_OPTIONAL },
	{ "virtio-net", test_virtio_net, TK_ARG_OPTIONAL },
	{ "virtio-net-bench", test_virtio_net_bench, TK_ARG_OPTIONAL },
	{ "virtio-net-bench-user", test_virtio_net_bench_user, TK_ARG_OPTIONAL },
	{ "virtio-net-udp", test_virtio_net_udp, 1 },
	{ "exit", test_exit, 1 },
	{ "panic", test_panic, 0 },
	{ "hang", test_hang, 0 },
	{ "triplefault", test_triplefault, 0 },
	{ "reset", test_reset, 1 },
	{ "counter", test_counter, TK_ARG_OPTIONAL },
};

int test_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tk_vsnprintf(fail_reason, sizeof(fail_reason), fmt, ap);
	va_end(ap);
	return -1;
}

static int test_exit(const char *arg)
{
	uint64_t n = 0;

	parse_u64(arg, strlen(arg), &n);
	kprintf("vessel-test: exit %u\n", (unsigned int)n);
	tk_exit((unsigned int)n);
}

/* Checks the panic path itself: #UD must print a panic line and exit 3. */
static int test_panic(const char *arg)
{
	(void)arg;
	__asm__ volatile("ud2");
	return test_fail("ud2 did not fault");
}

/* Never returns: for the VMM's signal and console-escape tests. The vCPU
 * sleeps in HLT with interrupts off, so it costs the host nothing. */
static int test_hang(const char *arg)
{
	(void)arg;
	kprintf("hang: halting forever\n");
	cpu_halt_forever();
}

/* For the VMM's crash reporting: with an empty IDT, #UD cannot be delivered,
 * nor can the #DF that follows: the CPU shuts down (a triple fault). */
static int test_triplefault(const char *arg)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	(void)arg;
	kprintf("triplefault: empty IDT, then ud2\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(empty));
	return test_fail("still running after a triple fault");
}

/* For the VMM's reboot handling: "reset:kbd" pulses the reset line through
 * the i8042 (command 0xFE on port 0x64), "reset:cf9" through the reset
 * control register (port 0xCF9, bit 2 with bit 1 for a hard reset). */
static int test_reset(const char *arg)
{
	if (strncmp(arg, "kbd", 4) == 0) {
		kprintf("reset: i8042 0xfe\n");
		outb(0x64, 0xfe);
	} else if (strncmp(arg, "cf9", 4) == 0) {
		kprintf("reset: port 0xcf9\n");
		outb(0xcf9, 0x06);
	} else {
		return test_fail("reset:kbd or reset:cf9 expected");
	}
	cpu_halt_forever();
}

/* Finds the value of vessel.test= in the command line: sets *len, returns
 * its start, or NULL if absent. */
static const char *find_test_list(const char *cmd, size_t *len)
{
	size_t klen = strlen(TEST_KEY);

	for (const char *p = cmd; *p; p++) {
		if ((p == cmd || p[-1] == ' ') && !strncmp(p, TEST_KEY, klen)) {
			const char *v = p + klen;
			size_t n = 0;

			while (v[n] && v[n] != ' ')
				n++;
			*len = n;
			return v;
		}
	}
	return NULL;
}

/* Looks up the test named by [s, s+n) ("name" or "name:arg"). Returns it and
 * copies the argument into @arg (size @argsz), or NULL if unknown/malformed. */
static const struct tk_test *lookup(const char *s, size_t n, char *arg, size_t argsz)
{
	size_t nlen = 0;
	uint64_t v;

	while (nlen < n && s[nlen] != ':')
		nlen++;
	for (size_t i = 0; i < TK_ARRAY_SIZE(tests); i++) {
		const struct tk_test *t = &tests[i];
		size_t alen = nlen < n ? n - nlen - 1 : 0;

		if (strlen(t->name) != nlen || strncmp(t->name, s, nlen))
			continue;
		if ((t->needs_arg != TK_ARG_OPTIONAL && t->needs_arg != (nlen < n)) ||
		    alen >= argsz)
			return NULL;
		memcpy(arg, s + nlen + 1, alen);
		arg[alen] = 0;
		/* exit:N takes 0-255; reset:kbd|cf9 is checked by the test. */
		if (t->run == test_exit && (parse_u64(arg, alen, &v) || v > 255))
			return NULL;
		return t;
	}
	return NULL;
}

/* Validates every name first, so a typo exits 2 before anything runs. */
static void check_list(const char *list, size_t len)
{
	char arg[TK_ARG_MAX];

	for (size_t i = 0; i < len;) {
		size_t n = 0;

		while (i + n < len && list[i + n] != ',')
			n++;
		if (!lookup(list + i, n, arg, sizeof(arg))) {
			kprintf("vessel-test: unknown test \"%.*s\"\n", (int)n, list + i);
			tk_exit(TK_EXIT_USAGE);
		}
		i += n + 1;
	}
}

static void run_list(const char *list, size_t len)
{
	unsigned int passed = 0, failed = 0;
	char arg[TK_ARG_MAX];

	for (size_t i = 0; i < len;) {
		const struct tk_test *t;
		size_t n = 0;

		while (i + n < len && list[i + n] != ',')
			n++;
		t = lookup(list + i, n, arg, sizeof(arg));
		fail_reason[0] = 0;
		if (t->run(arg) == 0) {
			kprintf("vessel-test: %s: PASS\n", t->name);
			passed++;
		} else {
			kprintf("vessel-test: %s: FAIL %s\n", t->name, fail_reason);
			failed++;
		}
		i += n + 1;
	}
	kprintf("vessel-test: result: %u passed, %u failed\n", passed, failed);
	tk_exit(failed ? TK_EXIT_FAIL : TK_EXIT_PASS);
}

/* Called by head.S on the boot stack, interrupts off, our GDT and page tables. */
void kmain(int protocol, uint64_t params)
{
	const char *list;
	size_t len = 0;

	/* The start line comes as early as it can: boot benchmarks time the
	 * first serial byte. The IDT (~1 ms of emulated CPL0 here) waits. */
	console_init();
	boot_info_parse(protocol, params);
	list = find_test_list(boot.cmdline, &len);
	if (!list || !len) {
		kprintf("\nvessel-test: no tests: the command line has no vessel.test=a,b,...\n");
		tk_exit(TK_EXIT_USAGE);
	}
	/* The leading newline ends whatever line firmware left open. */
	kprintf("\nvessel-test: start %.*s\n", (int)len, list);
	idt_init();
	bsp_apic_id = lapic_id();
	check_list(list, len);
	run_list(list, len);
}
