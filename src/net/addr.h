/* IPv4 addresses on links (RTM_NEWADDR/RTM_DELADDR).
 * IPv4 addresses are uint32_t in host byte order throughout src/net. */
#ifndef VS_NET_ADDR_H
#define VS_NET_ADDR_H

#include <stdint.h>

struct vs_err;
struct vs_nl;

/* Adds addr/prefix to link dev (with the subnet's broadcast address).
 * Returns 0, -EEXIST if it is already there, or another -errno. */
int vs_addr_add(struct vs_nl *nl, const char *dev, uint32_t addr, uint8_t prefix,
		struct vs_err **err);

/* Removes addr/prefix from dev. Returns 0, -EADDRNOTAVAIL or another -errno. */
int vs_addr_del(struct vs_nl *nl, const char *dev, uint32_t addr, uint8_t prefix,
		struct vs_err **err);

#endif
