/* pgtable.c - the 4 KiB mapping window (pgtable.h). */
#include "pgtable.h"

#define PG_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define PG_WIN_SLOT 1 /* PML4 index of PG_WIN_BASE */

_Static_assert((PG_WIN_BASE >> 39) == PG_WIN_SLOT, "window base is PML4 slot 1");

extern uint64_t pml4[512]; /* head.S */

static uint64_t win_pdpt[512] __attribute__((aligned(4096)));
static uint64_t win_pd[512] __attribute__((aligned(4096)));
static uint64_t win_pt[PG_WIN_PAGES] __attribute__((aligned(4096)));
static uint8_t pool[PG_POOL_PAGES][PG_SIZE] __attribute__((aligned(4096)));

void pg_window_init(void)
{
	for (unsigned int i = 0; i < PG_WIN_PAGES; i++)
		win_pt[i] = 0;
	win_pd[0] = (uintptr_t)win_pt | PG_TABLE_FLAGS;
	win_pdpt[0] = (uintptr_t)win_pd | PG_TABLE_FLAGS;
	pml4[PG_WIN_SLOT] = (uintptr_t)win_pdpt | PG_TABLE_FLAGS;
	/* Nothing of the window can be cached yet, but a previous run may have
	 * left entries: start from a clean TLB. */
	write_cr3(read_cr3());
}

void pg_window_fini(void)
{
	pml4[PG_WIN_SLOT] = 0;
	write_cr3(read_cr3());
}

volatile uint64_t *pg_pte(uint64_t va)
{
	return &win_pt[((va - PG_WIN_BASE) / PG_SIZE) % PG_WIN_PAGES];
}

void pg_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	*pg_pte(va) = (pa & PTE_ADDR) | flags;
	invlpg(va);
}

uint64_t pg_pool(unsigned int i)
{
	return (uintptr_t)pool[i % PG_POOL_PAGES];
}
