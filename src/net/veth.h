/* veth pairs, with the peer created directly in another namespace. */
#ifndef VS_NET_VETH_H
#define VS_NET_VETH_H

struct vs_err;
struct vs_nl;

/* Creates the pair name <-> peer. name is made in nl's namespace; the peer
 * is made in peer_netns_fd (-1: nl's namespace too) under the name peer
 * (e.g. "eth0"), so it never appears in nl's namespace and cannot clash
 * with names there. Both ends are left down. Returns 0 or -errno; on
 * failure nothing is left. */
int vs_veth_add(struct vs_nl *nl, const char *name, const char *peer, int peer_netns_fd,
		struct vs_err **err);

#endif
