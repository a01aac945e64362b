/* vessel's persistent state: one SQLite database, <root>/vessel.db, in WAL
 * mode with a busy timeout, its schema brought up to date by numbered
 * migrations (migrations.c) on open. Many vessel processes open it at the
 * same time; every change that must be all-or-nothing runs inside
 * vs_store_begin()/vs_store_commit(), so a process killed at any moment
 * leaves either the whole change or none of it.
 *
 * Table families have a file each (vms.c; containers, images and networks
 * will join). Layering: common <- store <- svc; the store knows nothing of
 * KVM or devices. */
#ifndef VS_STORE_STORE_H
#define VS_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_store;

#define VS_STORE_DB_NAME "vessel.db"

/* Creates root (mode 0700) if needed, opens <root>/vessel.db and migrates it.
 * Returns 0 or -errno with *err set. */
int vs_store_open(const char *root, struct vs_store **out, struct vs_err **err);
void vs_store_close(struct vs_store *s);

/* The root directory the store was opened under. */
const char *vs_store_root(const struct vs_store *s);

/* The schema version the database is at (PRAGMA user_version). */
int vs_store_schema_version(struct vs_store *s);

/* The newest schema version this build knows. */
int vs_store_schema_latest(void);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout),
 * COMMIT, ROLLBACK. begin/commit return 0 or -errno with *err set. */
int vs_store_begin(struct vs_store *s, struct vs_err **err);
int vs_store_commit(struct vs_store *s, struct vs_err **err);
void vs_store_rollback(struct vs_store *s);

#endif
