/* An rtnetlink socket (libmnl) with request/ack and dumps.
 *
 * Every request carries its own sequence number; replies with another
 * sequence or port id are ignored. Extended acks are enabled, so the
 * kernel's reason ("Unknown device type", "VLAN filtering is disabled")
 * becomes part of the vs_err text. A socket opened with a namespace fd
 * lives in that namespace for good: every request on it acts there. */
#ifndef VS_NET_NL_H
#define VS_NET_NL_H

#include <stdint.h>

struct nlmsghdr;
struct vs_err;
struct vs_nl;

/* Opens an rtnetlink socket in the network namespace netns_fd (-1: the
 * caller's). Returns 0 or -errno; *out must be freed with vs_nl_free(). */
int vs_nl_open(int netns_fd, struct vs_nl **out, struct vs_err **err);
void vs_nl_free(struct vs_nl *nl);

/* Starts a new message in the socket's send buffer (zeroed, header of the
 * given type and flags plus NLM_F_REQUEST, fresh sequence number). The
 * message is valid until the next vs_nl_msg() on the same socket. */
struct nlmsghdr *vs_nl_msg(struct vs_nl *nl, uint16_t type, uint16_t flags);

/* Called for every data message of a reply; returns 0 to go on or -errno
 * to stop (that value is then returned by vs_nl_talk). */
typedef int (*vs_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Sends nlh (from vs_nl_msg) and reads until its ack (NLM_F_ACK is added
 * unless NLM_F_DUMP is set) or the end of the dump, calling cb (may be
 * NULL) for each data message. On failure *err reads "<what>: <kernel's
 * extended ack>: <strerror>". Returns 0 or -errno; -EAGAIN (without
 * *err) when a dump was interrupted by a concurrent change
 * (NLM_F_DUMP_INTR): its results may be inconsistent, dump again. */
int vs_nl_talk(struct vs_nl *nl, struct nlmsghdr *nlh, vs_nl_cb cb, void *data, const char *what,
	       struct vs_err **err);

#endif
