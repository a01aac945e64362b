/* The guest-kit policy (kit.h), moved here from the CLI so that `vm run`,
 * `vm start` and the future API server boot a spec the same way. */
#include "vmm/kit.h"
#include "vmm/spec.h"
#include "cmd-encode.h"
#include "cmdline-abi.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KIT_CMDLINE "console=ttyS0 reboot=k panic=-1 quiet"

char *vs_kit_dir(void)
{
	const char *dir = getenv("VESSEL_GUEST_DIR"), *home = getenv("HOME");

	if (dir && *dir)
		return xstrdup(dir);
	return xasprintf("%s/.cache/vessel/guest", home ? home : "/root");
}

/* The kit's kernel: $VESSEL_GUEST_KERNEL unset, empty or "stock" is the
 * stock kernel (DIR/vmlinuz), "small" the one `make guest-kernel` builds
 * (DIR/small/vmlinuz), anything else a path. */
static int kit_kernel(const char *dir, char **out, struct vs_err **err)
{
	const char *v = getenv("VESSEL_GUEST_KERNEL");
	char *k;

	if (!v || !*v || !strcmp(v, "stock"))
		k = xasprintf("%s/vmlinuz", dir);
	else if (!strcmp(v, "small"))
		k = xasprintf("%s/small/vmlinuz", dir);
	else if (strchr(v, '/'))
		k = xstrdup(v);
	else
		return vs_err_set(
			err, -EINVAL,
			"VESSEL_GUEST_KERNEL='%s': not stock, small or a path (with a '/')", v);
	if (access(k, R_OK) != 0) {
		int e = errno, r = -ENOENT;

		if (v && !strcmp(v, "small"))
			vs_err_set(err, -ENOENT,
				   "no small guest kernel in %s/small (run 'make guest-kernel')",
				   dir);
		else if (v && *v && strcmp(v, "stock"))
			r = vs_err_set(err, -e, "VESSEL_GUEST_KERNEL %s: %s", k, strerror(e));
		else
			vs_err_set(
				err, -ENOENT,
				"no default guest kit in %s (run 'make guest', or pass --kernel)",
				dir);
		free(k);
		return r;
	}
	*out = k;
	return 0;
}

/* The kit's initramfs: for the small kernel (no modules) the one without
 * modules, uncompressed, when the kit has it (gunzip was two thirds of
 * that kernel's boot under emu); else the full one. */
static char *kit_initrd(const char *dir)
{
	const char *v = getenv("VESSEL_GUEST_KERNEL");
	char *nomod;

	if (v && !strcmp(v, "small")) {
		nomod = xasprintf("%s/initramfs-nomodules.cpio", dir);
		if (access(nomod, R_OK) == 0)
			return nomod;
		free(nomod);
	}
	return xasprintf("%s/initramfs.cpio.gz", dir);
}

/* Appends text (with a separating space) to b's command line. */
static void cmdline_add(struct vs_kit_boot *b, const char *text)
{
	char *full = xasprintf("%s%s%s", b->cmdline, *b->cmdline ? " " : "", text);

	free(b->cmdline);
	b->cmdline = full;
}

/* The keys for the kit's init, which runs when the spec has a command or
 * boots the kit's own kernel and initramfs. */
static int add_init_keys(const struct vs_vm_spec *spec, unsigned stdio, struct vs_kit_boot *b,
			 struct vs_err **err)
{
	_cleanup_free_ char *frag = NULL;
	int r;

	if (!spec->command && spec->kernel)
		return 0; /* a foreign kernel's own init */
	/* Stdin from a pipe or file: the command reads a pipe that ends with it. */
	if (stdio & VS_KIT_IN_PIPE) {
		cmdline_add(b, VS_GUEST_STDIN_KEY "=pipe");
		b->framed_input = true;
	}
	if (!spec->command)
		return 0;
	r = vs_guest_cmd_encode(spec->command, &frag);
	if (r < 0)
		return vs_err_set(err, r, "cannot pass the command to the guest: %s",
				  r == -E2BIG ? "too long for the kernel command line" :
						strerror(-r));
	/* Output to a pipe or file: ask the init for a byte-exact console. */
	if (!(stdio & VS_KIT_OUT_TTY))
		cmdline_add(b, "vessel.tty=0");
	cmdline_add(b, frag);
	return 0;
}

int vs_kit_resolve(const struct vs_vm_spec *spec, unsigned stdio, struct vs_kit_boot *out,
		   struct vs_err **err)
{
	struct vs_kit_boot b = { 0 };
	_cleanup_free_ char *dir = NULL;
	int r;

	if (spec->kernel) {
		b.kernel = xstrdup(spec->kernel);
		b.initrd = spec->initrd ? xstrdup(spec->initrd) : NULL;
		b.cmdline = xstrdup(spec->append ? spec->append : "");
	} else {
		dir = vs_kit_dir();
		if ((r = kit_kernel(dir, &b.kernel, err)) < 0)
			return r;
		b.initrd = spec->initrd ? xstrdup(spec->initrd) : kit_initrd(dir);
		b.cmdline = spec->append ? xasprintf("%s %s", KIT_CMDLINE, spec->append) :
					   xstrdup(KIT_CMDLINE);
	}
	if ((r = add_init_keys(spec, stdio, &b, err)) < 0) {
		vs_kit_boot_clear(&b);
		return r;
	}
	*out = b;
	return 0;
}

void vs_kit_boot_clear(struct vs_kit_boot *b)
{
	free(b->kernel);
	free(b->initrd);
	free(b->cmdline);
	*b = (struct vs_kit_boot){ 0 };
}

void vs_kit_config(const struct vs_vm_spec *spec, const struct vs_kit_boot *boot,
		   struct vs_vm_config *cfg)
{
	cfg->kernel = boot->kernel;
	cfg->initrd = boot->initrd;
	cfg->cmdline = boot->cmdline;
	cfg->reset_is_crash = spec->command != NULL; /* vm.h */
	cfg->console_framed = boot->framed_input;
	cfg->cpus = spec->cpus;
	cfg->mem = spec->mem;
	cfg->cpu_model = spec->cpu_model;
	cfg->accel = spec->accel;
	cfg->overcommit = spec->overcommit;
	cfg->disks = spec->disks;
	cfg->ndisks = (unsigned)spec->ndisks;
}
