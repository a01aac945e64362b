/* What the emu tests that run each case twice share: with generated code
 * (EMU_JIT_ON), then interpreted (EMU_JIT_OFF), the mode set up per case by
 * cmocka's setup hook; and a vCPU run on its own thread. */
#ifndef VS_TEST_EMU_JIT_MODES_H
#define VS_TEST_EMU_JIT_MODES_H

#include "emu/emu.h"
#include "vs-test.h"

static const enum emu_jit_mode jit_on = EMU_JIT_ON, jit_off = EMU_JIT_OFF;
static enum emu_jit_mode test_jit; /* the running case's mode */

static int set_mode(void **state)
{
	test_jit = *(const enum emu_jit_mode *)*state;
	return 0;
}

/* Each case with host code, then interpreted. */
#define BOTH(f)                                                   \
	{ #f "_jit", f, set_mode, NULL, (void *)&jit_on },        \
	{                                                         \
#f "_interp", f, set_mode, NULL, (void *)&jit_off \
	}

/* A vCPU run by run_thread(): its exit and emu_cpu_run()'s result. */
struct runner {
	struct emu_cpu *cpu;
	struct emu_exit exit;
	int r;
};

static inline void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->r = emu_cpu_run(r->cpu, &r->exit);
	return NULL;
}

#endif
