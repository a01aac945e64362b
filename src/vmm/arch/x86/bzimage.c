/* bzImage parsing, placement and loading.
 *
 * Map:
 *   parse   - header checks: boot flag, HdrS, protocol >= 2.12, 64-bit entry
 *   plan    - kernel at pref_address (or aligned up), command line, initrd
 *             below min(initrd_addr_max, RAM), nothing overlapping
 *   e820    - the memory map the zero page carries
 *   load    - copies and the zero page */
#include "vmm/arch/x86/bzimage.h"
#include "vmm/arch/x86/layout.h"
#include "vmm/memory.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_LOAD_ADDR 0x100000
#define LEGACY_INITRD_MAX 0x37ffffff /* initrd_addr_max before protocol 2.03 */
#define LEGACY_CMDLINE_SIZE 256 /* cmdline_size before protocol 2.06 */
#define PAGE_SIZE 4096
/* Where the setup header must reach (one past its last field) for the
 * protocol versions we accept: handover_offset (2.11) and
 * kernel_info_offset (2.15), boot.rst "The Real-Mode Kernel Header". */
#define HDR_END_2_12 (VS_HDR_OFF(handover_offset) + 4)
#define HDR_END_2_15 (VS_HDR_OFF(kernel_info_offset) + 4)
/* A kernel is loaded below the 32-bit hole (vmm/memory.h); a pref_address at
 * or past it can never be honoured whatever --mem is. */
#define LOAD_ADDR_LIMIT 0xc0000000ULL

/* The jump at 0x200 says where the header ends; fields past that end are
 * not the kernel's (a loader writing cmd_line_ptr or ramdisk_image there
 * would be ignored by it), so a short header for the claimed version is a
 * broken image. */
static int check_hdr_end(const struct vs_setup_header *h, size_t hdr_end, struct vs_err **err)
{
	size_t need = h->version >= 0x020f ? HDR_END_2_15 : HDR_END_2_12;

	if (hdr_end >= need)
		return 0;
	return vs_err_set(
		err, -ENOEXEC,
		"bzImage header ends at 0x%zx (jump at 0x200) but protocol %u.%02u needs it to reach 0x%zx",
		hdr_end, h->version >> 8, h->version & 0xff, need);
}

int vs_bzimage_parse(const uint8_t *buf, size_t len, struct vs_bzimage *out, struct vs_err **err)
{
	struct vs_bzimage bz = { .file = buf, .file_len = len };
	size_t hdr_end;
	unsigned sects;
	int r;

	if (len < VS_SETUP_HDR_OFFSET + sizeof(bz.hdr))
		return vs_err_set(err, -ENOEXEC, "not a bzImage: file too small (%zu bytes)", len);
	memcpy(&bz.hdr, buf + VS_SETUP_HDR_OFFSET, sizeof(bz.hdr));
	if (bz.hdr.boot_flag != VS_BOOT_FLAG || bz.hdr.header != VS_HDRS_MAGIC)
		return vs_err_set(err, -ENOEXEC, "not a bzImage: no Linux boot header (HdrS)");
	if (bz.hdr.version < VS_MIN_PROTOCOL)
		return vs_err_set(
			err, -ENOEXEC,
			"bzImage boot protocol %u.%02u is too old (64-bit entry needs 2.12)",
			bz.hdr.version >> 8, bz.hdr.version & 0xff);
	if (!(bz.hdr.xloadflags & VS_XLF_KERNEL_64))
		return vs_err_set(err, -ENOEXEC,
				  "bzImage has no 64-bit entry point (XLF_KERNEL_64)");
	if (!(bz.hdr.loadflags & VS_LOADED_HIGH))
		return vs_err_set(err, -ENOEXEC, "bzImage is a zImage (not LOADED_HIGH)");
	/* The header's real length is given by the jump at 0x200. */
	hdr_end = 0x202 + buf[0x201];
	if (hdr_end > len)
		return vs_err_set(err, -ENOEXEC, "bzImage header runs past the file");
	if ((r = check_hdr_end(&bz.hdr, hdr_end, err)) < 0)
		return r;
	sects = bz.hdr.setup_sects ? bz.hdr.setup_sects : VS_SETUP_SECTS_LEGACY;
	bz.setup_len = (size_t)(sects + 1) * VS_SETUP_SECTOR_SIZE;
	if (bz.setup_len >= len)
		return vs_err_set(err, -ENOEXEC, "bzImage setup (%zu bytes) fills the whole file",
				  bz.setup_len);
	bz.kernel = buf + bz.setup_len;
	bz.kernel_len = len - bz.setup_len;
	if (bz.kernel_len <= VS_ENTRY64_OFFSET)
		return vs_err_set(
			err, -ENOEXEC,
			"bzImage kernel (%zu bytes after setup_sects) ends before its 64-bit entry point at offset 0x%x",
			bz.kernel_len, VS_ENTRY64_OFFSET);
	if (bz.hdr.kernel_version) {
		size_t v = (size_t)bz.hdr.kernel_version + 0x200;

		if (v < bz.setup_len) {
			size_t n = VS_MIN(sizeof(bz.version) - 1, bz.setup_len - v);

			memcpy(bz.version, buf + v, n);
			bz.version[strnlen(bz.version, n)] = '\0';
		}
	}
	*out = bz;
	return 0;
}

bool vs_bzimage_is_testkernel(const struct vs_bzimage *bz)
{
	return strncmp(bz->version, "vessel-testkernel", 17) == 0;
}

/* Sets *out to where the kernel goes: pref_address (at least 1 MiB), aligned
 * up to kernel_alignment for a relocatable kernel. Refuses an address at or
 * past LOAD_ADDR_LIMIT, so nothing after this can wrap. */
static int load_address(const struct vs_bzimage *bz, uint64_t *out, struct vs_err **err)
{
	uint64_t addr = bz->hdr.version >= 0x020a ? bz->hdr.pref_address : DEFAULT_LOAD_ADDR;
	uint64_t align = bz->hdr.kernel_alignment;

	if (addr < DEFAULT_LOAD_ADDR)
		addr = DEFAULT_LOAD_ADDR;
	if (addr >= LOAD_ADDR_LIMIT)
		return vs_err_set(
			err, -ENOEXEC,
			"bzImage pref_address 0x%llx is not below 3 GiB, where a kernel must be loaded",
			(unsigned long long)addr);
	/* A relocatable kernel must sit on a kernel_alignment boundary. */
	if (bz->hdr.relocatable_kernel && align && !(align & (align - 1))) {
		if (align >= LOAD_ADDR_LIMIT || VS_ALIGN_UP(addr, align) >= LOAD_ADDR_LIMIT)
			return vs_err_set(
				err, -ENOEXEC,
				"bzImage kernel_alignment 0x%llx puts the kernel above 3 GiB",
				(unsigned long long)align);
		addr = VS_ALIGN_UP(addr, align);
	}
	*out = addr;
	return 0;
}

int vs_bzimage_plan(const struct vs_bzimage *bz, uint64_t mem_low, size_t cmdline_len,
		    uint64_t initrd_len, struct vs_boot_plan *out, struct vs_err **err)
{
	struct vs_boot_plan p = { .zero_page = VS_X86_ZERO_PAGE, .cmdline_addr = VS_X86_CMDLINE };
	uint64_t need = VS_MAX((uint64_t)bz->hdr.init_size, bz->kernel_len);
	uint64_t top;

	p.cmdline_max = bz->hdr.version >= 0x0206 ? (uint64_t)bz->hdr.cmdline_size + 1 :
						    LEGACY_CMDLINE_SIZE;
	p.cmdline_max = VS_MIN(p.cmdline_max, (uint64_t)VS_X86_CMDLINE_MAX);
	if (cmdline_len + 1 > p.cmdline_max)
		return vs_err_set(
			err, -E2BIG,
			"kernel command line is %zu bytes; this kernel takes at most %llu",
			cmdline_len, (unsigned long long)p.cmdline_max - 1);
	if (load_address(bz, &p.kernel_addr, err) < 0)
		return -ENOEXEC;
	p.kernel_end = p.kernel_addr + need;
	p.entry = p.kernel_addr + VS_ENTRY64_OFFSET;
	if (p.kernel_end > mem_low)
		return vs_err_set(
			err, -ENOMEM,
			"guest memory too small: the kernel needs %llu MiB below 3 GiB (at 0x%llx, init_size %u)",
			(unsigned long long)((p.kernel_end + VS_MIB - 1) / VS_MIB),
			(unsigned long long)p.kernel_addr, bz->hdr.init_size);
	if (!initrd_len) {
		*out = p;
		return 0;
	}
	top = bz->hdr.version >= 0x0203 ? (uint64_t)bz->hdr.initrd_addr_max : LEGACY_INITRD_MAX;
	top = VS_MIN(top + 1, mem_low);
	if (initrd_len > top || VS_ALIGN_DOWN(top - initrd_len, PAGE_SIZE) < p.kernel_end)
		return vs_err_set(
			err, -ENOMEM,
			"initrd (%llu bytes) does not fit in guest memory above the kernel",
			(unsigned long long)initrd_len);
	p.initrd_addr = VS_ALIGN_DOWN(top - initrd_len, PAGE_SIZE);
	p.initrd_size = initrd_len;
	*out = p;
	return 0;
}

static unsigned e820_add(struct vs_e820_entry *e, unsigned n, unsigned max, uint64_t addr,
			 uint64_t end, uint32_t type)
{
	if (n < max && end > addr)
		e[n++] = (struct vs_e820_entry){ addr, end - addr, type };
	return n;
}

unsigned vs_x86_e820_build(uint64_t mem_low, uint64_t mem_high, struct vs_e820_entry *e,
			   unsigned max)
{
	unsigned n = 0;

	n = e820_add(e, n, max, 0, VS_X86_EBDA, VS_E820_RAM);
	n = e820_add(e, n, max, VS_X86_EBDA, VS_X86_LOWMEM_END, VS_E820_RESERVED);
	n = e820_add(e, n, max, VS_X86_ACPI_START, VS_X86_BIOS_END, VS_E820_RESERVED);
	n = e820_add(e, n, max, VS_X86_HIMEM, mem_low, VS_E820_RAM);
	n = e820_add(e, n, max, VS_X86_IOAPIC_ADDR, VS_X86_IOAPIC_ADDR + VS_X86_MMIO_PAGE,
		     VS_E820_RESERVED);
	n = e820_add(e, n, max, VS_X86_LAPIC_ADDR, VS_X86_LAPIC_ADDR + VS_X86_MMIO_PAGE,
		     VS_E820_RESERVED);
	if (mem_high)
		n = e820_add(e, n, max, VS_MEM_HOLE_END, VS_MEM_HOLE_END + mem_high, VS_E820_RAM);
	return n;
}

static void zp_put32(uint8_t *zp, unsigned off, uint32_t v)
{
	memcpy(zp + off, &v, sizeof(v));
}

/* Fills the zero page: the file's setup header, then what a loader sets. */
static void fill_zero_page(uint8_t *zp, const struct vs_bzimage *bz, const struct vs_boot_plan *p,
			   const struct vs_guest_mem *mem)
{
	struct vs_setup_header h = bz->hdr;
	struct vs_e820_entry map[VS_E820_MAX];
	size_t hdr_len = 0x202 + bz->file[0x201] - VS_SETUP_HDR_OFFSET;
	unsigned n;

	memset(zp, 0, VS_ZP_SIZE);
	memcpy(zp + VS_ZP_HDR, bz->file + VS_SETUP_HDR_OFFSET,
	       VS_MIN(hdr_len, (size_t)(VS_ZP_E820_TABLE - VS_ZP_HDR)));
	h.type_of_loader = VS_LOADER_TYPE_UNDEFINED;
	h.loadflags |= VS_CAN_USE_HEAP;
	h.loadflags &= ~VS_KEEP_SEGMENTS;
	h.heap_end_ptr = 0xfe00;
	h.code32_start = (uint32_t)p->kernel_addr;
	h.cmd_line_ptr = (uint32_t)p->cmdline_addr;
	h.ramdisk_image = (uint32_t)p->initrd_addr;
	h.ramdisk_size = (uint32_t)p->initrd_size;
	memcpy(zp + VS_ZP_HDR, &h, VS_MIN(sizeof(h), hdr_len));
	zp_put32(zp, VS_ZP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_addr >> 32));
	zp_put32(zp, VS_ZP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
	zp_put32(zp, VS_ZP_EXT_CMD_LINE_PTR, (uint32_t)(p->cmdline_addr >> 32));
	zp_put32(zp, VS_ZP_ALT_MEM_K, (uint32_t)((vs_guest_mem_low(mem) - VS_X86_HIMEM) >> 10));
	n = vs_x86_e820_build(vs_guest_mem_low(mem), vs_guest_mem_high(mem), map, VS_E820_MAX);
	zp[VS_ZP_E820_ENTRIES] = (uint8_t)n;
	memcpy(zp + VS_ZP_E820_TABLE, map, n * sizeof(map[0]));
}

int vs_bzimage_load(const struct vs_bzimage *bz, const struct vs_boot_plan *plan,
		    struct vs_guest_mem *mem, const char *cmdline, const uint8_t *initrd,
		    struct vs_err **err)
{
	size_t clen = strlen(cmdline);
	uint8_t *kernel = vs_guest_mem_ptr(mem, plan->kernel_addr, bz->kernel_len);
	uint8_t *cl = vs_guest_mem_ptr(mem, plan->cmdline_addr, clen + 1);
	uint8_t *zp = vs_guest_mem_ptr(mem, plan->zero_page, VS_ZP_SIZE);
	uint8_t *rd = NULL;

	if (plan->initrd_size)
		rd = vs_guest_mem_ptr(mem, plan->initrd_addr, plan->initrd_size);
	if (!kernel || !cl || !zp || (plan->initrd_size && !rd))
		return vs_err_set(err, -ENOMEM, "boot plan does not fit in guest memory");
	memcpy(kernel, bz->kernel, bz->kernel_len);
	memcpy(cl, cmdline, clen + 1);
	if (rd && initrd)
		memcpy(rd, initrd, plan->initrd_size);
	fill_zero_page(zp, bz, plan, mem);
	return 0;
}
