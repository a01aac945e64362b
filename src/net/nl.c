/* rtnetlink request/ack over libmnl, with extended ack messages. */
#include "net/nl.h"
#include "net/netns.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

/* Large enough for a dump batch of links with all their attributes. */
#define VS_NL_RECV_SIZE (64 * 1024)
#define VS_NL_SEND_SIZE 8192

struct vs_nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
	bool intr; /* the last dump saw NLM_F_DUMP_INTR */
	char send[VS_NL_SEND_SIZE] __attribute__((aligned(8)));
	char recv[VS_NL_RECV_SIZE] __attribute__((aligned(8)));
};

static int nl_socket_open(void *p)
{
	struct mnl_socket **out = p;
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int one = 1;

	if (!sk)
		return -errno;
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(sk);
		return e;
	}
	/* both are best effort: old kernels lack them and still work */
	mnl_socket_setsockopt(sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sk, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = sk;
	return 0;
}

int vs_nl_open(int netns_fd, struct vs_nl **out, struct vs_err **err)
{
	struct mnl_socket *sk = NULL;
	struct vs_nl *nl;
	int r = vs_netns_run(netns_fd, nl_socket_open, &sk);

	if (r < 0)
		return vs_err_setsys(err, r, "opening an rtnetlink socket");
	nl = xzalloc(sizeof(*nl));
	nl->sk = sk;
	nl->portid = mnl_socket_get_portid(sk);
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;
}

void vs_nl_free(struct vs_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

struct nlmsghdr *vs_nl_msg(struct vs_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(nl->send, 0, sizeof(nl->send));
	nlh = mnl_nlmsg_put_header(nl->send);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

static int extack_attr(const struct nlattr *a, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*msg = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* Turns an NLMSG_ERROR into 0 (an ack) or -errno with the extended ack
 * text (netlink(7), "Extended ACK"). */
static int nl_error(const struct nlmsghdr *nlh, const char *what, struct vs_err **err)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return vs_err_set(err, -EBADMSG, "%s: truncated netlink error", what);
	if (e->error == 0)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, extack_attr, &msg);
	}
	if (e->error > 0 || e->error < -4095)
		return vs_err_set(err, -EPROTO, "%s: bad netlink error %d", what, e->error);
	if (msg && *msg)
		return vs_err_setsys(err, e->error, "%s: %s", what, msg);
	return vs_err_setsys(err, e->error, "%s", what);
}

/* The end of a dump: it may carry the dump's own error (an int). */
static int nl_done(const struct nlmsghdr *nlh, const char *what, struct vs_err **err)
{
	int e;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return 1;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e < 0 && e >= -4095)
		return vs_err_setsys(err, e, "%s", what);
	return 1;
}

/* Walks one datagram. Returns 1 when the reply is complete, 0 to read on,
 * or -errno. */
static int nl_walk(struct vs_nl *nl, size_t len, uint32_t seq, vs_nl_cb cb, void *data,
		   const char *what, struct vs_err **err)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->recv;
	int left = (int)len, r;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid && nlh->nlmsg_pid != nl->portid))
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			r = nl_error(nlh, what, err);
			return r < 0 ? r : 1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE)
			return nl_done(nlh, what, err);
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			nl->intr = true;
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !cb)
			continue;
		r = cb(nlh, data);
		if (r < 0)
			return vs_err_setsys(err, r, "%s", what);
	}
	return 0;
}

int vs_nl_talk(struct vs_nl *nl, struct nlmsghdr *nlh, vs_nl_cb cb, void *data, const char *what,
	       struct vs_err **err)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	nl->intr = false;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return vs_err_setsys(err, -errno, "%s: sending netlink request", what);
	for (;;) {
		n = mnl_socket_recvfrom(nl->sk, nl->recv, sizeof(nl->recv));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vs_err_setsys(err, -errno, "%s: reading netlink reply", what);
		r = nl_walk(nl, (size_t)n, seq, cb, data, what, err);
		if (r < 0)
			return r;
		if (r)
			return nl->intr ? -EAGAIN : 0;
	}
}
