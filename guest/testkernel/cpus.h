/* cpus.h - finding the CPUs: MP table first, ACPI MADT as fallback. */
#ifndef VS_TK_CPUS_H
#define VS_TK_CPUS_H

#include <stdint.h>

#include "layout.h"

struct cpu_list {
	const char *source; /* "mptable", "mptable-default", "madt" */
	unsigned int count;
	uint32_t apic_id[TK_MAX_CPUS];
	int bsp; /* index of the boot processor as the table marks it, or -1 */
};

/* Fills @out with the enabled CPUs: from the MP table, unless it lists at
 * most one CPU and the ACPI MADT lists more. Returns 0, or -1 if neither
 * was found. */
int cpus_find(struct cpu_list *out);

#endif
