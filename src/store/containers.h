/* The containers table: one row per container (migration 2 in
 * migrations.c). Rows come back as struct vs_store_ctr, owned by the caller. */
#ifndef VS_STORE_CONTAINERS_H
#define VS_STORE_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_store;

struct vs_store_ctr {
	char *id; /* 64 hex digits */
	char *name; /* unique */
	char *image; /* the image reference as given */
	char *image_digest; /* its manifest digest */
	char *spec; /* JSON of struct vs_ctr_spec */
	int64_t created_at; /* Unix milliseconds */
	char state[16]; /* created, running, exited */
	int64_t pid; /* the monitor, while running */
	uint64_t pid_start; /* the monitor's start time (/proc/PID/stat field 22) */
	int64_t init_pid; /* the container's init, while running */
	int64_t started_at, finished_at; /* Unix milliseconds, 0: not yet */
	int exit_code; /* as a shell reports it: 128+N for signal N */
	bool oom_killed;
	char *exit_reason; /* NULL until it exits */
};

void vs_store_ctr_free(struct vs_store_ctr *c);
void vs_store_ctr_list_free(struct vs_store_ctr **v, size_t n);

/* Inserts a new row (state "created"). Returns 0, -EEXIST when the name or
 * id is taken, or -errno; *err set on failure. */
int vs_store_ctr_insert(struct vs_store *s, const struct vs_store_ctr *c, struct vs_err **err);

/* Looks a container up by name, by id, or by a unique prefix of its id.
 * Returns 0 with *out, -ENOENT (err untouched) when none matches, -EINVAL
 * with *err when a prefix matches several, or -errno with *err. */
int vs_store_ctr_get(struct vs_store *s, const char *key, struct vs_store_ctr **out,
		     struct vs_err **err);

/* Every row, oldest first. */
int vs_store_ctr_list(struct vs_store *s, struct vs_store_ctr ***out, size_t *n,
		      struct vs_err **err);

/* Writes state, pid, pid_start, init_pid, started_at, finished_at,
 * exit_code, oom_killed and exit_reason of c->id, but only while the row's
 * pid is still expect_pid (so a stale writer changes nothing). Returns 1
 * if the row changed, 0 if not, or -errno with *err. */
int vs_store_ctr_update(struct vs_store *s, const struct vs_store_ctr *c, int64_t expect_pid,
			struct vs_err **err);

/* The number of containers created from the image with this manifest
 * digest; on success *name is one of them (malloc'd) when there is any. */
int vs_store_ctr_count_image(struct vs_store *s, const char *digest, char **name,
			     struct vs_err **err);

/* Deletes the row. Returns 0, -ENOENT or -errno with *err. */
int vs_store_ctr_delete(struct vs_store *s, const char *id, struct vs_err **err);

#endif
