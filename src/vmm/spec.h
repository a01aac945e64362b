/* struct vs_vm_spec: what a VM is, as a person or an API client says it:
 * the body of `vessel vm create` and `vm run` (docs/api/vm-spec.md), stored
 * as JSON by the state store. kit.c turns a spec into the vs_vm_config the
 * VMM boots (guest-kit defaults, kernel command line). */
#ifndef VS_VMM_SPEC_H
#define VS_VMM_SPEC_H

#include "vmm/vm.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_VM_NAME_MAX 63
#define VS_VM_DEFAULT_MEM (512ULL << 20)
#define VS_VM_DEFAULT_CPUS 1

struct vs_vm_spec {
	char *name; /* NULL for an anonymous `vm run` */
	char *kernel; /* absolute path; NULL: the guest kit's kernel */
	char *initrd; /* absolute path; NULL: the kit's initramfs (or none with a kernel) */
	char *append; /* added to the kernel command line; NULL: nothing */
	char **command; /* NULL-terminated argv the kit's init runs; NULL: interactive */
	unsigned cpus;
	uint64_t mem; /* bytes */
	enum vs_cpu_model cpu_model;
	enum vs_accel accel;
	bool overcommit; /* skip the vCPU and host-memory sizing rules */
	bool autostart; /* started by `vessel vm start --autostart` */
	struct vs_vm_disk *disks;
	size_t ndisks;
	char *network; /* a vessel network (svc/net.h) for a virtio-net NIC; NULL: none */
	char **ports; /* -p "[HOSTIP:]HOSTPORT:PORT[/tcp|udp]" on the network (net/port.h) */
	size_t nports;
};

/* Appends a published port (a copy of spec; checked by the service layer). */
void vs_vm_spec_add_port(struct vs_vm_spec *s, const char *spec);

/* Appends a disk (copies path and format). Returns 0 or -E2BIG past VS_VM_MAX_DISKS. */
int vs_vm_spec_add_disk(struct vs_vm_spec *s, const char *path, const char *format, bool ro);

/* "writeback", "none", "unsafe" or "directsync" to enum vs_disk_cache:
 * returns it, or -EINVAL. vs_disk_cache_name is the inverse. */
int vs_disk_cache_parse(const char *name);
const char *vs_disk_cache_name(int cache);
/* "auto", "threads" or "io_uring" to enum vs_disk_aio, or -EINVAL;
 * vs_disk_aio_name is the inverse. */
int vs_disk_aio_parse(const char *name);
const char *vs_disk_aio_name(int aio);

/* Defaults: 1 vCPU, 512 MiB, host CPU model, accel auto. */
void vs_vm_spec_init(struct vs_vm_spec *s);

/* Frees what the spec owns and re-initialises it. */
void vs_vm_spec_clear(struct vs_vm_spec *s);

/* True when name is 1-63 characters of [A-Za-z0-9_.-] starting with a letter or digit. */
bool vs_vm_name_is_valid(const char *name);

/* Checks the fields (name, cpus, mem). Returns 0 or -EINVAL with *err set. */
int vs_vm_spec_check(const struct vs_vm_spec *s, struct vs_err **err);

/* The spec as a JSON object (docs/api/vm-spec.md). */
json_t *vs_vm_spec_to_json(const struct vs_vm_spec *s);

/* Fills *s (initialised by the caller) from JSON. Returns 0 or -EINVAL with *err set. */
int vs_vm_spec_from_json(const json_t *j, struct vs_vm_spec *s, struct vs_err **err);

const char *vs_accel_name(enum vs_accel a);
/* Returns 0 or -EINVAL. */
int vs_accel_parse(const char *s, enum vs_accel *out);

#endif
