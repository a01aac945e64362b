/* bench.h - the loops of bench.S and their instruction counts (test-bench.c). */
#ifndef VS_TK_BENCH_H
#define VS_TK_BENCH_H

/* bench_buf: the mem loop's words, then the string loops' source and destination. */
#define BENCH_MEM_BYTES (512 * 1024) /* > L1 and L2 of the hosts we run on */
#define BENCH_STR_BYTES (64 * 1024)
#define BENCH_BUF_SIZE (BENCH_MEM_BYTES + 2 * BENCH_STR_BYTES)

#ifndef __ASSEMBLER__
#include <stdint.h>

uint64_t bench_alu_loop(uint64_t n, const uint64_t seed[5]);
uint64_t bench_mem_loop(uint64_t passes, uint64_t *buf, uint64_t words);
uint64_t bench_call_loop(uint64_t n, uint64_t seed);
uint64_t bench_movsb_loop(uint64_t n, void *dst, const void *src, uint64_t len);
uint64_t bench_stosq_loop(uint64_t n, uint64_t *dst, uint64_t words);
uint64_t bench_bytecopy_loop(uint64_t n, void *dst, const void *src, uint64_t len);

/* Instructions per inner iteration, and per outer iteration of nested loops
 * (0 for single loops), counted by the assembler (bench.S). */
extern const uint64_t bench_alu_insns, bench_alu_outer_insns;
extern const uint64_t bench_mem_insns, bench_mem_outer_insns;
extern const uint64_t bench_call_insns, bench_call_outer_insns;
extern const uint64_t bench_movsb_insns, bench_movsb_outer_insns;
extern const uint64_t bench_stosq_insns, bench_stosq_outer_insns;
extern const uint64_t bench_bytecopy_insns, bench_bytecopy_outer_insns;
extern uint8_t bench_buf[BENCH_BUF_SIZE];
#endif

#endif
