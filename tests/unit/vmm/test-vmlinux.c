/* Host-side unpacking of a bzImage's XZ payload (vmm/arch/x86/vmlinux.c):
 * a synthetic kernel (a tiny x86-64 ELF, XZ-compressed like the kernel's
 * payload) lands at its physical addresses with its BSS zeroed; broken
 * payloads are refused in one line; a non-XZ payload is left to the
 * guest; and Debian's kernel from the guest kit (skipped without it)
 * unpacks to its startup_64 at 16 MiB with its version string in place. */
#include "vmm/arch/x86/bzimage.h"
#include "vmm/arch/x86/vmlinux.h"
#include "vmm/memory.h"
#include "common/err.h"
#include "common/util.h"

#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define MEM_SIZE (64ull << 20)
#define LOAD_ADDR 0x1000000ull
#define PLAN_END 0x1400000ull

/* An ELF with one PT_LOAD: 16 bytes of "text" at LOAD_ADDR + 0x1000 and
 * 4096 bytes of memory (the rest BSS); entry at paddr. */
static size_t make_elf(uint8_t *buf, uint64_t paddr, uint64_t entry)
{
	Elf64_Ehdr eh = { .e_type = ET_EXEC,
			  .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT,
			  .e_entry = entry,
			  .e_phoff = sizeof(Elf64_Ehdr),
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr),
			  .e_phnum = 1 };
	Elf64_Phdr ph = { .p_type = PT_LOAD,
			  .p_offset = 0x100,
			  .p_vaddr = 0xffffffff81000000ull,
			  .p_paddr = paddr,
			  .p_filesz = 16,
			  .p_memsz = 4096 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memset(buf, 0, 0x110);
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + 0x100, "vessel-vmlinux!", 16);
	return 0x110;
}

struct fake {
	uint8_t kernel[4096];
	struct vs_bzimage bz;
	struct vs_boot_plan plan;
	struct vs_guest_mem *mem;
};

static void fake_init(struct fake *f, const uint8_t *payload, size_t len)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->kernel + 0x40, payload, len);
	f->bz.kernel = f->kernel;
	f->bz.kernel_len = sizeof(f->kernel);
	f->bz.hdr.payload_offset = 0x40;
	f->bz.hdr.payload_length = (uint32_t)len;
	f->plan.kernel_addr = LOAD_ADDR;
	f->plan.kernel_end = PLAN_END;
	assert_int_equal(vs_guest_mem_new(MEM_SIZE, &f->mem), 0);
	memset(vs_guest_mem_ptr(f->mem, LOAD_ADDR, PLAN_END - LOAD_ADDR), 0xaa,
	       PLAN_END - LOAD_ADDR);
}

static size_t xz(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t pos = 0;

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
						 cap),
			 LZMA_OK);
	return pos;
}

static void test_synthetic_kernel(void **state)
{
	uint8_t elf[0x110], z[2048];
	size_t n = xz(elf, make_elf(elf, LOAD_ADDR + 0x1000, LOAD_ADDR + 0x1000), z, sizeof(z));
	struct fake f;
	struct vs_err *err = NULL;
	uint64_t entry = 0;
	uint8_t *m;

	(void)state;
	fake_init(&f, z, n);
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), 0);
	assert_int_equal(entry, LOAD_ADDR + 0x1000);
	m = vs_guest_mem_ptr(f.mem, LOAD_ADDR, 0x3000);
	assert_memory_equal(m + 0x1000, "vessel-vmlinux!", 16);
	for (unsigned i = 16; i < 4096; i++) /* BSS */
		assert_int_equal(m[0x1000 + i], 0);
	assert_int_equal(m[0xfff], 0xaa); /* nothing outside the segment */
	assert_int_equal(m[0x2000], 0xaa);
	vs_guest_mem_free(f.mem);
}

static void test_broken_payloads(void **state)
{
	uint8_t elf[0x110], z[2048];
	size_t n = xz(elf, make_elf(elf, PLAN_END - 0x800, LOAD_ADDR), z, sizeof(z));
	struct fake f;
	struct vs_err *err = NULL;
	uint64_t entry;

	(void)state;
	/* a segment running past the plan's kernel range */
	fake_init(&f, z, n);
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), -ENOEXEC);
	assert_non_null(strstr(err->msg, "segments"));
	vs_err_free(err);
	err = NULL;
	vs_guest_mem_free(f.mem);
	/* truncated XZ data */
	n = xz(elf, make_elf(elf, LOAD_ADDR, LOAD_ADDR), z, sizeof(z));
	fake_init(&f, z, n / 2);
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "XZ"));
	vs_err_free(err);
	err = NULL;
	vs_guest_mem_free(f.mem);
	/* XZ of something that is not an ELF */
	memset(elf, 0x5a, sizeof(elf));
	n = xz(elf, sizeof(elf), z, sizeof(z));
	fake_init(&f, z, n);
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), -ENOEXEC);
	vs_err_free(err);
	err = NULL;
	vs_guest_mem_free(f.mem);
	/* not XZ (gzip magic): left to the guest's decompressor, no error */
	fake_init(&f, (const uint8_t *)"\x1f\x8b\x08\0\0\0\0\0", 8);
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), -ENOTSUP);
	assert_null(err);
	/* payload_length past the file */
	f.bz.hdr.payload_length = 0xffffffff;
	assert_int_equal(vs_vmlinux_unpack(&f.bz, &f.plan, f.mem, &entry, &err), -ENOTSUP);
	vs_guest_mem_free(f.mem);
}

static void test_debian_kernel(void **state)
{
	const char *dir = getenv("VESSEL_GUEST_DIR");
	char *path = dir ? xasprintf("%s/vmlinuz", dir) :
			   xasprintf("%s/.cache/vessel/guest/vmlinuz",
				     getenv("HOME") ? getenv("HOME") : "/root");
	struct vs_err *err = NULL;
	struct vs_guest_mem *mem;
	struct vs_boot_plan p;
	struct vs_bzimage bz;
	uint64_t entry = 0;
	uint8_t *buf = NULL, *k;
	size_t len = 0;

	(void)state;
	if (access(path, R_OK) != 0) {
		free(path);
		skip(); /* no guest kit (make guest) */
	}
	assert_int_equal(vs_read_file(path, 512 * VS_MIB, &buf, &len), 0);
	assert_int_equal(vs_bzimage_parse(buf, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 512 * VS_MIB, 100, 0, &p, &err), 0);
	assert_int_equal(vs_guest_mem_new(512 * VS_MIB, &mem), 0);
	assert_int_equal(vs_vmlinux_unpack(&bz, &p, mem, &entry, &err), 0);
	assert_int_equal(entry, 0x1000000); /* phys_startup_64 */
	k = vs_guest_mem_ptr(mem, p.kernel_addr, p.kernel_end - p.kernel_addr);
	assert_non_null(memmem(k, p.kernel_end - p.kernel_addr, "Linux version 6.", 16));
	vs_guest_mem_free(mem);
	free(buf);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_kernel),
		cmocka_unit_test(test_broken_payloads),
		cmocka_unit_test(test_debian_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
