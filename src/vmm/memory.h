/* Guest RAM: one memfd (shareable, ready for snapshots), mapped once into
 * the VMM, exposed to the guest as up to two regions around the 32-bit
 * MMIO hole: [0, low) and [4 GiB, 4 GiB + high). */
#ifndef VS_VMM_MEMORY_H
#define VS_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_MEM_HOLE_START 0xc0000000ULL /* 3 GiB: 32-bit PCI/MMIO hole, LAPIC, IOAPIC */
#define VS_MEM_HOLE_END	  0x100000000ULL

struct vs_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct vs_guest_mem {
	int fd; /* memfd backing all regions */
	uint8_t *base;
	uint64_t size;
	unsigned nregions;
	struct vs_mem_region regions[2];
};

/* Creates size bytes of guest RAM (page-aligned). Returns 0 or -errno. */
int vs_guest_mem_new(uint64_t size, struct vs_guest_mem **out);
void vs_guest_mem_free(struct vs_guest_mem *mem);

/* Host pointer for [gpa, gpa+len) if it lies entirely inside one RAM region,
 * else NULL. Overflow-safe: len and gpa may come from a guest. */
void *vs_guest_mem_ptr(const struct vs_guest_mem *mem, uint64_t gpa, uint64_t len);

/* RAM below 4 GiB and above it, in bytes. */
uint64_t vs_guest_mem_low(const struct vs_guest_mem *mem);
uint64_t vs_guest_mem_high(const struct vs_guest_mem *mem);

#endif
