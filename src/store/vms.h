/* The vms table: one row per named VM (migration 1 in migrations.c).
 * Rows come back as struct vs_store_vm, owned by the caller. */
#ifndef VS_STORE_VMS_H
#define VS_STORE_VMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_store;

struct vs_store_vm {
	char *name;
	char *spec; /* JSON of struct vs_vm_spec */
	unsigned cpus;
	uint64_t mem;
	bool autostart;
	int64_t created_at; /* Unix seconds */
	char state[16]; /* created, starting, running, paused, stopped */
	int64_t run_id; /* incremented by every start */
	int64_t pid; /* the VMM (or the starting CLI) while not stopped */
	uint64_t pid_start; /* the pid's start time (/proc/PID/stat field 22) */
	int64_t started_at, stopped_at; /* Unix milliseconds */
	char *exit_reason; /* NULL until the first stop */
	int exit_status;
};

void vs_store_vm_free(struct vs_store_vm *vm);
void vs_store_vm_list_free(struct vs_store_vm **vms, size_t n);

/* Inserts a new row (its state "created"). Returns 0, -EEXIST when the name
 * is taken, or -errno; *err set on failure. */
int vs_store_vm_insert(struct vs_store *s, const struct vs_store_vm *vm, struct vs_err **err);

/* Returns 0 with *out the row, -ENOENT (err untouched) when absent, or -errno with *err. */
int vs_store_vm_get(struct vs_store *s, const char *name, struct vs_store_vm **out,
		    struct vs_err **err);

/* Every row, ordered by name. */
int vs_store_vm_list(struct vs_store *s, struct vs_store_vm ***out, size_t *n, struct vs_err **err);

/* Writes state, pid, pid_start, started_at, stopped_at, exit_reason and
 * exit_status of vm->name, but only while the row's run_id is still
 * vm->run_id. Returns 1 if the row changed, 0 if not (another run, or
 * gone), or -errno with *err. */
int vs_store_vm_update_run(struct vs_store *s, const struct vs_store_vm *vm, struct vs_err **err);

/* Starts a new run: run_id+1, state "starting", pid and pid_start of the
 * starter, started_at now. On success vm->run_id is the new run's. Returns
 * 0, -ENOENT or -errno with *err. */
int vs_store_vm_begin_run(struct vs_store *s, struct vs_store_vm *vm, struct vs_err **err);

/* Sets autostart. Returns 0, -ENOENT or -errno. */
int vs_store_vm_set_autostart(struct vs_store *s, const char *name, bool on, struct vs_err **err);

/* Deletes the row. Returns 0, -ENOENT or -errno with *err. */
int vs_store_vm_delete(struct vs_store *s, const char *name, struct vs_err **err);

#endif
