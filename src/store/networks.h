/* The networks and addresses tables (migration 3 in migrations.c): one row
 * per virtual network, and the IPAM leases handed out on each. Addresses
 * are kept as dotted text; the choice of the next free one is the service
 * layer's (net/ipam.h), made inside the write transaction that inserts it
 * (vs_store_begin()), which is what makes concurrent allocations distinct. */
#ifndef VS_STORE_NETWORKS_H
#define VS_STORE_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct vs_store;

struct vs_store_net {
	char *name;
	char *bridge; /* the Linux bridge, at most 15 bytes, unique */
	char *subnet; /* "a.b.c.d/N" */
	char *gateway; /* "a.b.c.d", on the bridge */
	bool internal; /* no masquerade, no way in or out */
	uint32_t mtu; /* 0: the kernel's default */
	uint16_t vlan; /* 0: none */
	int64_t created_at; /* Unix seconds */
};

struct vs_store_addr {
	char *network;
	char *address; /* "a.b.c.d" */
	char *owner_kind;
	char *owner_name;
	int64_t allocated_at; /* Unix seconds */
};

void vs_store_net_free(struct vs_store_net *n);
void vs_store_net_list_free(struct vs_store_net **v, size_t n);
void vs_store_addr_list_free(struct vs_store_addr *v, size_t n);

/* Inserts a network. Returns 0, -EEXIST when the name or the bridge is
 * taken (with *err naming which), or -errno with *err. */
int vs_store_net_insert(struct vs_store *s, const struct vs_store_net *n, struct vs_err **err);

/* Returns 0 with *out the row, -ENOENT (err untouched) when absent, or -errno with *err. */
int vs_store_net_get(struct vs_store *s, const char *name, struct vs_store_net **out,
		     struct vs_err **err);

/* Every network, ordered by name (*out: array of n rows). */
int vs_store_net_list(struct vs_store *s, struct vs_store_net ***out, size_t *n,
		      struct vs_err **err);

/* True (1) when a network uses bridge, 0 if none, or -errno. */
int vs_store_net_bridge_taken(struct vs_store *s, const char *bridge, struct vs_err **err);

/* Deletes the network's row. Returns 0, -ENOENT or -errno with *err. */
int vs_store_net_delete(struct vs_store *s, const char *name, struct vs_err **err);

/* The addresses allocated on network (all networks when NULL), ordered by
 * network and allocation. Returns 0 with *out (vs_store_addr_list_free) or -errno. */
int vs_store_addr_list(struct vs_store *s, const char *network, struct vs_store_addr **out,
		       size_t *n, struct vs_err **err);

/* Records a lease. Returns 0, -EEXIST if the address is already leased on
 * that network, or -errno with *err. Call inside vs_store_begin(). */
int vs_store_addr_insert(struct vs_store *s, const struct vs_store_addr *a, struct vs_err **err);

/* Releases every lease of an owner (on every network). Returns how many or -errno. */
int vs_store_addr_release_owner(struct vs_store *s, const char *kind, const char *name,
				struct vs_err **err);

#endif
