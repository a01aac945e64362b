/* boot.h - what the loader handed us, normalised from boot_params or PVH. */
#ifndef VS_TK_BOOT_H
#define VS_TK_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TK_CMDLINE_MAX 2048 /* == setup header cmdline_size + 1 */
#define TK_E820_MAX 128
#define E820_RAM 1

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct boot_info {
	int protocol; /* TK_BOOT_* (layout.h) */
	uint64_t params; /* physical address of boot_params or hvm_start_info */
	const char *error; /* set if the boot structure was unusable */
	char cmdline[TK_CMDLINE_MAX];
	bool cmdline_truncated;
	uint32_t e820_count;
	struct e820_entry e820[TK_E820_MAX];
	uint64_t initrd_addr, initrd_size; /* size 0: no initrd */
	uint64_t rsdp; /* ACPI RSDP from the loader, 0 if it gave none */
	int loader_type; /* boot_params type_of_loader, -1 under PVH */
};

extern struct boot_info boot;

/* Linker symbols: the guest occupies [_start, _end). */
extern char _start[], _end[];

/* Copies everything we need out of the loader's structure at @params, so that
 * later tests may reuse low memory (the AP trampoline). */
void boot_info_parse(int protocol, uint64_t params);

const char *boot_protocol_name(int protocol);

/* True if [start, end) is covered by usable RAM (possibly several adjacent
 * e820 type-1 entries). */
bool e820_is_ram(uint64_t start, uint64_t end);

#endif
