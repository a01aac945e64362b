/* bzImage loader for the Linux x86 64-bit boot protocol (boot.rst §"64-bit
 * boot protocol"). Parsing and placement are pure functions of the file and
 * the memory size, so they are unit-tested against real kernels. */
#ifndef VS_VMM_ARCH_X86_BZIMAGE_H
#define VS_VMM_ARCH_X86_BZIMAGE_H

#include "vmm/arch/x86/bootparams.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_guest_mem;

struct vs_bzimage {
	struct vs_setup_header hdr; /* copy of the file's header */
	const uint8_t *file; /* not owned */
	size_t file_len;
	size_t setup_len; /* (setup_sects + 1) * 512 */
	const uint8_t *kernel; /* protected-mode part, inside file */
	size_t kernel_len;
	char version[128]; /* kernel_version string, "" if absent */
};

struct vs_boot_plan {
	uint64_t kernel_addr; /* where the protected-mode kernel is copied */
	uint64_t kernel_end; /* kernel_addr + max(init_size, kernel_len) */
	uint64_t entry; /* 64-bit entry point */
	uint64_t cmdline_addr;
	uint64_t cmdline_max; /* including the NUL */
	uint64_t initrd_addr; /* 0 if none */
	uint64_t initrd_size;
	uint64_t zero_page;
};

/* Validates buf as a 64-bit-bootable bzImage: magic, protocol >= 2.12,
 * XLF_KERNEL_64, a header (jump at 0x200) as long as its version needs, a
 * kernel past its 64-bit entry. On success *out points into buf (which must
 * outlive it). Returns 0 or -ENOEXEC with *err set (one line naming the
 * field). */
int vs_bzimage_parse(const uint8_t *buf, size_t len, struct vs_bzimage *out, struct vs_err **err);

/* True for vessel's own test guest (kernel_version "vessel-testkernel..."). */
bool vs_bzimage_is_testkernel(const struct vs_bzimage *bz);

/* Chooses addresses for kernel, command line and initrd in RAM below
 * mem_low bytes. Returns 0 or -errno with *err set: -E2BIG (command line),
 * -ENOMEM (does not fit in mem_low), -ENOEXEC (pref_address or
 * kernel_alignment put the kernel at or above 3 GiB). */
int vs_bzimage_plan(const struct vs_bzimage *bz, uint64_t mem_low, size_t cmdline_len,
		    uint64_t initrd_len, struct vs_boot_plan *out, struct vs_err **err);

/* Builds the e820 map for the given RAM split; returns the number of entries. */
unsigned vs_x86_e820_build(uint64_t mem_low, uint64_t mem_high, struct vs_e820_entry *e,
			   unsigned max);

/* Copies kernel, command line, initrd and a filled zero page into guest
 * memory following plan. initrd NULL: the caller puts the initrd's
 * plan->initrd_size bytes at plan->initrd_addr itself (vmm/load.c reads it
 * there from the file). Returns 0 or -errno with *err set. */
int vs_bzimage_load(const struct vs_bzimage *bz, const struct vs_boot_plan *plan,
		    struct vs_guest_mem *mem, const char *cmdline, const uint8_t *initrd,
		    struct vs_err **err);

#endif
