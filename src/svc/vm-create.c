/* Creating and removing named VMs (vm.h), and the exit reasons the store
 * keeps. Create is one store transaction; the VM's directory is made inside
 * it and a directory left by a killed create (no row) is cleared by the
 * next create of that name. Remove deletes the row first, then the directory. */
#include "svc/internal.h"
#include "svc/vm-net.h"
#include "store/store.h"
#include "store/networks.h"
#include "store/vms.h"
#include "vmm/kit.h"
#include "block/block.h"
#include "common/log.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

void vs_svc_result_text(const struct vs_vm_result *res, char *buf, size_t len, int *status)
{
	switch (res->reason) {
	case VS_STOP_EXIT_DEVICE:
		*status = res->status & 0xff;
		snprintf(buf, len, "the guest exited with status %d", *status);
		return;
	case VS_STOP_POWEROFF:
		*status = 0;
		snprintf(buf, len, "the guest powered off");
		return;
	case VS_STOP_RESET:
		*status = 0;
		snprintf(buf, len, "the guest rebooted (vessel stops on reboot)");
		return;
	case VS_STOP_USER:
		*status = 0;
		snprintf(buf, len, "%s", res->detail[0] ? res->detail : "stopped");
		return;
	case VS_STOP_CRASH:
		*status = 124;
		snprintf(buf, len, "guest crashed: %s", res->detail);
		return;
	case VS_STOP_SIGNAL:
		*status = 128 + res->status;
		snprintf(buf, len, "the VMM %s", res->detail);
		return;
	default:
		*status = 125;
		snprintf(buf, len, "VMM error: %s", res->detail[0] ? res->detail : "unknown");
		return;
	}
}

/* Makes a user's path absolute and checks that it can be read. */
static int abs_readable(char **path, const char *what, struct vs_err **err)
{
	char *abs;

	if (!*path)
		return 0;
	abs = realpath(*path, NULL);
	if (!abs || access(abs, R_OK) != 0) {
		int r = -errno;

		free(abs);
		return vs_err_setsys(err, r, "cannot read %s %s", what, *path);
	}
	free(*path);
	*path = abs;
	return 0;
}

/* A thin (qcow2) disk that could outgrow its file system gets a warning. */
static void warn_thin(const struct vs_vm_disk *d)
{
	struct vs_blk *b = NULL;
	struct statvfs fs;
	struct stat st;
	uint64_t room, need;

	if (strcmp(d->format, "qcow2") != 0 || d->ro ||
	    vs_blk_open(d->path, "qcow2", VS_BLK_RDONLY, &b, NULL) < 0)
		return;
	need = vs_blk_size(b);
	vs_blk_close(b);
	if (statvfs(d->path, &fs) < 0 || stat(d->path, &st) < 0)
		return;
	room = (uint64_t)fs.f_bavail * fs.f_frsize + (uint64_t)st.st_blocks * 512;
	if (need > room)
		vs_warn("warning: disk %s (qcow2, %llu MiB virtual) could outgrow the %llu MiB its "
			"file system has for it",
			d->path, (unsigned long long)(need >> 20),
			(unsigned long long)(room >> 20));
}

static int check_disks(struct vs_vm_spec *s, struct vs_err **err)
{
	for (size_t i = 0; i < s->ndisks; i++) {
		struct vs_vm_disk *d = &s->disks[i];
		const char *fmt = NULL;
		int r;

		if ((r = abs_readable(&d->path, "disk", err)) < 0)
			return r;
		if ((r = vs_blk_probe(d->path, &fmt, err)) < 0)
			return vs_err_wrap(err, r, "disk %s", d->path);
		if (d->format && strcmp(d->format, fmt) != 0)
			return vs_err_set(err, -EINVAL, "disk %s is %s, not %s", d->path, fmt,
					  d->format);
		if (!d->format)
			d->format = xstrdup(fmt);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->disks[j].path, d->path) == 0)
				return vs_err_set(err, -EINVAL, "disk %s is given twice", d->path);
		warn_thin(d);
	}
	return 0;
}

static int check_spec(struct vs_vm_spec *s, struct vs_err **err)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct vs_kit_boot boot;
	int r;

	if (!s->name)
		return vs_err_set(err, -EINVAL, "a VM needs a name");
	if ((r = vs_vm_spec_check(s, err)) < 0)
		return r;
	if (ncpu > 0 && s->cpus > (unsigned)ncpu && !s->overcommit)
		return vs_err_set(err, -EINVAL,
				  "--cpus %u is more than this host's %ld CPUs: use --cpus %ld or "
				  "less, or add --overcommit",
				  s->cpus, ncpu, ncpu);
	if ((r = abs_readable(&s->kernel, "kernel", err)) < 0 ||
	    (r = abs_readable(&s->initrd, "initrd", err)) < 0 || (r = check_disks(s, err)) < 0)
		return r;
	if ((r = vs_kit_resolve(s, 0, &boot, err)) < 0)
		return r;
	vs_kit_boot_clear(&boot);
	return 0;
}

static int write_spec_file(const char *dir, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, VS_SVC_SPEC_FILE);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		return -EIO;
	return 0;
}

/* Inside the transaction: the directory (a stale one from a killed create
 * is cleared), spec.json, the row. */
static int create_locked(struct vs_svc *svc, struct vs_store_vm *row, struct vs_err **err)
{
	_cleanup_free_ char *dir = vs_svc_vm_dir(svc, row->name);
	struct vs_store_vm *old = NULL;
	int r;

	if (vs_store_vm_get(svc->store, row->name, &old, NULL) == 0) {
		vs_store_vm_free(old);
		return vs_err_set(err, -EEXIST, "a VM named '%s' already exists", row->name);
	}
	if ((r = vs_svc_rmtree(dir)) < 0 || (mkdir(dir, 0700) < 0 && (r = -errno)))
		return vs_err_setsys(err, r, "cannot create %s", dir);
	vs_svc_step("create:dir");
	if ((r = write_spec_file(dir, row->spec)) < 0)
		return vs_err_setsys(err, r, "cannot write %s/%s", dir, VS_SVC_SPEC_FILE);
	vs_svc_step("create:spec");
	if ((r = vs_store_vm_insert(svc->store, row, err)) < 0)
		return r;
	vs_svc_step("create:row");
	return 0;
}

int vs_svc_vm_create(struct vs_svc *svc, const struct vs_vm_spec *in, struct vs_err **err)
{
	struct vs_vm_spec s = *in;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *text = NULL;
	struct vs_store_vm row = { 0 };
	int r;

	/* Own copies of the paths, made absolute. */
	s.kernel = in->kernel ? xstrdup(in->kernel) : NULL;
	s.initrd = in->initrd ? xstrdup(in->initrd) : NULL;
	s.disks = NULL;
	s.ndisks = 0;
	for (size_t i = 0; i < in->ndisks; i++) {
		if (vs_vm_spec_add_disk(&s, in->disks[i].path, in->disks[i].format,
					in->disks[i].ro) == 0)
			s.disks[s.ndisks - 1].cache = in->disks[i].cache;
	}
	if ((r = check_spec(&s, err)) < 0 ||
	    (s.network && (r = vs_svc_vm_net_check(svc, s.network, s.ports, s.nports, err)) < 0))
		goto out;
	j = vs_vm_spec_to_json(&s);
	text = vs_json_dump(j);
	row = (struct vs_store_vm){ .name = s.name,
				    .spec = text,
				    .cpus = s.cpus,
				    .mem = s.mem,
				    .autostart = s.autostart,
				    .created_at = time(NULL) };
	vs_svc_step("create:begin");
	if ((r = vs_store_begin(svc->store, err)) < 0)
		goto out;
	if ((r = create_locked(svc, &row, err)) < 0) {
		vs_store_rollback(svc->store);
		goto out;
	}
	r = vs_store_commit(svc->store, err);
	vs_svc_step("create:commit");
out:
	free(s.kernel);
	free(s.initrd);
	for (size_t i = 0; i < s.ndisks; i++) {
		free(s.disks[i].path);
		free(s.disks[i].format);
	}
	free(s.disks);
	return r;
}

/* The row and the VM's IPAM leases (svc/net.h), in one transaction. */
static int delete_row(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	int r = vs_store_begin(svc->store, err);

	if (r < 0)
		return r;
	if ((r = vs_store_vm_delete(svc->store, name, err)) < 0 ||
	    (r = vs_store_addr_release_owner(svc->store, "vm", name, err)) < 0) {
		vs_store_rollback(svc->store);
		return r == -ENOENT ? vs_err_set(err, r, "no VM named '%s'", name) : r;
	}
	return vs_store_commit(svc->store, err);
}

int vs_svc_vm_remove(struct vs_svc *svc, const char *name, const struct vs_vm_remove_opts *opts,
		     struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	_cleanup_free_ char *dir = NULL;
	enum vs_vm_state st;
	int r = vs_svc_get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	st = vs_svc_state_parse(row->state);
	vs_store_vm_free(row);
	if (st == VS_VM_STARTING || st == VS_VM_RUNNING || st == VS_VM_PAUSED) {
		if (!opts || !opts->force)
			return vs_err_set(err, -EBUSY,
					  "VM '%s' is %s: stop it first, or use rm -f to kill it",
					  name, vs_vm_state_name(st));
		if ((r = vs_svc_vm_kill(svc, name, err)) < 0)
			return r;
	}
	if ((r = delete_row(svc, name, err)) < 0)
		return r;
	vs_svc_step("rm:row");
	dir = vs_svc_vm_dir(svc, name);
	if ((r = vs_svc_rmtree(dir)) < 0)
		return vs_err_setsys(err, r, "VM '%s' removed, but not all of %s", name, dir);
	return 0;
}
