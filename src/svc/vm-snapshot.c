/* `vessel vm snapshot NAME create|list|apply|delete SNAP` (vm.h): qcow2
 * internal snapshots of all of a stopped VM's writable disks, through
 * src/block, all or nothing. The VM's lock is held throughout, so the VM
 * cannot start meanwhile. Every check that can be made first (raw disks,
 * names present or absent on each disk) is made before any disk changes;
 * a failure half-way is undone: create deletes what it made, apply goes
 * back through an undo snapshot taken on every disk before it starts. */
#include "svc/internal.h"
#include "store/vms.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct disks {
	struct vs_blk *b[VS_VM_MAX_DISKS];
	const char *path[VS_VM_MAX_DISKS];
	size_t n;
	struct vs_vm_spec spec;
	int lock;
};

static void close_disks(struct disks *d)
{
	for (size_t i = 0; i < d->n; i++) {
		vs_blk_flush(d->b[i]);
		vs_blk_close(d->b[i]);
	}
	vs_vm_spec_clear(&d->spec);
	if (d->lock >= 0)
		close(d->lock);
}

static int lock_stopped(struct vs_svc *svc, const char *name, struct disks *d, struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	_cleanup_free_ char *lock = NULL;
	_cleanup_json_ json_t *j = NULL;
	enum vs_vm_state st;
	int r = vs_svc_get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	st = vs_svc_state_parse(row->state);
	j = json_loads(row->spec, 0, NULL);
	vs_store_vm_free(row);
	lock = vs_svc_vm_file(svc, name, VS_SVC_LOCK_FILE);
	if (st == VS_VM_RUNNING || st == VS_VM_PAUSED || st == VS_VM_STARTING ||
	    (d->lock = vs_svc_lock_take(lock)) == -EBUSY)
		return vs_err_set(err, -EBUSY,
				  "VM '%s' is running: stop it first (snapshots of a running VM "
				  "with its memory come later)",
				  name);
	if (d->lock < 0)
		return vs_err_setsys(err, d->lock, "cannot lock %s", lock);
	return vs_vm_spec_from_json(j, &d->spec, err);
}

static int open_disks(struct vs_svc *svc, const char *name, bool rdonly, struct disks *d,
		      struct vs_err **err)
{
	int r = lock_stopped(svc, name, d, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < d->spec.ndisks; i++) {
		const struct vs_vm_disk *k = &d->spec.disks[i];

		if (k->ro)
			continue;
		if (strcmp(k->format, "qcow2") != 0)
			return vs_err_set(
				err, -EOPNOTSUPP,
				"disk %s is %s: snapshots need qcow2 (convert it with vessel "
				"img convert -O qcow2, or add it read-only)",
				k->path, k->format);
		r = vs_blk_open(k->path, "qcow2", rdonly ? VS_BLK_RDONLY : 0, &d->b[d->n], err);
		if (r < 0)
			return vs_err_wrap(err, r, "VM '%s'", name);
		d->path[d->n++] = k->path;
	}
	if (d->n == 0)
		return vs_err_set(err, -EINVAL, "VM '%s' has no writable qcow2 disk to snapshot",
				  name);
	return 0;
}

static bool has_snap(struct vs_blk *b, const char *snap)
{
	struct qcow2_snapshot_info *s = NULL;
	size_t n = 0;
	bool found = false;

	if (qcow2_snapshot_list(b, &s, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(s[i].name, snap) == 0;
	qcow2_snapshot_list_free(s, n);
	return found;
}

/* Every disk must (want) or must not (!want) have snap. */
static int check_all(struct disks *d, const char *snap, bool want, struct vs_err **err)
{
	for (size_t i = 0; i < d->n; i++)
		if (has_snap(d->b[i], snap) != want)
			return vs_err_set(err, want ? -ENOENT : -EEXIST,
					  "disk %s %s a snapshot named '%s'%s", d->path[i],
					  want ? "has no" : "already has", snap,
					  want ? "" : ": pick another name");
	return 0;
}

static int snap_create(struct disks *d, const char *snap, struct vs_err **err)
{
	for (size_t i = 0; i < d->n; i++) {
		int r = qcow2_snapshot_create(d->b[i], snap, err);

		vs_svc_step("snapshot:disk");
		if (r < 0) {
			vs_err_wrap(err, r, "disk %s", d->path[i]);
			while (i--)
				qcow2_snapshot_delete(d->b[i], snap, NULL);
			return r;
		}
	}
	return 0;
}

static int snap_apply(struct disks *d, const char *snap, struct vs_err **err)
{
	_cleanup_free_ char *undo = xasprintf("vessel-undo-%d", (int)getpid());
	size_t i;
	int r;

	if ((r = snap_create(d, undo, err)) < 0)
		return r;
	for (i = 0; i < d->n; i++) {
		r = qcow2_snapshot_apply(d->b[i], snap, err);
		vs_svc_step("snapshot:disk");
		if (r < 0) {
			vs_err_wrap(err, r, "disk %s", d->path[i]);
			break;
		}
	}
	for (size_t k = 0; k < d->n; k++) {
		if (r < 0 && k <= i)
			qcow2_snapshot_apply(d->b[k], undo, NULL);
		qcow2_snapshot_delete(d->b[k], undo, NULL);
	}
	return r;
}

int vs_svc_vm_snapshot(struct vs_svc *svc, const char *name, enum vs_vm_snapshot_op op,
		       const char *snap, struct vs_err **err)
{
	struct disks d = { .lock = -1 };
	int r;

	vs_vm_spec_init(&d.spec);
	if (!snap || !*snap || strlen(snap) > 255 || !strncmp(snap, "vessel-undo-", 12)) {
		r = vs_err_set(err, -EINVAL, "bad snapshot name '%s'", snap ? snap : "");
	} else if ((r = open_disks(svc, name, false, &d, err)) == 0 &&
		   (r = check_all(&d, snap, op != VS_VM_SNAPSHOT_CREATE, err)) == 0) {
		if (op == VS_VM_SNAPSHOT_CREATE)
			r = snap_create(&d, snap, err);
		else if (op == VS_VM_SNAPSHOT_APPLY)
			r = snap_apply(&d, snap, err);
		for (size_t i = 0; op == VS_VM_SNAPSHOT_DELETE && i < d.n && r == 0; i++)
			if ((r = qcow2_snapshot_delete(d.b[i], snap, err)) < 0)
				vs_err_wrap(err, r, "disk %s (the disks before it lost '%s')",
					    d.path[i], snap);
	}
	close_disks(&d);
	return r;
}

int vs_svc_vm_snapshot_list(struct vs_svc *svc, const char *name, char ***out, size_t *nout,
			    struct vs_err **err)
{
	struct disks d = { .lock = -1 };
	struct qcow2_snapshot_info *s = NULL;
	size_t n = 0, k = 0;
	char **names = NULL;
	int r;

	vs_vm_spec_init(&d.spec);
	if ((r = open_disks(svc, name, true, &d, err)) == 0 &&
	    (r = qcow2_snapshot_list(d.b[0], &s, &n)) == 0) {
		names = xzalloc((n + 1) * sizeof(*names));
		for (size_t i = 0; i < n; i++) {
			bool all = true;

			for (size_t j = 1; j < d.n && all; j++)
				all = has_snap(d.b[j], s[i].name);
			if (all)
				names[k++] = xstrdup(s[i].name);
		}
		qcow2_snapshot_list_free(s, n);
	} else if (r < 0 && err && !*err) {
		vs_err_setsys(err, r, "listing the snapshots of %s", d.path[0]);
	}
	close_disks(&d);
	if (r == 0) {
		*out = names;
		*nout = k;
	}
	return r;
}
