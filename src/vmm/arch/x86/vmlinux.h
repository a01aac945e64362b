/* Host-side unpacking of a bzImage's kernel (vmlinux.c). */
#ifndef VS_VMM_ARCH_X86_VMLINUX_H
#define VS_VMM_ARCH_X86_VMLINUX_H

#include <stdint.h>

struct vs_bzimage;
struct vs_boot_plan;
struct vs_guest_mem;
struct vs_err;

/* When bz's payload is XZ-compressed: decompresses it, copies the ELF's
 * PT_LOAD segments to their physical addresses (each inside the plan's
 * [kernel_addr, kernel_end)), zeroes their BSS, and sets *entry to the ELF
 * entry (the kernel's 64-bit startup_64). Returns 0; -ENOTSUP (err
 * untouched) when the payload is not XZ, so the bzImage boots as it is;
 * -EINVAL/-ENOEXEC with *err set for a payload that is XZ but broken.
 * Guest memory may be partly written on failure. */
int vs_vmlinux_unpack(const struct vs_bzimage *bz, const struct vs_boot_plan *plan,
		      struct vs_guest_mem *mem, uint64_t *entry, struct vs_err **err);

#endif
