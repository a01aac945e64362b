/* The Linux x86 boot protocol's on-memory structures (Documentation/arch/
 * x86/boot.rst and arch/x86/include/uapi/asm/bootparam.h): the setup
 * header that starts at offset 0x1f1 of a bzImage, and the "zero page"
 * (struct boot_params) a 64-bit loader hands to the kernel in RSI. Only the
 * fields a loader uses are named; the rest are offsets into the page. */
#ifndef VS_VMM_ARCH_X86_BOOTPARAMS_H
#define VS_VMM_ARCH_X86_BOOTPARAMS_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define VS_SETUP_HDR_OFFSET 0x1f1
#define VS_SETUP_SECTOR_SIZE 512
#define VS_BOOT_FLAG 0xaa55
#define VS_HDRS_MAGIC 0x53726448 /* "HdrS" */
#define VS_SETUP_SECTS_LEGACY 4 /* setup_sects == 0 means 4 */
#define VS_MIN_PROTOCOL 0x020c /* 2.12: xloadflags, 64-bit entry */
#define VS_ENTRY64_OFFSET 0x200 /* 64-bit entry = load address + 0x200 */

/* loadflags */
#define VS_LOADED_HIGH 0x01
#define VS_KEEP_SEGMENTS 0x40
#define VS_CAN_USE_HEAP 0x80
/* xloadflags */
#define VS_XLF_KERNEL_64 0x01
#define VS_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

#define VS_LOADER_TYPE_UNDEFINED 0xff

struct vs_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

#define VS_HDR_OFF(f) (VS_SETUP_HDR_OFFSET + offsetof(struct vs_setup_header, f))
static_assert(VS_HDR_OFF(header) == 0x202, "setup header layout");
static_assert(VS_HDR_OFF(version) == 0x206, "setup header layout");
static_assert(VS_HDR_OFF(code32_start) == 0x214, "setup header layout");
static_assert(VS_HDR_OFF(cmd_line_ptr) == 0x228, "setup header layout");
static_assert(VS_HDR_OFF(cmdline_size) == 0x238, "setup header layout");
static_assert(VS_HDR_OFF(pref_address) == 0x258, "setup header layout");
static_assert(VS_HDR_OFF(kernel_info_offset) == 0x268, "setup header layout");

/* E820 entry as stored in the zero page. */
struct vs_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
static_assert(sizeof(struct vs_e820_entry) == 20, "e820 entry is 20 bytes");

#define VS_E820_RAM 1
#define VS_E820_RESERVED 2
#define VS_E820_ACPI 3
#define VS_E820_MAX 128

/* struct boot_params: 4 KiB, fields by offset. */
#define VS_ZP_SIZE 4096
#define VS_ZP_ACPI_RSDP_ADDR 0x070
#define VS_ZP_EXT_RAMDISK_IMAGE 0x0c0
#define VS_ZP_EXT_RAMDISK_SIZE 0x0c4
#define VS_ZP_EXT_CMD_LINE_PTR 0x0c8
#define VS_ZP_ALT_MEM_K 0x1e0
#define VS_ZP_E820_ENTRIES 0x1e8
#define VS_ZP_SENTINEL 0x1ef
#define VS_ZP_HDR VS_SETUP_HDR_OFFSET
#define VS_ZP_E820_TABLE 0x2d0
static_assert(VS_ZP_E820_TABLE + VS_E820_MAX * sizeof(struct vs_e820_entry) <= 0xd00,
	      "e820 table fits before eddbuf");

#endif
