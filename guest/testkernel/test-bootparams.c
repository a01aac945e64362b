/* test-bootparams.c - the command line, e820 map, memory size and initrd as handed over. */
#include "arch.h"
#include "boot.h"
#include "console.h"
#include "layout.h"
#include "tests.h"

#define MIB (1024 * 1024)

static void print_map(void)
{
	uint64_t ram = 0, top = 0;

	for (uint32_t i = 0; i < boot.e820_count; i++) {
		const struct e820_entry *e = &boot.e820[i];

		kprintf("bootparams: e820 0x%016lx 0x%016lx %u\n", e->addr, e->addr + e->size,
			e->type);
		if (e->type == E820_RAM) {
			ram += e->size;
			if (e->addr + e->size > top)
				top = e->addr + e->size;
		}
	}
	/* mem_mib: usable RAM (type 1) below and above the hole, rounded up to a
	 * MiB: what the firmware or VMM reserves inside --mem (the 385 KiB of
	 * EBDA+BIOS area, SeaBIOS's 132 KiB) does not then count. */
	kprintf("bootparams: mem_mib=%lu\n", (ram + MIB - 1) / MIB);
	kprintf("bootparams: ram_kib=%lu\n", ram / 1024);
	kprintf("bootparams: ram_top=0x%lx\n", top);
}

/* Returns 0 if no two non-empty entries overlap, else -1 with the pair in *a, *b. */
static int e820_overlap(uint32_t *a, uint32_t *b)
{
	for (uint32_t i = 0; i < boot.e820_count; i++)
		for (uint32_t j = i + 1; j < boot.e820_count; j++) {
			const struct e820_entry *x = &boot.e820[i], *y = &boot.e820[j];

			if (x->size && y->size && x->addr < y->addr + y->size &&
			    y->addr < x->addr + x->size) {
				*a = i;
				*b = j;
				return -1;
			}
		}
	return 0;
}

static int check_map(void)
{
	uint64_t ks = (uintptr_t)_start, ke = (uintptr_t)_end;
	uint32_t a, b;

	if (!boot.e820_count)
		return test_fail("no e820 map");
	if (e820_overlap(&a, &b))
		return test_fail("e820 entries %u and %u overlap", a, b);
	if (!e820_is_ram(0, 1))
		return test_fail("no RAM at address 0");
	if (!e820_is_ram(TK_LOAD_ADDR, TK_LOAD_ADDR + 1))
		return test_fail("no RAM at 1 MiB");
	if (!e820_is_ram(ks, ke))
		return test_fail("the kernel [0x%lx, 0x%lx) is not inside RAM", ks, ke);
	return 0;
}

int test_bootparams(const char *arg)
{
	(void)arg;
	if (boot.error)
		return test_fail("%s", boot.error);
	kprintf("bootparams: protocol=%s params=0x%lx loader=%d\n",
		boot_protocol_name(boot.protocol), boot.params, boot.loader_type);
	kprintf("bootparams: cmdline=\"%s\"\n", boot.cmdline);
	print_map();
	if (boot.initrd_size) {
		uint32_t crc = 0;

		if (e820_is_ram(boot.initrd_addr, boot.initrd_addr + boot.initrd_size))
			crc = crc32_update(0, phys(boot.initrd_addr), boot.initrd_size);
		kprintf("bootparams: initrd addr=0x%lx size=%lu crc32=0x%08x\n", boot.initrd_addr,
			boot.initrd_size, crc);
	} else {
		kprintf("bootparams: initrd none\n");
	}
	if (check_map())
		return -1;
	if (!boot.cmdline[0])
		return test_fail("empty command line");
	if (boot.cmdline_truncated)
		return test_fail("command line longer than %u bytes", TK_CMDLINE_MAX - 1);
	if (boot.initrd_size && !e820_is_ram(boot.initrd_addr, boot.initrd_addr + boot.initrd_size))
		return test_fail("initrd [0x%lx, +%lu) is not inside RAM", boot.initrd_addr,
				 boot.initrd_size);
	if (boot.initrd_addr + boot.initrd_size > 0x100000000ull)
		return test_fail("initrd above 4 GiB is not mapped by this guest");
	return 0;
}
