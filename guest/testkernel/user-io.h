/* user-io.h - for device loops that run at CPL3 through user_call()
 * (paging.h): the section their code goes in, the TSC read they may use,
 * and the mapping of a page into the user window (virtio-net-bench-user,
 * virtio-blk-bench-user). */
#ifndef VS_TK_USER_IO_H
#define VS_TK_USER_IO_H

#include <stdint.h>

#include "pgtable.h"

/* Code that runs at CPL3 from the user window: no calls out of .text.user,
 * no globals, no out-of-line helpers (hence the inline asm). */
#define USER_TEXT __attribute__((section(".text.user"), noinline, noclone, used))

static inline __attribute__((always_inline)) uint64_t user_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Maps the page of physical address @pa at window page @page for user mode;
 * returns the user address of @pa. */
static inline uint64_t user_map_at(unsigned page, uint64_t pa, uint64_t flags)
{
	pg_map(pg_va(page), pa & ~(PG_SIZE - 1), PTE_P | PTE_US | flags);
	return pg_va(page) + (pa & (PG_SIZE - 1));
}

#endif
