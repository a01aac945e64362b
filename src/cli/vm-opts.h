/* The options `vm run` and `vm create` share, parsed into a vs_vm_spec. */
#ifndef VS_CLI_VM_OPTS_H
#define VS_CLI_VM_OPTS_H

#include "vmm/spec.h"

#include <stdbool.h>

struct vm_opts {
	struct vs_vm_spec spec; /* strings point into argv except command (owned copy) */
	bool allow_autostart; /* vm create */
	/* vm run: registry devices, "TYPE[,OPTS]" (vmm/device.h, docs/virtio.md);
	 * not part of the stored spec yet, so vm create refuses them */
	const char *devices[VS_VM_MAX_DEVICES];
	unsigned ndevices;
	/* --net ARG as "virtio-net,ARG" entries of devices (owned copies) */
	char *net_devices[VS_VM_MAX_DEVICES];
	unsigned nnet_devices;
	bool verbose; /* vm run -v: say which accelerator runs the VM, and why */
};

/* Parses argv[1..] (getopt, stops at "--"). Returns 0, 1 after --help (printed),
 * or -EINVAL after printing one line. */
int vm_opts_parse(struct vm_opts *o, const char *verb, int argc, char **argv);

/* Frees the command and disk copies. */
void vm_opts_clear(struct vm_opts *o);

#endif
