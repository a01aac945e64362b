/* Decoding of the guest command-line fragments (cmdline-abi.h), for the init. */
#ifndef VS_GUEST_CMD_DECODE_H
#define VS_GUEST_CMD_DECODE_H

#include <netinet/in.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

/* A parsed `vessel.ip=IFACE,ADDR/PREFIX[,GATEWAY[,DNS]]`. */
struct vs_guest_ip {
	char ifname[IF_NAMESIZE];
	struct in_addr addr;
	unsigned int prefix; /* 0..32 */
	bool has_gateway, has_dns;
	struct in_addr gateway, dns;
};

/*
 * Decodes len bytes of base64url text (no padding; trailing '=' tolerated)
 * into a NULL-terminated vector of strings. The vector and its strings are one
 * allocation: free(*out) releases everything. An empty text gives an empty
 * vector. Returns 0, -EINVAL (bad alphabet, bad length, data not ending in a
 * NUL) or -ENOMEM. *out is set only on success.
 */
int vs_guest_list_decode(const char *text, size_t len, char ***out);

/*
 * Finds the value of the last `key=` parameter in a kernel command line
 * (space-separated, as in /proc/cmdline). Returns a pointer into cmdline and
 * its length in *len, or NULL when the key is absent.
 */
const char *vs_guest_cmdline_find(const char *cmdline, const char *key, size_t *len);

/*
 * Parses the len bytes of a vessel.ip value. Returns 0 and fills *out, or
 * -EINVAL (bad interface name, address, prefix, or too many fields).
 */
int vs_guest_ip_parse(const char *val, size_t len, struct vs_guest_ip *out);

#endif /* VS_GUEST_CMD_DECODE_H */
