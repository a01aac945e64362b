/* The bzImage loader against the real Debian kernel from the guest kit
 * (make guest): header parsing and placement as a real boot would do them.
 * Without the kit the whole binary is skipped (vs-test.h: "1..0 # SKIP: ..."). */
#include "vmm/arch/x86/bzimage.h"
#include "common/err.h"
#include "common/util.h"
#include "vs-test.h"

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

static char *kernel_file;

static char *kit_kernel(void)
{
	const char *dir = getenv("VESSEL_GUEST_DIR");
	char *path;

	path = dir ? xasprintf("%s/vmlinuz", dir) :
		     xasprintf("%s/.cache/vessel/guest/vmlinuz",
			       getenv("HOME") ? getenv("HOME") : "/root");
	if (access(path, R_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

static void test_debian_kernel(void **state)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct vs_bzimage bz;
	struct vs_boot_plan p;
	struct vs_err *err = NULL;

	(void)state;
	assert_int_equal(vs_read_file(kernel_file, 512 * VS_MIB, &buf, &len), 0);
	assert_int_equal(vs_bzimage_parse(buf, len, &bz, &err), 0);
	/* Debian's 6.1 kernels: protocol 2.15, relocatable, 16 MiB preferred, 2 MiB aligned */
	assert_true(bz.hdr.version >= 0x020f);
	assert_true(bz.hdr.relocatable_kernel);
	assert_int_equal(bz.hdr.pref_address, 0x1000000);
	assert_int_equal(bz.hdr.kernel_alignment, 0x200000);
	assert_true(bz.hdr.xloadflags & VS_XLF_KERNEL_64);
	assert_non_null(strstr(bz.version, "6."));
	assert_false(vs_bzimage_is_testkernel(&bz));
	assert_int_equal(vs_bzimage_plan(&bz, 512 * VS_MIB, 100, 20 * VS_MIB, &p, &err), 0);
	assert_int_equal(p.kernel_addr, 0x1000000);
	assert_int_equal(p.entry, 0x1000200);
	assert_true(p.kernel_end >= p.kernel_addr + bz.hdr.init_size);
	assert_true(p.initrd_addr >= p.kernel_end);
	assert_true(p.cmdline_max >= 2048);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_kernel),
	};
	int r;

	kernel_file = kit_kernel();
	if (!kernel_file)
		return vs_test_skip_all("no guest kit kernel (run make guest)");
	r = vs_test_run("bzimage-debian", tests, VS_ARRAY_SIZE(tests), NULL, NULL, NULL);
	free(kernel_file);
	return r;
}
