/* IPv4 address management, pure functions (no I/O): CIDR parsing and
 * validation, subnet overlap, gateway choice, next free address.
 *
 * Addresses are uint32_t in host byte order. Persistence is the caller's:
 * the store keeps which addresses a network has handed out and calls
 * vs_ipam_next() with that set inside the same write transaction that
 * records the new lease, so two concurrent `vessel` invocations cannot
 * get one address (the transaction serialises them; this file keeps no
 * state). */
#ifndef VS_NET_IPAM_H
#define VS_NET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;

struct vs_cidr {
	uint32_t addr; /* network address (host bits zero) */
	uint8_t prefix;
};

/* Subnets vessel manages: /8 at most (larger ones swallow routes), /30 at
 * least (network + gateway + one address + broadcast). */
#define VS_IPAM_PREFIX_MIN 8
#define VS_IPAM_PREFIX_MAX 30

/* "a.b.c.d" (exactly four decimal octets). Returns 0 or -EINVAL with a
 * one-line *err. */
int vs_ipv4_parse(const char *s, uint32_t *out, struct vs_err **err);

/* Formats addr into buf (at least 16 bytes); returns buf. */
char *vs_ipv4_str(uint32_t addr, char *buf);

/* "a.b.c.d/N" as a network to manage: N in [VS_IPAM_PREFIX_MIN,
 * VS_IPAM_PREFIX_MAX], no host bits set. Returns 0 or -EINVAL with a
 * one-line *err ("10.0.0.1/24: host bits set (network is 10.0.0.0/24)"). */
int vs_subnet_parse(const char *s, struct vs_cidr *out, struct vs_err **err);

/* "a.b.c.d/N" as an interface address (host bits expected, N in 0..32).
 * Returns 0 or -EINVAL with a one-line *err. */
int vs_ipv4_prefix_parse(const char *s, uint32_t *addr, uint8_t *prefix, struct vs_err **err);

/* Formats c as "a.b.c.d/N" into buf (at least 19 bytes); returns buf. */
char *vs_cidr_str(const struct vs_cidr *c, char *buf);

uint32_t vs_cidr_mask(const struct vs_cidr *c);
uint32_t vs_cidr_broadcast(const struct vs_cidr *c);
bool vs_cidr_contains(const struct vs_cidr *c, uint32_t addr);
bool vs_cidr_overlaps(const struct vs_cidr *a, const struct vs_cidr *b);

/* Returns the index of the first of n existing subnets that overlaps c, or
 * -1 (the check `network create` makes against the store's networks). */
int vs_ipam_find_overlap(const struct vs_cidr *c, const struct vs_cidr *existing, size_t n);

/* The gateway of subnet: the first host address when want is NULL, else
 * want parsed, which must be a host address of subnet (not the network or
 * broadcast address). Returns 0 or -EINVAL with a one-line *err. */
int vs_ipam_gateway(const struct vs_cidr *subnet, const char *want, uint32_t *out,
		    struct vs_err **err);

/* The lowest host address of subnet that is not the gateway and not in
 * used[0..n) (in any order; entries outside the subnet are ignored).
 * Returns 0, or -ENOSPC with "subnet X is full" in *err. O(n log n). */
int vs_ipam_next(const struct vs_cidr *subnet, uint32_t gateway, const uint32_t *used, size_t n,
		 uint32_t *out, struct vs_err **err);

#endif
