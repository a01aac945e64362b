/* Profiling (emu.h "Profiling"): per-vCPU open-addressing tables of
 * instruction counts by handler and by block RIP, filled by the profiled
 * dispatch loop (exec.c) and read when the vCPU has stopped. An empty slot
 * has count 0 (every add is of at least one instruction). */
#include "emu/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned slot_of(uint64_t key, unsigned nslots)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (unsigned)key & (nslots - 1);
}

void emu_prof_add(struct emu_prof_slot *tab, unsigned nslots, uint64_t *other, uint64_t key,
		  uint64_t count)
{
	unsigned i = slot_of(key, nslots);

	for (unsigned probe = 0; probe < 16; probe++, i = (i + 1) & (nslots - 1)) {
		if (tab[i].count && tab[i].key != key)
			continue;
		tab[i].key = key;
		tab[i].count += count;
		return;
	}
	*other += count;
}

int emu_cpu_set_profile(struct emu_cpu *cpu, bool on)
{
	if (!on) {
		free(cpu->prof);
		cpu->prof = NULL;
		return 0;
	}
	if (!cpu->prof && !(cpu->prof = calloc(1, sizeof(*cpu->prof))))
		return -ENOMEM;
	return 0;
}

/* Keeps out[0..n) as the n largest seen so far (insertion into a sorted
 * prefix: n is small, the tables are scanned once). */
static size_t keep_top(struct emu_prof_entry *out, size_t have, size_t n, struct emu_prof_entry e)
{
	size_t i;

	if (!e.count || (have == n && out[n - 1].count >= e.count))
		return have;
	i = have < n ? have++ : n - 1;
	while (i > 0 && out[i - 1].count < e.count) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = e;
	return have;
}

size_t emu_cpu_profile(struct emu_cpu *cpu, enum emu_prof_table table, struct emu_prof_entry *out,
		       size_t n)
{
	const struct emu_prof *p = cpu->prof;
	const struct emu_prof_slot *tab;
	unsigned nslots;
	uint64_t other;
	size_t have = 0;

	if (!p || !n)
		return 0;
	if (table == EMU_PROF_HANDLERS) {
		tab = p->handlers, nslots = EMU_PROF_HANDLER_SLOTS, other = p->handlers_other;
	} else {
		tab = p->rips, nslots = EMU_PROF_RIP_SLOTS, other = p->rips_other;
	}
	for (unsigned i = 0; i < nslots; i++)
		have = keep_top(out, have, n,
				(struct emu_prof_entry){ .key = tab[i].key,
							 .count = tab[i].count });
	have = keep_top(out, have, n, (struct emu_prof_entry){ EMU_PROF_OTHER, other });
	return have;
}
