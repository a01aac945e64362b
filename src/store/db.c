/* Opening the store: the root directory, the SQLite connection (WAL, busy
 * timeout, synchronous=NORMAL, which in WAL mode loses no committed
 * transaction when a process dies, only possibly the last ones on power
 * loss), migrations, and transactions. */
#include "store/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 15000
#define WAL_RETRY_NS 2000000L
#define WAL_CHECKPOINT_PAGES 64 /* frames in the WAL before a commit checkpoints it */

int vs_store_sqlerr(struct vs_store *s, int rc, struct vs_err **err, const char *what)
{
	int code = -EIO;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		code = -EBUSY;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		code = -EEXIST;
	else if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM)
		code = -EACCES;
	else if ((rc & 0xff) == SQLITE_FULL)
		code = -ENOSPC;
	return vs_err_set(err, code, "state store %s/%s: %s: %s", s->root, VS_STORE_DB_NAME, what,
			  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

int vs_store_prepare(struct vs_store *s, const char *sql, sqlite3_stmt **out, struct vs_err **err)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL);

	return rc == SQLITE_OK ? 0 : vs_store_sqlerr(s, rc, err, "preparing a query");
}

static int exec(struct vs_store *s, const char *sql, struct vs_err **err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : vs_store_sqlerr(s, rc, err, sql);
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_root(const char *root)
{
	_cleanup_free_ char *p = xstrdup(root);

	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int pragma_text(struct vs_store *s, const char *sql, char *buf, size_t len,
		       struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, sql, &st, err), rc;

	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, sql);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	return 0;
}

int vs_store_schema_version(struct vs_store *s)
{
	char v[32];

	if (pragma_text(s, "PRAGMA user_version", v, sizeof(v), NULL) < 0)
		return -EIO;
	return atoi(v);
}

int vs_store_schema_latest(void)
{
	return vs_store_migrations[vs_store_nmigrations - 1].version;
}

static int migrate_locked(struct vs_store *s, struct vs_err **err)
{
	int have = vs_store_schema_version(s), r;
	char sql[64];

	if (have < 0)
		return vs_store_sqlerr(s, SQLITE_ERROR, err, "reading the schema version");
	if (have > vs_store_schema_latest())
		return vs_err_set(err, -EPROTO,
				  "state store %s is at schema %d, newer than this vessel's %d: "
				  "use a newer vessel or another --root",
				  s->root, have, vs_store_schema_latest());
	for (unsigned i = 0; i < vs_store_nmigrations; i++) {
		if (vs_store_migrations[i].version <= have)
			continue;
		if ((r = exec(s, vs_store_migrations[i].sql, err)) < 0)
			return r;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", vs_store_schema_latest());
	return exec(s, sql, err);
}

/* Checks the version without a lock first: the common case writes nothing. */
static int migrate(struct vs_store *s, struct vs_err **err)
{
	int r;

	if (vs_store_schema_version(s) == vs_store_schema_latest())
		return 0;
	if ((r = vs_store_begin(s, err)) < 0)
		return r;
	if ((r = migrate_locked(s, err)) < 0) {
		vs_store_rollback(s);
		return r;
	}
	return vs_store_commit(s, err);
}

/* Switching a new database to WAL needs an exclusive lock, and SQLite does
 * not run the busy handler for it: concurrent first opens retry here. */
static int set_wal(struct vs_store *s, struct vs_err **err)
{
	struct timespec pause = { .tv_nsec = WAL_RETRY_NS };
	char mode[16];

	for (unsigned i = 0; i < BUSY_TIMEOUT_MS * 1000000ULL / WAL_RETRY_NS; i++) {
		struct vs_err *e = NULL;
		int r = pragma_text(s, "PRAGMA journal_mode", mode, sizeof(mode), &e);

		if (r == 0 && strcmp(mode, "wal") != 0)
			r = pragma_text(s, "PRAGMA journal_mode=WAL", mode, sizeof(mode), &e);
		if (r == -EBUSY) {
			vs_err_free(e);
			nanosleep(&pause, NULL);
			continue;
		}
		if (r < 0 && err && !*err)
			*err = e;
		else
			vs_err_free(e);
		return r;
	}
	return vs_err_set(err, -EBUSY, "state store %s: busy for too long", s->root);
}

static int configure(struct vs_store *s, struct vs_err **err)
{
	int r;

	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* Every vessel command is short-lived: a checkpoint (with its fsyncs) at
	 * each last close would cost every command milliseconds. The WAL is
	 * checkpointed as it grows instead, and kept short: a command that
	 * opens the store while no other process has it open (no VMM runs)
	 * rebuilds the WAL index by reading every frame written since the last
	 * checkpoint (1.2 ms for 400 frames here; SQLite's default of 1000
	 * pages between checkpoints would cost up to ~3 ms per command). */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if ((r = set_wal(s, err)) < 0)
		return r;
	sqlite3_wal_autocheckpoint(s->db, WAL_CHECKPOINT_PAGES);
	return exec(s, "PRAGMA synchronous=NORMAL", err);
}

int vs_store_open(const char *root, struct vs_store **out, struct vs_err **err)
{
	struct vs_store *s;
	_cleanup_free_ char *path = NULL;
	int r, rc;

	if (!root || !*root)
		return vs_err_set(err, -EINVAL, "empty state root (--root or VESSEL_ROOT)");
	if ((r = make_root(root)) < 0)
		return vs_err_setsys(err, r, "cannot create the state root %s", root);
	s = xzalloc(sizeof(*s));
	s->root = xstrdup(root);
	path = xasprintf("%s/%s", root, VS_STORE_DB_NAME);
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		r = vs_store_sqlerr(s, rc, err, "opening");
		goto err_close;
	}
	if ((r = configure(s, err)) < 0 || (r = migrate(s, err)) < 0)
		goto err_close;
	*out = s;
	return 0;
err_close:
	vs_store_close(s);
	return r;
}

void vs_store_close(struct vs_store *s)
{
	if (!s)
		return;
	sqlite3_close_v2(s->db);
	free(s->root);
	free(s);
}

const char *vs_store_root(const struct vs_store *s)
{
	return s->root;
}

int vs_store_begin(struct vs_store *s, struct vs_err **err)
{
	return exec(s, "BEGIN IMMEDIATE", err);
}

int vs_store_commit(struct vs_store *s, struct vs_err **err)
{
	int r = exec(s, "COMMIT", err);

	if (r < 0)
		vs_store_rollback(s);
	return r;
}

void vs_store_rollback(struct vs_store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

char *vs_store_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}
