/* Published-port specifications: `-p [HOSTIP:]HOSTPORT:PORT[/tcp|udp]`. */
#ifndef VS_NET_PORT_H
#define VS_NET_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;

enum vs_proto { VS_PROTO_TCP, VS_PROTO_UDP };

struct vs_port_spec {
	uint32_t host_ip; /* host byte order; 0: every local address */
	uint16_t host_port; /* 1..65535 */
	uint16_t port; /* in the container or VM, 1..65535 */
	enum vs_proto proto;
};

/* Parses s. Returns 0 or -EINVAL with a one-line *err naming the bad part. */
int vs_port_spec_parse(const char *s, struct vs_port_spec *out, struct vs_err **err);

/* Formats p back as "[HOSTIP:]HOSTPORT:PORT/PROTO" into buf (>= 40 bytes). */
char *vs_port_spec_str(const struct vs_port_spec *p, char *buf);

const char *vs_proto_name(enum vs_proto proto);

/* Whether a and b claim the same host port: same protocol and port, and the
 * same host address or either one on every address. */
bool vs_port_spec_conflicts(const struct vs_port_spec *a, const struct vs_port_spec *b);

#endif
