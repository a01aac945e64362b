/* Guest RAM: one mapping in the VMM, 2 MiB-aligned, exposed to the guest as
 * up to two regions around the 32-bit MMIO hole: [0, low) and
 * [4 GiB, 4 GiB + high). Three backings, measured by bench/mem.sh under
 * KVM (docs/vm.md "Guest RAM"); VS_MEM_AUTO is the VM's choice (vmm/vm.c:
 * ANON_THP when a disk bypasses the host page cache, else ANON), ANON here:
 * - VS_MEM_ANON: private anonymous memory, 4 KiB pages. Snapshots
 *   write it out and restore by mapping the file MAP_PRIVATE (as
 *   Firecracker does); nothing needs an fd.
 * - VS_MEM_ANON_THP: the same with MADV_HUGEPAGE. Each first write then
 *   allocates and zeroes 2 MiB (with direct compaction on this host's
 *   defrag=madvise), which made first touch slower here, not faster. But
 *   an O_DIRECT transfer into 4 KiB pages scattered in host memory is 2-3x
 *   slower here than into a huge page (one segment per page on the host's
 *   own virtual disk; docs/virtio.md), which is why QEMU madvises its RAM
 *   so and why a VM with a cache=none disk gets it.
 * - VS_MEM_MEMFD: a memfd (mem->fd), for what must share guest RAM with
 *   another process (vhost-user, an out-of-process snapshotter); 4 KiB
 *   pages unless the host enables shmem THP
 *   (/sys/kernel/mm/transparent_hugepage/shmem_enabled, "never" on ours). */
#ifndef VS_VMM_MEMORY_H
#define VS_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_MEM_HOLE_START 0xc0000000ULL /* 3 GiB: 32-bit PCI/MMIO hole, LAPIC, IOAPIC */
#define VS_MEM_HOLE_END 0x100000000ULL

struct vs_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

enum vs_mem_backing { VS_MEM_AUTO, VS_MEM_ANON, VS_MEM_ANON_THP, VS_MEM_MEMFD };

struct vs_guest_mem {
	int fd; /* VS_MEM_MEMFD: the memfd backing all regions; else -1 */
	enum vs_mem_backing backing;
	void *map; /* the whole mapping (base, aligned up to 2 MiB, lies in it) */
	size_t map_size;
	uint8_t *base;
	uint64_t size;
	unsigned nregions;
	struct vs_mem_region regions[2];
};

/* Creates size bytes of guest RAM (page-aligned) with the given backing.
 * Returns 0 or -errno (-EINVAL for a bad size). */
int vs_guest_mem_new_backed(uint64_t size, enum vs_mem_backing backing, struct vs_guest_mem **out);
/* The same with the default backing, VS_MEM_ANON. */
int vs_guest_mem_new(uint64_t size, struct vs_guest_mem **out);
void vs_guest_mem_free(struct vs_guest_mem *mem);

/* Host pointer for [gpa, gpa+len) if it lies entirely inside one RAM region,
 * else NULL. Overflow-safe: len and gpa may come from a guest. */
void *vs_guest_mem_ptr(const struct vs_guest_mem *mem, uint64_t gpa, uint64_t len);

/* RAM below 4 GiB and above it, in bytes. */
uint64_t vs_guest_mem_low(const struct vs_guest_mem *mem);
uint64_t vs_guest_mem_high(const struct vs_guest_mem *mem);

#endif
