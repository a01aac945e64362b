/* libnftables, run inside a network namespace, and the parsing of its
 * listings back into rules (chain, comment, handle). */
#ifndef VS_NET_NFT_H
#define VS_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;

/* Runs nft commands (one transaction: all or nothing) in netns_fd (-1: the
 * caller's namespace) through libnftables. If out is not NULL it receives
 * the output (free()), printed with rule handles. On failure *err holds
 * the first line of libnftables' message. Returns 0, -ENOENT when the
 * message says an object is missing, -EEXIST when one exists, or -EIO. */
int vs_nft_run(int netns_fd, const char *cmds, char **out, struct vs_err **err);

/* Runs a table's layout batch, which starts with `create table`: the
 * table's first user makes it, and -EEXIST (someone else did, maybe
 * concurrently) counts as done. 0 or as vs_nft_run. */
int vs_nft_layout(int netns_fd, const char *layout, struct vs_err **err);

struct vs_nft_rule {
	char chain[64];
	char comment[128];
	uint64_t handle;
};

/* Parses the listing of one table printed with handles: every rule that
 * carries a comment. Returns 0 with *out (free()) holding *n rules. */
int vs_nft_rules(const char *listing, struct vs_nft_rule **out, size_t *n);

/* Parses a listing of chains (`list chains`, with or without handles) for
 * a base chain hooked at forward whose policy is drop, in a table other
 * than skip ("inet vessel"). Returns true with "table ip filter chain
 * FORWARD" in buf (len bytes) for the first one, false if there is none. */
bool vs_nft_forward_drop(const char *listing, const char *skip, char *buf, size_t len);

#endif
