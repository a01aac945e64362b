/* A minimal bzImage written to a temporary file, for the tests that create
 * whole VMs with faults injected (test-vm-faults.c, test-kvm-faults.c). The
 * kernel is zeroes: nothing here lets it run for long. */
#ifndef VS_TESTS_UNIT_VMM_FAULT_KERNEL_H
#define VS_TESTS_UNIT_VMM_FAULT_KERNEL_H

#include "vmm/arch/x86/bootparams.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fills path (a mkstemp template) with the image. Returns true on success. */
static inline bool fault_kernel_write(char *path)
{
	uint8_t img[4096 + 4096] = { 0 };
	struct vs_setup_header h = {
		.setup_sects = 1,
		.boot_flag = VS_BOOT_FLAG,
		.header = VS_HDRS_MAGIC,
		.version = 0x020f,
		.loadflags = VS_LOADED_HIGH,
		.initrd_addr_max = 0x7fffffff,
		.xloadflags = VS_XLF_KERNEL_64,
		.cmdline_size = 255,
		.pref_address = 0x100000,
		.init_size = 0x10000,
	};
	int fd = mkstemp(path);
	bool ok;

	if (fd < 0)
		return false;
	memcpy(img + VS_SETUP_HDR_OFFSET, &h, sizeof(h));
	img[0x201] = 0x6a; /* the header ends at 0x26c (protocol 2.15) */
	ok = write(fd, img, sizeof(img)) == (ssize_t)sizeof(img);
	close(fd);
	return ok;
}

#endif
