/* layout.h - fixed addresses and selectors of the test guest, shared by C and assembly.
 *
 * The guest is not relocatable: it runs where the bzImage protocol loads a
 * protected-mode kernel (0x100000), with its own GDT and identity-mapped page
 * tables covering the low 4 GiB (see head.S). */
#ifndef VS_TK_LAYOUT_H
#define VS_TK_LAYOUT_H

#define TK_LOAD_ADDR 0x100000 /* code32_start == pref_address */
#define TK_ENTRY64_OFFSET 0x200 /* boot protocol: 64-bit entry at load address + 0x200 */
#define TK_KERNEL_INFO_OFFSET 0x100 /* kernel_info (boot protocol 2.15), from the load address */

/* GDT selectors (head.S). */
#define TK_CS32 0x08
#define TK_DS 0x10
#define TK_CS64 0x18
#define TK_GDT_LIMIT (4 * 8 - 1) /* null, CS32, DS, CS64 */

/* How we were entered; passed from head.S to kmain() in %edi. */
#define TK_BOOT_BZIMAGE64 1 /* 64-bit entry, %rsi = boot_params */
#define TK_BOOT_BZIMAGE32 2 /* 32-bit entry (code32_start), %esi = boot_params */
#define TK_BOOT_PVH 3 /* Xen PVH entry, %ebx = hvm_start_info */

/* The AP trampoline page: real-mode code copied here before INIT-SIPI-SIPI.
 * The SIPI vector is TK_TRAMP_BASE >> 12. Must be usable RAM (e820 type 1). */
#define TK_TRAMP_BASE 0x8000

#define TK_BOOT_STACK_SIZE 16384
#define TK_AP_STACK_SIZE 8192
#define TK_MAX_CPUS 64

/* Interrupt vectors we use. 0xF0-0xFF: the remapped (and masked) 8259 PICs
 * and the LAPIC spurious vector. */
#define TK_VEC_TIMER 0x20
#define TK_VEC_UART 0x24
#define TK_VEC_VIRTIO 0x28 /* virtio-rng's MSI-X queue vector */
#define TK_VEC_PIC_BASE 0xF0
#define TK_VEC_SPURIOUS 0xFF

#endif
