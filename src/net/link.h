/* Network links over rtnetlink: look up, delete, change (up/down, master,
 * MTU, MAC, name, namespace). Creation lives with each kind: bridge.c,
 * veth.c, tap.c. */
#ifndef VS_NET_LINK_H
#define VS_NET_LINK_H

#include <stdbool.h>
#include <stdint.h>

struct vs_err;
struct vs_nl;

#define VS_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define VS_MAC_LEN 6

struct vs_link_info {
	int ifindex;
	int master; /* ifindex of the bridge it is enslaved to, 0 if none */
	uint32_t mtu;
	bool up; /* IFF_UP (administrative state) */
	uint8_t mac[VS_MAC_LEN];
	char name[VS_IFNAME_MAX + 1];
	char kind[16]; /* IFLA_INFO_KIND ("bridge", "veth", "tun"), "" if none */
};

/* A name the kernel accepts: 1..15 bytes, no '/', ':' or whitespace. We
 * also restrict to [A-Za-z0-9_.-] so names are safe inside nft commands. */
bool vs_ifname_is_valid(const char *name);

/* Looks up a link by name. Returns 0, -ENODEV if there is none (with *err
 * filled), or another -errno. */
int vs_link_get(struct vs_nl *nl, const char *name, struct vs_link_info *out, struct vs_err **err);

/* Deletes a link (for a veth, both ends go). Returns 0 or -errno. */
int vs_link_del(struct vs_nl *nl, const char *name, struct vs_err **err);

/* The changes vs_link_change() applies; vs_link_change_init() marks every
 * field "unchanged". */
struct vs_link_change {
	const char *name; /* new name, NULL: unchanged */
	int master; /* ifindex of the new master, 0: none, -1: unchanged */
	uint32_t mtu; /* 0: unchanged */
	const uint8_t *mac; /* VS_MAC_LEN bytes, NULL: unchanged */
	int up; /* 1 up, 0 down, -1 unchanged */
	int netns_fd; /* move into this namespace, -1: stay */
};
void vs_link_change_init(struct vs_link_change *c);

/* Applies c to the link ifindex in one RTM_NEWLINK. Returns 0 or -errno. */
int vs_link_change(struct vs_nl *nl, int ifindex, const struct vs_link_change *c,
		   struct vs_err **err);

/* Convenience forms of vs_link_change() by name. master NULL: no master. */
int vs_link_set_up(struct vs_nl *nl, const char *name, bool up, struct vs_err **err);
int vs_link_set_master(struct vs_nl *nl, const char *name, const char *master, struct vs_err **err);
int vs_link_set_mtu(struct vs_nl *nl, const char *name, uint32_t mtu, struct vs_err **err);
int vs_link_set_mac(struct vs_nl *nl, const char *name, const uint8_t *mac, struct vs_err **err);
int vs_link_rename(struct vs_nl *nl, const char *name, const char *new_name, struct vs_err **err);
int vs_link_set_netns(struct vs_nl *nl, const char *name, int netns_fd, struct vs_err **err);

#endif
