/* The networks and addresses tables (networks.h). */
#include "store/networks.h"
#include "store/internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NET_COLUMNS "name, bridge, subnet, gateway, internal, mtu, vlan, created_at"
#define ADDR_COLUMNS "network, address, owner_kind, owner_name, allocated_at"

void vs_store_net_free(struct vs_store_net *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->bridge);
	free(n->subnet);
	free(n->gateway);
	free(n);
}

void vs_store_net_list_free(struct vs_store_net **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_store_net_free(v[i]);
	free(v);
}

void vs_store_addr_list_free(struct vs_store_addr *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].network);
		free(v[i].address);
		free(v[i].owner_kind);
		free(v[i].owner_name);
	}
	free(v);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return xstrdup(t ? (const char *)t : "");
}

static struct vs_store_net *net_from_row(sqlite3_stmt *st)
{
	struct vs_store_net *n = xzalloc(sizeof(*n));

	n->name = col_dup(st, 0);
	n->bridge = col_dup(st, 1);
	n->subnet = col_dup(st, 2);
	n->gateway = col_dup(st, 3);
	n->internal = sqlite3_column_int(st, 4) != 0;
	n->mtu = (uint32_t)sqlite3_column_int64(st, 5);
	n->vlan = (uint16_t)sqlite3_column_int(st, 6);
	n->created_at = sqlite3_column_int64(st, 7);
	return n;
}

int vs_store_net_insert(struct vs_store *s, const struct vs_store_net *n, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "INSERT INTO networks (" NET_COLUMNS ") "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->subnet, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, n->internal);
	sqlite3_bind_int64(st, 6, n->mtu);
	sqlite3_bind_int(st, 7, n->vlan);
	sqlite3_bind_int64(st, 8, n->created_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		struct vs_store_net *old = NULL;

		/* SQLite names one violated constraint; the name is the one to tell */
		if (vs_store_net_get(s, n->name, &old, NULL) == 0) {
			vs_store_net_free(old);
			return vs_err_set(err, -EEXIST, "a network named '%s' already exists",
					  n->name);
		}
		return vs_err_set(err, -EEXIST, "bridge %s is used by another network", n->bridge);
	}
	return rc == SQLITE_DONE ? 0 : vs_store_sqlerr(s, rc, err, "adding a network");
}

int vs_store_net_get(struct vs_store *s, const char *name, struct vs_store_net **out,
		     struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, "SELECT " NET_COLUMNS " FROM networks WHERE name = ?1", &st,
				 err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return vs_store_sqlerr(s, rc, err, "reading a network");
	*out = net_from_row(st);
	return 0;
}

int vs_store_net_list(struct vs_store *s, struct vs_store_net ***out, size_t *n,
		      struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct vs_store_net **v = NULL;
	size_t len = 0, cap = 0;
	int r = vs_store_prepare(s, "SELECT " NET_COLUMNS " FROM networks ORDER BY name", &st, err);
	int rc;

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = net_from_row(st);
	}
	if (rc != SQLITE_DONE) {
		vs_store_net_list_free(v, len);
		return vs_store_sqlerr(s, rc, err, "listing networks");
	}
	*out = v;
	*n = len;
	return 0;
}

int vs_store_net_bridge_taken(struct vs_store *s, const char *bridge, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, "SELECT 1 FROM networks WHERE bridge = ?1", &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, bridge, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc == SQLITE_ROW;
	return vs_store_sqlerr(s, rc, err, "reading networks");
}

int vs_store_net_delete(struct vs_store *s, const char *name, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s, "DELETE FROM networks WHERE name = ?1", &st, err), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "removing a network");
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int vs_store_addr_list(struct vs_store *s, const char *network, struct vs_store_addr **out,
		       size_t *n, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct vs_store_addr *v = NULL;
	size_t len = 0, cap = 0;
	int r = vs_store_prepare(
		s,
		"SELECT " ADDR_COLUMNS " FROM addresses WHERE "
		"?1 IS NULL OR network = ?1 ORDER BY network, allocated_at, address",
		&st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len].network = col_dup(st, 0);
		v[len].address = col_dup(st, 1);
		v[len].owner_kind = col_dup(st, 2);
		v[len].owner_name = col_dup(st, 3);
		v[len++].allocated_at = sqlite3_column_int64(st, 4);
	}
	if (rc != SQLITE_DONE) {
		vs_store_addr_list_free(v, len);
		return vs_store_sqlerr(s, rc, err, "listing addresses");
	}
	*out = v;
	*n = len;
	return 0;
}

int vs_store_addr_insert(struct vs_store *s, const struct vs_store_addr *a, struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "INSERT INTO addresses (" ADDR_COLUMNS ") "
				 "VALUES (?1, ?2, ?3, ?4, ?5)",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, a->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->address, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->owner_kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->owner_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->allocated_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return vs_err_set(err, -EEXIST, "address %s is already allocated on network %s",
				  a->address, a->network);
	return rc == SQLITE_DONE ? 0 : vs_store_sqlerr(s, rc, err, "recording an address");
}

int vs_store_addr_release_owner(struct vs_store *s, const char *kind, const char *name,
				struct vs_err **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = vs_store_prepare(s,
				 "DELETE FROM addresses WHERE owner_kind = ?1 AND "
				 "owner_name = ?2",
				 &st, err);
	int rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return vs_store_sqlerr(s, rc, err, "releasing addresses");
	return sqlite3_changes(s->db);
}
