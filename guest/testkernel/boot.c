/* boot.c - reading boot_params (Linux x86 boot protocol) and hvm_start_info (Xen PVH).
 *
 * Offsets are from Documentation/arch/x86/zero-page.rst and boot.rst, and
 * xen/include/public/arch-x86/hvm/start_info.h. */
#include "boot.h"

#include "arch.h"
#include "layout.h"
#include "lib.h"

/* boot_params (the zero page) */
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_ENTRY_SIZE 20
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21C
#define BP_CMD_LINE_PTR 0x228

/* hvm_start_info */
#define PVH_MAGIC 0x336ec578
#define PVH_VERSION 0x04
#define PVH_NR_MODULES 0x0C
#define PVH_MODLIST 0x10
#define PVH_CMDLINE 0x18
#define PVH_RSDP 0x20
#define PVH_MEMMAP 0x28
#define PVH_MEMMAP_ENTRIES 0x30
#define PVH_MOD_ENTRY_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE 24

struct boot_info boot;

static void copy_cmdline(uint64_t pa)
{
	const char *s = phys(pa);
	size_t i;

	if (!pa)
		return;
	for (i = 0; i < TK_CMDLINE_MAX - 1 && s[i]; i++)
		boot.cmdline[i] = s[i];
	boot.cmdline[i] = 0;
	boot.cmdline_truncated = s[i] != 0;
}

static void parse_boot_params(const uint8_t *bp)
{
	uint32_t n = bp[BP_E820_ENTRIES];

	copy_cmdline(get_le32(bp + BP_CMD_LINE_PTR) | (uint64_t)get_le32(bp + BP_EXT_CMD_LINE_PTR)
							      << 32);
	boot.initrd_addr = get_le32(bp + BP_RAMDISK_IMAGE) |
			   (uint64_t)get_le32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	boot.initrd_size = get_le32(bp + BP_RAMDISK_SIZE) |
			   (uint64_t)get_le32(bp + BP_EXT_RAMDISK_SIZE) << 32;
	boot.rsdp = get_le64(bp + BP_ACPI_RSDP_ADDR);
	boot.loader_type = bp[BP_TYPE_OF_LOADER];
	if (n > TK_E820_MAX)
		n = TK_E820_MAX;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;

		boot.e820[i].addr = get_le64(e);
		boot.e820[i].size = get_le64(e + 8);
		boot.e820[i].type = get_le32(e + 16);
	}
	boot.e820_count = n;
}

static void parse_pvh(const uint8_t *si)
{
	uint32_t n;

	boot.loader_type = -1;
	if (get_le32(si) != PVH_MAGIC) {
		boot.error = "bad hvm_start_info magic";
		return;
	}
	copy_cmdline(get_le64(si + PVH_CMDLINE));
	boot.rsdp = get_le64(si + PVH_RSDP);
	if (get_le32(si + PVH_NR_MODULES)) {
		const uint8_t *mod = phys(get_le64(si + PVH_MODLIST));

		boot.initrd_addr = get_le64(mod);
		boot.initrd_size = get_le64(mod + 8);
	}
	if (get_le32(si + PVH_VERSION) < 1) {
		boot.error = "hvm_start_info version 0 has no memory map";
		return;
	}
	n = get_le32(si + PVH_MEMMAP_ENTRIES);
	if (n > TK_E820_MAX)
		n = TK_E820_MAX;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)phys(get_le64(si + PVH_MEMMAP)) +
				   i * PVH_MEMMAP_ENTRY_SIZE;

		boot.e820[i].addr = get_le64(e);
		boot.e820[i].size = get_le64(e + 8);
		boot.e820[i].type = get_le32(e + 16);
	}
	boot.e820_count = n;
}

void boot_info_parse(int protocol, uint64_t params)
{
	boot.protocol = protocol;
	boot.params = params;
	if (protocol == TK_BOOT_PVH)
		parse_pvh(phys(params));
	else
		parse_boot_params(phys(params));
}

const char *boot_protocol_name(int protocol)
{
	switch (protocol) {
	case TK_BOOT_BZIMAGE64:
		return "bzimage64";
	case TK_BOOT_BZIMAGE32:
		return "bzimage32";
	case TK_BOOT_PVH:
		return "pvh";
	}
	return "unknown";
}

bool e820_is_ram(uint64_t start, uint64_t end)
{
	/* Each pass advances start to the end of a RAM entry containing it. */
	for (uint32_t pass = 0; start < end && pass <= boot.e820_count; pass++) {
		bool found = false;

		for (uint32_t i = 0; i < boot.e820_count; i++) {
			const struct e820_entry *e = &boot.e820[i];

			if (e->type == E820_RAM && e->addr <= start && start - e->addr < e->size) {
				start = e->addr + e->size;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return start >= end;
}
