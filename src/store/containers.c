/* The containers table (containers.h). */
#include "store/containers.h"
#include "store/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTR_COLUMNS                                                                          \
	"id, name, image, image_digest, spec, created_at, state, pid, pid_start, init_pid, " \
	"started_at, finished_at, exit_code, oom_killed, exit_reason"

void vs_store_ctr_free(struct vs_store_ctr *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_digest);
	free(c->spec);
	free(c->exit_reason);
	free(c);
}

void vs_store_ctr_list_free(struct vs_store_ctr **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_store_ctr_free(v[i]);
	free(v);
}

static struct vs_store_ctr *from_row(sqlite3_stmt *st)
{
	struct vs_store_ctr *c = xzalloc(sizeof(*c));
	const unsigned char *state = sqlite3_column_text(st, 6);

	c->id = vs_store_col_dup(st, 0);
	c->name = vs_store_col_dup(st, 1);
	c->image = vs_store_col_dup(st, 2);
	c->image_digest = vs_store_col_dup(st, 3);
	c->spec = vs_store_col_dup(st, 4);
	c->created_at = sqlite3_column_int64(st, 5);
	snprintf(c->state, sizeof(c->state), "%s", state ? (const char *)state : "");
	c->pid = sqlite3_column_int64(st, 7);
	c->pid_start = (uint64_t)sqlite3_column_int64(st, 8);
	c->init_pid = sqlite3_column_int64(st, 9);
	c->started_at = sqlite3_column_int64(st, 10);
	c->finished_at = sqlite3_column_int64(st, 11);
	c->exit_code = sqlite3_column_int(st, 12);
	c->oom_killed = sqlite3_column_int(st, 13) != 0;
	c->exit_reason = vs_store_col_dup(st, 14);
	return c;
}

int vs_store_ctr_insert(struct vs_store *s, const struct vs_store_ctr *c, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "INSERT INTO containers (id, name, image, image_digest, spec, "
				 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->image_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->created_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return vs_err_set(err, -EEXIST, "a container named '%s' already exists", c->name);
	return rc == SQLITE_DONE ? 0 : vs_store_sqlerr(s, rc, err, "adding a container");
}

/* Runs a SELECT bound to key; up to 2 rows are read so a prefix that
 * matches several is seen. */
static int get_by(struct vs_store *s, const char *sql, const char *key, struct vs_store_ctr **out,
		  struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, sql, &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, "reading a container");
	*out = from_row(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		vs_store_ctr_free(*out);
		*out = NULL;
		return vs_err_set(err, -EINVAL, "'%s' matches several containers", key);
	}
	return 0;
}

int vs_store_ctr_get(struct vs_store *s, const char *key, struct vs_store_ctr **out,
		     struct vs_err **err)
{
	int r = get_by(s, "SELECT " CTR_COLUMNS " FROM containers WHERE name = ?1 OR id = ?1", key,
		       out, err);

	if (r != -ENOENT || !*key || strspn(key, "0123456789abcdef") != strlen(key))
		return r;
	/* hex only, so the LIKE pattern holds no wildcard */
	return get_by(s, "SELECT " CTR_COLUMNS " FROM containers WHERE id LIKE ?1 || '%' LIMIT 2",
		      key, out, err);
}

int vs_store_ctr_list(struct vs_store *s, struct vs_store_ctr ***out, size_t *n,
		      struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct vs_store_ctr **v = NULL;
	size_t len = 0, cap = 0;
	int r = vs_store_prepare(
		s, "SELECT " CTR_COLUMNS " FROM containers ORDER BY created_at, id", &st, err);
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
		vs_store_ctr_list_free(v, len);
		return vs_store_sqlerr(s, rc, err, "listing containers");
	}
	*out = v;
	*n = len;
	return 0;
}

int vs_store_ctr_update(struct vs_store *s, const struct vs_store_ctr *c, int64_t expect_pid,
			struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(
		s,
		"UPDATE containers SET state = ?3, pid = ?4, pid_start = ?5, "
		"init_pid = ?6, started_at = ?7, finished_at = ?8, exit_code = ?9, "
		"oom_killed = ?10, exit_reason = ?11 WHERE id = ?1 AND pid = ?2",
		&st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, expect_pid);
	sqlite3_bind_text(st, 3, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->pid);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->pid_start);
	sqlite3_bind_int64(st, 6, c->init_pid);
	sqlite3_bind_int64(st, 7, c->started_at);
	sqlite3_bind_int64(st, 8, c->finished_at);
	sqlite3_bind_int(st, 9, c->exit_code);
	sqlite3_bind_int(st, 10, c->oom_killed);
	if (c->exit_reason)
		sqlite3_bind_text(st, 11, c->exit_reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 11);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "updating a container");
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int vs_store_ctr_count_image(struct vs_store *s, const char *digest, char **name,
			     struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(
		s, "SELECT count(*), min(name) FROM containers WHERE image_digest = ?1", &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, "reading containers");
	r = sqlite3_column_int(st, 0);
	*name = r > 0 ? vs_store_col_dup(st, 1) : NULL;
	return r;
}

int vs_store_ctr_delete(struct vs_store *s, const char *id, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, "DELETE FROM containers WHERE id = ?1", &st, err), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "removing a container");
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}
