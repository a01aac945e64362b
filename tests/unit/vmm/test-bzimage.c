/* Unit tests for the bzImage loader: header checks on crafted images,
 * placement rules, the e820 map and the zero page. test-bzimage-debian.c does
 * the same against the real Debian kernel. */
#include "vmm/arch/x86/bzimage.h"
#include "vmm/arch/x86/layout.h"
#include "vmm/memory.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define IMG_SETUP_SECTS 3
#define IMG_KERNEL_LEN 8192

/* A minimal valid bzImage: protocol 2.15, 64-bit, relocatable, 2 MiB aligned. */
static uint8_t *make_image(size_t *len)
{
	size_t setup = (IMG_SETUP_SECTS + 1) * 512;
	uint8_t *b = xzalloc(setup + IMG_KERNEL_LEN);
	struct vs_setup_header h = {
		.setup_sects = IMG_SETUP_SECTS,
		.boot_flag = VS_BOOT_FLAG,
		.header = VS_HDRS_MAGIC,
		.version = 0x020f,
		.loadflags = VS_LOADED_HIGH,
		.code32_start = 0x100000,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.relocatable_kernel = 1,
		.xloadflags = VS_XLF_KERNEL_64,
		.cmdline_size = 2047,
		.pref_address = 0x1000000,
		.init_size = 0x800000,
		.kernel_version = 0x400 - 0x200,
	};

	memcpy(b + VS_SETUP_HDR_OFFSET, &h, sizeof(h));
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x26c */
	strcpy((char *)b + 0x400, "6.1.0-test (builder@example) #1 SMP");
	memset(b + setup, 0x90, IMG_KERNEL_LEN);
	*len = setup + IMG_KERNEL_LEN;
	return b;
}

static void test_parse_valid(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	struct vs_bzimage bz;
	struct vs_err *err = NULL;

	(void)state;
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_null(err);
	assert_int_equal(bz.setup_len, (IMG_SETUP_SECTS + 1) * 512);
	assert_int_equal(bz.kernel_len, IMG_KERNEL_LEN);
	assert_string_equal(bz.version, "6.1.0-test (builder@example) #1 SMP");
	assert_false(vs_bzimage_is_testkernel(&bz));
	strcpy((char *)img + 0x400, "vessel-testkernel 1");
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_true(vs_bzimage_is_testkernel(&bz));
	free(img);
}

static void expect_reject(uint8_t *img, size_t len, const char *needle)
{
	struct vs_bzimage bz;
	struct vs_err *err = NULL;

	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), -ENOEXEC);
	assert_non_null(err);
	if (!strstr(err->msg, needle))
		fail_msg("message '%s' lacks '%s'", err->msg, needle);
	vs_err_free(err);
}

static void test_parse_rejects(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	uint16_t v;

	(void)state;
	expect_reject(img, 100, "too small");
	img[0x202] = 'X';
	expect_reject(img, len, "HdrS");
	img[0x202] = 'H';
	v = 0x020b;
	memcpy(img + 0x206, &v, 2);
	expect_reject(img, len, "too old");
	v = 0x020f;
	memcpy(img + 0x206, &v, 2);
	img[0x236] = 0;
	expect_reject(img, len, "64-bit");
	img[0x236] = VS_XLF_KERNEL_64;
	img[0x1f1] = 200; /* setup runs past the file */
	expect_reject(img, len, "setup");
	free(img);
}

static void test_plan_placement(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_err *err = NULL;

	(void)state;
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 256 * VS_MIB, 10, 1000000, &p, &err), 0);
	assert_int_equal(p.kernel_addr, 0x1000000);
	assert_int_equal(p.entry, 0x1000200);
	assert_int_equal(p.kernel_end, 0x1800000);
	assert_int_equal(p.cmdline_max, 2048);
	assert_int_equal(p.initrd_addr % 4096, 0);
	assert_true(p.initrd_addr >= p.kernel_end);
	assert_true(p.initrd_addr + p.initrd_size <= 256 * VS_MIB);
	/* the initrd goes as high as it can */
	assert_true(256 * VS_MIB - (p.initrd_addr + p.initrd_size) < 4096);
	/* initrd_addr_max caps it */
	img[0x22c] = 0xff;
	img[0x22d] = 0xff;
	img[0x22e] = 0xff;
	img[0x22f] = 0x03; /* 64 MiB - 1 */
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 256 * VS_MIB, 10, 1000000, &p, &err), 0);
	assert_true(p.initrd_addr + p.initrd_size <= 64 * VS_MIB);
	free(img);
}

static void test_plan_errors(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_err *err = NULL;

	(void)state;
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 256 * VS_MIB, 2048, 0, &p, &err), -E2BIG);
	assert_non_null(strstr(err->msg, "at most 2047"));
	vs_err_free(err);
	err = NULL;
	assert_int_equal(vs_bzimage_plan(&bz, 20 * VS_MIB, 10, 0, &p, &err), -ENOMEM);
	assert_non_null(strstr(err->msg, "too small"));
	vs_err_free(err);
	err = NULL;
	assert_int_equal(vs_bzimage_plan(&bz, 32 * VS_MIB, 10, 16 * VS_MIB, &p, &err), -ENOMEM);
	assert_non_null(strstr(err->msg, "initrd"));
	vs_err_free(err);
	free(img);
}

#define PUT_FIELD(img, f, v)                                           \
	do {                                                           \
		__typeof__(((struct vs_setup_header *)0)->f) v_ = (v); \
		memcpy((img) + VS_HDR_OFF(f), &v_, sizeof(v_));        \
	} while (0)

/* Plans img for 256 MiB and expects -ENOEXEC with a message holding needle. */
static void expect_plan_reject(uint8_t *img, size_t len, const char *needle)
{
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_err *err = NULL;

	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 256 * VS_MIB, 10, 4096, &p, &err), -ENOEXEC);
	assert_non_null(err);
	if (!strstr(err->msg, needle) || strchr(err->msg, '\n'))
		fail_msg("message '%s' lacks '%s'", err->msg, needle);
	vs_err_free(err);
}

/* Regression (issue 11 item 10): a pref_address near 2^64 wrapped when
 * aligned up and loaded the kernel at 0, over the zero page. */
static void test_plan_pref_address_wrap(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);

	(void)state;
	PUT_FIELD(img, pref_address, 0xffffffffffe00001ULL);
	expect_plan_reject(img, len, "pref_address");
	PUT_FIELD(img, relocatable_kernel, 0);
	expect_plan_reject(img, len, "pref_address");
	PUT_FIELD(img, pref_address, 0xc0000000ULL);
	expect_plan_reject(img, len, "pref_address");
	/* relocatable, just below 3 GiB: aligning up would cross it */
	PUT_FIELD(img, relocatable_kernel, 1);
	PUT_FIELD(img, pref_address, 0xbfe00001ULL);
	expect_plan_reject(img, len, "kernel_alignment");
	free(img);
}

/* Regression: "needs N MiB" overflowed for a kernel placed high with a huge
 * init_size; the figure must be the real one. */
static void test_plan_needs_mib(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_err *err = NULL;

	(void)state;
	PUT_FIELD(img, relocatable_kernel, 0);
	PUT_FIELD(img, pref_address, 0xbff00000ULL);
	PUT_FIELD(img, init_size, 0xffffffffU);
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, 256 * VS_MIB, 10, 0, &p, &err), -ENOMEM);
	/* (0xbff00000 + 0xffffffff) rounded up to MiB = 7167 MiB */
	if (!strstr(err->msg, "needs 7167 MiB"))
		fail_msg("message '%s'", err->msg);
	vs_err_free(err);
	free(img);
}

/* Regression: a kernel that ends before its 64-bit entry booted into zeroes. */
static void test_parse_kernel_before_entry(void **state)
{
	size_t len, setup = (IMG_SETUP_SECTS + 1) * 512;
	uint8_t *img = make_image(&len);

	(void)state;
	expect_reject(img, setup + VS_ENTRY64_OFFSET, "64-bit entry point");
	expect_reject(img, setup + 1, "64-bit entry point");
	free(img);
}

/* Regression: a header (jump at 0x200) ending before the fields its
 * version defines made the loader's cmd_line_ptr/ramdisk fields vanish. */
static void test_parse_short_header(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	struct vs_bzimage bz;
	struct vs_err *err = NULL;

	(void)state;
	img[0x201] = 0x66; /* ends at 0x268: enough for 2.12-2.14, not 2.15 */
	expect_reject(img, len, "header ends at 0x268");
	PUT_FIELD(img, version, 0x020c);
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	img[0x201] = 0x30; /* ends at 0x232: before xloadflags */
	expect_reject(img, len, "protocol 2.12 needs it to reach 0x268");
	free(img);
}

static void test_e820(void **state)
{
	struct vs_e820_entry e[VS_E820_MAX];
	unsigned n;
	uint64_t ram = 0;

	(void)state;
	n = vs_x86_e820_build(VS_MEM_HOLE_START, 1 * VS_GIB, e, VS_E820_MAX);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		if (e[i].type == VS_E820_RAM)
			ram += e[i].size;
	}
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].type, VS_E820_RAM);
	assert_int_equal(e[n - 1].addr, VS_MEM_HOLE_END);
	assert_int_equal(e[n - 1].size, 1 * VS_GIB);
	/* everything but the legacy hole 0x9fc00-0x100000 is RAM */
	assert_int_equal(ram, VS_MEM_HOLE_START + VS_GIB - (0x100000 - 0x9fc00));
}

static void test_load_zero_page(void **state)
{
	size_t len;
	uint8_t *img = make_image(&len);
	uint8_t initrd[5000];
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_guest_mem *mem;
	struct vs_err *err = NULL;
	struct vs_setup_header h;
	uint8_t *zp;

	(void)state;
	memset(initrd, 0xab, sizeof(initrd));
	assert_int_equal(vs_guest_mem_new(64 * VS_MIB, &mem), 0);
	assert_int_equal(vs_bzimage_parse(img, len, &bz, &err), 0);
	assert_int_equal(vs_bzimage_plan(&bz, vs_guest_mem_low(mem), 9, sizeof(initrd), &p, &err),
			 0);
	assert_int_equal(vs_bzimage_load(&bz, &p, mem, "console=x", initrd, &err), 0);
	zp = vs_guest_mem_ptr(mem, VS_X86_ZERO_PAGE, VS_ZP_SIZE);
	memcpy(&h, zp + VS_SETUP_HDR_OFFSET, sizeof(h));
	assert_int_equal(h.header, VS_HDRS_MAGIC);
	assert_int_equal(h.type_of_loader, VS_LOADER_TYPE_UNDEFINED);
	assert_int_equal(h.cmd_line_ptr, VS_X86_CMDLINE);
	assert_int_equal(h.ramdisk_image, p.initrd_addr);
	assert_int_equal(h.ramdisk_size, sizeof(initrd));
	assert_string_equal((char *)vs_guest_mem_ptr(mem, VS_X86_CMDLINE, 10), "console=x");
	assert_memory_equal(vs_guest_mem_ptr(mem, p.initrd_addr, sizeof(initrd)), initrd,
			    sizeof(initrd));
	assert_int_equal(*(uint8_t *)vs_guest_mem_ptr(mem, p.kernel_addr, 1), 0x90);
	assert_true(zp[VS_ZP_E820_ENTRIES] >= 4);
	vs_guest_mem_free(mem);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_plan_placement),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_plan_pref_address_wrap),
		cmocka_unit_test(test_plan_needs_mib),
		cmocka_unit_test(test_parse_kernel_before_entry),
		cmocka_unit_test(test_parse_short_header),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_load_zero_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
