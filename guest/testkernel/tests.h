/* tests.h - the test registry. Each test prints info lines prefixed with its
 * name and returns 0 (PASS) or test_fail(...) (FAIL with a one-line reason). */
#ifndef VS_TK_TESTS_H
#define VS_TK_TESTS_H

#include <stdint.h>

#include "lib.h"

struct tk_test {
	const char *name;
	/* @arg: the text after "name:" (e.g. "7" for exit:7), or "". */
	int (*run)(const char *arg);
	/* 1 if the test takes an argument (name:ARG), TK_ARG_OPTIONAL if it may. */
	int needs_arg;
};

#define TK_ARG_OPTIONAL 2

/* Records the failure reason printed after "FAIL "; returns -1. */
int test_fail(const char *fmt, ...) TK_PRINTF(1, 2);

int test_bootparams(const char *arg);
int test_cpuid(const char *arg);
int test_smp(const char *arg);
int test_pci(const char *arg);
int test_acpi(const char *arg);
int test_acpi_poweroff(const char *arg);
int test_acpi_button(const char *arg);
int test_pvpanic(const char *arg);
int test_timer(const char *arg);
int test_irq(const char *arg);
int test_paging(const char *arg);
int test_bench(const char *arg);
int test_codewalk(const char *arg);
int test_touch(const char *arg);
int test_virtio_rng(const char *arg);
int test_virtio_blk(const char *arg);
int test_virtio_blk_magic(const char *arg);
int test_virtio_blk_bench(const char *arg);
int test_virtio_blk_ab(const char *arg);
int test_virtio_blk_bench_user(const char *arg);
int test_virtio_blk_ab_user(const char *arg);
int test_virtio_net(const char *arg);
int test_virtio_net_bench(const char *arg);
int test_virtio_net_bench_user(const char *arg);
int test_virtio_net_udp(const char *arg);
int test_counter(const char *arg);
int test_sse(const char *arg);

/* The BSP's APIC id, read at boot. */
extern uint32_t bsp_apic_id;

#endif
