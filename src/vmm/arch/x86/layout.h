/* Where the x86 loader puts things in guest-physical memory (all below
 * 1 MiB except the kernel and initrd), and the platform's fixed MMIO. */
#ifndef VS_VMM_ARCH_X86_LAYOUT_H
#define VS_VMM_ARCH_X86_LAYOUT_H

#define VS_X86_GDT_ADDR 0x0500
#define VS_X86_ZERO_PAGE 0x7000
#define VS_X86_BOOT_STACK 0x8ff0 /* initial RSP; the protocol leaves it to us */
#define VS_X86_PML4 0x9000
#define VS_X86_PDPT 0xa000
#define VS_X86_PD 0xb000 /* four PDs, 0xb000-0xefff: identity map 0-4 GiB */
#define VS_X86_CMDLINE 0x20000
#define VS_X86_CMDLINE_MAX 0x10000
#define VS_X86_EBDA 0x9fc00
#define VS_X86_LOWMEM_END 0xa0000
#define VS_X86_ACPI_START 0xe0000 /* ACPI tables, RSDP first (acpi.h) */
#define VS_X86_BIOS_START 0xf0000 /* MP floating pointer and table live here */
#define VS_X86_BIOS_END 0x100000
#define VS_X86_HIMEM 0x100000
#define VS_X86_BDA_EBDA_SEG 0x40e /* BIOS data area: EBDA segment */
#define VS_X86_IOAPIC_ADDR 0xfec00000
#define VS_X86_LAPIC_ADDR 0xfee00000
#define VS_X86_MMIO_PAGE 0x1000
#define VS_X86_MIN_MEM (32ULL << 20)

#endif
