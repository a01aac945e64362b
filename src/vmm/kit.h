/* The guest-kit policy: which kernel, initramfs and command line a spec
 * boots with. Without a kernel in the spec, the default guest kit (make
 * guest) from $VESSEL_GUEST_DIR, else $HOME/.cache/vessel/guest; its kernel
 * is the stock one, or with VESSEL_GUEST_KERNEL=small the one `make
 * guest-kernel` built (DIR/small/vmlinuz), or =PATH another; the kernel
 * gets KIT_CMDLINE (console on ttyS0, reboot=k, panic=-1, quiet) before the
 * spec's append. A spec command is passed to the kit's init as vessel.cmd=
 * (guest/init/cmdline-abi.h); when the console is not a terminal the init
 * is asked for a byte-exact console (vessel.tty=0), and when stdin is
 * forwarded but is not a terminal, for the command's stdin to be a pipe
 * fed by framed console input, which carries stdin's end
 * (vessel.stdin=pipe). */
#ifndef VS_VMM_KIT_H
#define VS_VMM_KIT_H

#include <stdbool.h>

struct vs_err;
struct vs_vm_spec;
struct vs_vm_config;

/* The VMM's stdio, for vs_kit_resolve(). */
#define VS_KIT_OUT_TTY 0x1u /* the console output is a terminal */
#define VS_KIT_IN_PIPE 0x2u /* stdin is forwarded and is not a terminal */

struct vs_kit_boot {
	char *kernel, *initrd, *cmdline; /* owned; initrd may be NULL */
	bool framed_input; /* vessel.stdin=pipe was given: vs_vm_config.console_framed */
};

/* The kit directory (malloc'd): $VESSEL_GUEST_DIR or $HOME/.cache/vessel/guest. */
char *vs_kit_dir(void);

/* Resolves what spec boots; stdio is VS_KIT_* flags. Returns 0 or -errno
 * with *err set (no kit, a command too long for the command line). */
int vs_kit_resolve(const struct vs_vm_spec *spec, unsigned stdio, struct vs_kit_boot *out,
		   struct vs_err **err);

void vs_kit_boot_clear(struct vs_kit_boot *b);

/* Fills the VM config from spec and boot (which must outlive cfg),
 * console_framed included. out_fd and console_input are the caller's. */
void vs_kit_config(const struct vs_vm_spec *spec, const struct vs_kit_boot *boot,
		   struct vs_vm_config *cfg);

#endif
