/* Store-private declarations shared by db.c, migrations.c and the table files. */
#ifndef VS_STORE_INTERNAL_H
#define VS_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>

struct vs_store {
	sqlite3 *db;
	char *root;
};

/* One numbered migration: the SQL that takes the schema from version-1 to version. */
struct vs_migration {
	int version;
	const char *sql;
};

extern const struct vs_migration vs_store_migrations[];
extern const unsigned vs_store_nmigrations;

/* Fills *err from the connection's last error ("what: sqlite message") and
 * returns the matching -errno (-EBUSY for SQLITE_BUSY, -EEXIST for a
 * constraint, -EIO otherwise). */
int vs_store_sqlerr(struct vs_store *s, int rc, struct vs_err **err, const char *what);

/* Prepares sql; returns 0 or -errno with *err set. */
/* Column i of the current row as an owned string; NULL for SQL NULL. */
char *vs_store_col_dup(sqlite3_stmt *st, int i);

int vs_store_prepare(struct vs_store *s, const char *sql, sqlite3_stmt **out, struct vs_err **err);

static inline void vs_store_finalizep(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(vs_store_finalizep)))

#endif
