/* pgtable.h - a window of 4 KiB mappings for the tests that change page tables.
 *
 * The boot page tables (head.S) map 0-4 GiB with 2 MiB pages and are never
 * changed. The window is one page table of 512 4 KiB pages at PG_WIN_BASE,
 * hung under PML4 slot 1 with U/S and R/W set at every upper level, so each
 * PTE alone decides what a mapping allows. A pool of zeroed physical pages
 * (identity-mapped like the rest of the kernel) backs the mappings. */
#ifndef VS_TK_PGTABLE_H
#define VS_TK_PGTABLE_H

#include "arch.h"

#include <stdint.h>

#define PG_SIZE 4096ul
#define PG_WIN_BASE 0x0000008000000000ul /* PML4 slot 1: 512 GiB */
#define PG_WIN_PAGES 512
#define PG_POOL_PAGES 16

/* PTE bits (SDM vol. 3 §4.5). */
#define PTE_P (1ul << 0)
#define PTE_RW (1ul << 1)
#define PTE_US (1ul << 2)
#define PTE_A (1ul << 5)
#define PTE_D (1ul << 6)
#define PTE_NX (1ul << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ul

/* #PF error code bits. */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)

/* Installs the (empty) window. pg_window_fini() removes it and reloads CR3. */
void pg_window_init(void);
void pg_window_fini(void);

/* The virtual address of window page @i (0..PG_WIN_PAGES-1). */
static inline uint64_t pg_va(unsigned int i)
{
	return PG_WIN_BASE + i * PG_SIZE;
}

/* The PTE of window address @va (which must lie in the window). */
volatile uint64_t *pg_pte(uint64_t va);

/* Sets the PTE of @va to @pa | @flags and invalidates its TLB entry. */
void pg_map(uint64_t va, uint64_t pa, uint64_t flags);

/* Physical (= kernel virtual) address of pool page @i, zeroed at boot. */
uint64_t pg_pool(unsigned int i);

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#endif
