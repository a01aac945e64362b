/* Devices of a VM: a const registry of device types (devices.c) and the
 * list of instances in struct vs_vm. A device type is a const
 * struct vs_device_ops; an instance is realized on a VM from an option
 * string, reset with the VM, and (later snapshot work) paused, saved and
 * restored. The VMM iterates over the list; nothing special-cases a device.
 *
 * vm.c creates every device through the registry: the PC devices (serial,
 * rtc, PCI host bridge, legacy ports: devices-pc.c, which fill vm->serial,
 * vm->rtc, vm->pci for run.c), then --device, then the disks. */
#ifndef VS_VMM_DEVICE_H
#define VS_VMM_DEVICE_H

struct vs_vm;
struct vs_err;
struct vs_snapshot; /* later: the snapshot stream */

struct vs_device_ops {
	const char *name; /* registry key: "serial", "virtio-rng", ... */
	/* Creates the device on vm (buses, PCI slot, interrupts) from opts
	 * (NULL or "key=value,..."). Returns 0 with *state set, or -errno with
	 * *err set; on failure nothing is left registered. */
	int (*realize)(struct vs_vm *vm, const char *opts, void **state, struct vs_err **err);
	/* Unregisters and frees; the vCPUs are stopped. */
	void (*unrealize)(struct vs_vm *vm, void *state);
	/* Optional: back to power-on state (VM reset). */
	void (*reset)(void *state);
	/* Optional, for snapshots: quiesce (no more DMA or interrupts) and
	 * resume; write and read the device state. Return 0 or -errno. */
	int (*pause)(void *state);
	int (*resume)(void *state);
	int (*save)(void *state, struct vs_snapshot *snap);
	int (*restore)(void *state, struct vs_snapshot *snap);
};

/* One instance, in the VM's list (in realize order). */
struct vs_device {
	const struct vs_device_ops *ops;
	void *state;
	struct vs_device *next;
};

/* The registered type called name, or NULL. */
const struct vs_device_ops *vs_device_lookup(const char *name);
/* Registry iteration: the i-th type, NULL past the end. */
const struct vs_device_ops *vs_device_type(unsigned i);

/* Realizes a device of type name on vm and appends it to vm's list.
 * Returns 0, -ENOENT (no such type) or the realize error, with *err set. */
int vs_vm_device_add(struct vs_vm *vm, const char *name, const char *opts, struct vs_err **err);
/* Appends an instance realized by other means (the VM's disks, from
 * struct vs_vm_disk rather than an option string). */
void vs_vm_device_append(struct vs_vm *vm, const struct vs_device_ops *ops, void *state);
/* Adds vm->cfg.devices ("TYPE[,OPTS]") in order. Returns 0 or the first
 * error (with *err set; what was added stays on the list for vs_vm_free). */
int vs_vm_devices_add_config(struct vs_vm *vm, struct vs_err **err);
/* Resets every device, in list order. */
void vs_vm_devices_reset(struct vs_vm *vm);
/* Pauses every device; on a failure resumes those already paused and
 * returns the error. */
int vs_vm_devices_pause(struct vs_vm *vm);
void vs_vm_devices_resume(struct vs_vm *vm);
/* Unrealizes every device, last added first, and empties the list. */
void vs_vm_devices_free(struct vs_vm *vm);

#endif
