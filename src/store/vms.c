/* The vms table (vms.h). */
#include "store/vms.h"
#include "store/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM_COLUMNS                                                                      \
	"name, spec, cpus, mem, autostart, created_at, state, run_id, pid, pid_start, " \
	"started_at, stopped_at, exit_reason, exit_status"

void vs_store_vm_free(struct vs_store_vm *vm)
{
	if (!vm)
		return;
	free(vm->name);
	free(vm->spec);
	free(vm->exit_reason);
	free(vm);
}

void vs_store_vm_list_free(struct vs_store_vm **vms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_store_vm_free(vms[i]);
	free(vms);
}

static struct vs_store_vm *from_row(sqlite3_stmt *st)
{
	struct vs_store_vm *vm = xzalloc(sizeof(*vm));
	const unsigned char *state = sqlite3_column_text(st, 6);

	vm->name = vs_store_col_dup(st, 0);
	vm->spec = vs_store_col_dup(st, 1);
	vm->cpus = (unsigned)sqlite3_column_int64(st, 2);
	vm->mem = (uint64_t)sqlite3_column_int64(st, 3);
	vm->autostart = sqlite3_column_int(st, 4) != 0;
	vm->created_at = sqlite3_column_int64(st, 5);
	snprintf(vm->state, sizeof(vm->state), "%s", state ? (const char *)state : "");
	vm->run_id = sqlite3_column_int64(st, 7);
	vm->pid = sqlite3_column_int64(st, 8);
	vm->pid_start = (uint64_t)sqlite3_column_int64(st, 9);
	vm->started_at = sqlite3_column_int64(st, 10);
	vm->stopped_at = sqlite3_column_int64(st, 11);
	vm->exit_reason = vs_store_col_dup(st, 12);
	vm->exit_status = sqlite3_column_int(st, 13);
	return vm;
}

int vs_store_vm_insert(struct vs_store *s, const struct vs_store_vm *vm, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "INSERT INTO vms (name, spec, cpus, mem, autostart, created_at) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vm->spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, vm->cpus);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)vm->mem);
	sqlite3_bind_int(st, 5, vm->autostart);
	sqlite3_bind_int64(st, 6, vm->created_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return vs_err_set(err, -EEXIST, "a VM named '%s' already exists", vm->name);
	return rc == SQLITE_DONE ? 0 : vs_store_sqlerr(s, rc, err, "adding a VM");
}

int vs_store_vm_get(struct vs_store *s, const char *name, struct vs_store_vm **out,
		    struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, "SELECT " VM_COLUMNS " FROM vms WHERE name = ?1", &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, "reading a VM");
	*out = from_row(st);
	return 0;
}

int vs_store_vm_list(struct vs_store *s, struct vs_store_vm ***out, size_t *n, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct vs_store_vm **v = NULL;
	size_t len = 0, cap = 0;
	int r = vs_store_prepare(s, "SELECT " VM_COLUMNS " FROM vms ORDER BY name", &st, err);
	int rc;

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = from_row(st);
	}
	if (rc != SQLITE_DONE) {
		vs_store_vm_list_free(v, len);
		return vs_store_sqlerr(s, rc, err, "listing VMs");
	}
	*out = v;
	*n = len;
	return 0;
}

int vs_store_vm_update_run(struct vs_store *s, const struct vs_store_vm *vm, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "UPDATE vms SET state = ?3, pid = ?4, pid_start = ?5, "
				 "started_at = ?6, stopped_at = ?7, exit_reason = ?8, "
				 "exit_status = ?9 WHERE name = ?1 AND run_id = ?2",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vm->run_id);
	sqlite3_bind_text(st, 3, vm->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, vm->pid);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)vm->pid_start);
	sqlite3_bind_int64(st, 6, vm->started_at);
	sqlite3_bind_int64(st, 7, vm->stopped_at);
	if (vm->exit_reason)
		sqlite3_bind_text(st, 8, vm->exit_reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int(st, 9, vm->exit_status);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "updating a VM");
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int vs_store_vm_begin_run(struct vs_store *s, struct vs_store_vm *vm, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(
		s,
		"UPDATE vms SET run_id = run_id + 1, state = 'starting', pid = ?2, "
		"pid_start = ?3, started_at = ?4 WHERE name = ?1 RETURNING run_id",
		&st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vm->pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)vm->pid_start);
	sqlite3_bind_int64(st, 4, vm->started_at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, "starting a VM");
	vm->run_id = sqlite3_column_int64(st, 0);
	snprintf(vm->state, sizeof(vm->state), "starting");
	return 0;
}

static int exec_named(struct vs_store *s, const char *sql, const char *name, int arg,
		      struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, sql, &st, err), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, arg);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "changing a VM");
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int vs_store_vm_set_autostart(struct vs_store *s, const char *name, bool on, struct vs_err **err)
{
	return exec_named(s, "UPDATE vms SET autostart = ?2 WHERE name = ?1", name, on, err);
}

int vs_store_vm_delete(struct vs_store *s, const char *name, struct vs_err **err)
{
	return exec_named(s, "DELETE FROM vms WHERE name = ?1 AND ?2 = ?2", name, 0, err);
}
