/* Page-table walks (paging.c), for mmu.c and tests. */
#ifndef VS_EMU_PAGING_H
#define VS_EMU_PAGING_H

#include "emu/internal.h"

#include <stdbool.h>
#include <stdint.h>

/* #PF error code bits (SDM vol. 3A §4.7) */
#define EMU_PF_P (1u << 0)
#define EMU_PF_W (1u << 1)
#define EMU_PF_U (1u << 2)
#define EMU_PF_RSVD (1u << 3)
#define EMU_PF_I (1u << 4)
#define EMU_WALK_FAULT (1u << 31) /* emu_walk failed; the low bits are the #PF error code */

/* The result of a successful walk. */
struct emu_walk {
	uint64_t gpa; /* of the addressed byte */
	unsigned shift; /* page size: 12, 21, 22 or 30 */
	bool user; /* user accesses allowed at every level */
	bool write; /* writes allowed at every level */
	bool nx; /* some level has XD set */
	bool global; /* leaf is global and CR4.PGE is on */
	bool dirty; /* leaf is dirty (set by this walk for writes) */
};

/* Translates lin for an access of kind acc at user (CPL3) or supervisor
 * privilege under the current CR0/CR3/CR4/EFER. Returns 0 and fills *w,
 * or EMU_WALK_FAULT | the #PF error code. Sets accessed/dirty bits only on
 * success. */
uint32_t emu_walk(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
		  struct emu_walk *w);

#endif
