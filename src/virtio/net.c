/* virtio-net (virtio 1.2 §5.1), see net.h.
 * Map: features and config space; transmit (guest -> backend); receive
 * (backend -> guest, mergeable buffers); activate and reset; creation;
 * MAC addresses. */
#include "virtio/net.h"
#include "virtio/pci.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 256
#define HDR VS_VIRTIO_NET_HDR_LEN
#define ETH_HLEN 14
/* The largest frame either way: a 64 KiB GSO frame plus Ethernet and VLAN headers. */
#define MAX_FRAME (65535 + ETH_HLEN + 4)
#define RXBUF_LEN (HDR + MAX_FRAME)
/* Mergeable buffers one frame may take (Linux posts at least 1518 bytes each). */
#define RX_MAX_BUFS 64
/* Frames per wakeup before the loop looks at other work (the fd is level-triggered). */
#define RX_BUDGET 256
/* Sent chains returned to the driver with one used->idx store: the driver
 * polls that line, and a store per frame makes it bounce between CPUs. */
#define TX_USED_BATCH 32
#define CONFIG_LEN 10 /* mac[6], status, max_virtqueue_pairs (§5.1.4) */
#define LINK_UP 1

/* struct virtio_net_hdr (§5.1.6) */
#define HDR_F_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80

struct vs_virtio_net {
	struct vs_virtio_pci *transport;
	struct vs_dma dma;
	int fd;
	bool is_tap;
	unsigned tap_offloads;
	uint8_t mac[6];
	uint64_t features; /* negotiated, from activate */
	bool rx_stalled; /* no receive buffers: fd not watched, RX kicks wanted */
	size_t pending; /* bytes of the frame waiting in rxbuf (header included); 0: none */
	uint8_t *rxbuf;
	struct vs_vq_elem tx;
	struct vs_vq_elem rx[RX_MAX_BUFS];
	struct vs_virtio_net_stats stats;
};

static bool has(const struct vs_virtio_net *net, unsigned bit)
{
	return net->features & (1ull << bit);
}

static uint64_t net_features(void *dev)
{
	struct vs_virtio_net *net = dev;
	uint64_t f = 1ull << VS_VIRTIO_NET_F_MAC | 1ull << VS_VIRTIO_NET_F_STATUS |
		     1ull << VS_VIRTIO_NET_F_MRG_RXBUF | 1ull << VS_VIRTIO_NET_F_CSUM |
		     1ull << VS_VIRTIO_NET_F_HOST_TSO4 | 1ull << VS_VIRTIO_NET_F_HOST_TSO6;

	if (net->tap_offloads & TUN_F_CSUM) {
		f |= 1ull << VS_VIRTIO_NET_F_GUEST_CSUM;
		if (net->tap_offloads & TUN_F_TSO4)
			f |= 1ull << VS_VIRTIO_NET_F_GUEST_TSO4;
		if (net->tap_offloads & TUN_F_TSO6)
			f |= 1ull << VS_VIRTIO_NET_F_GUEST_TSO6;
	}
	return f;
}

static void net_config_read(void *dev, unsigned off, void *data, unsigned len)
{
	struct vs_virtio_net *net = dev;
	uint8_t cfg[CONFIG_LEN];
	uint16_t status = LINK_UP, pairs = 1;

	memcpy(cfg, net->mac, 6);
	memcpy(cfg + 6, &status, 2);
	memcpy(cfg + 8, &pairs, 2);
	memcpy(data, cfg + off, len); /* the transport keeps off + len inside CONFIG_LEN */
}

/* --- transmit ---------------------------------------------------------- */

/* Whether the header asks for an offload the driver did not negotiate
 * (§5.1.6.2: the driver must not; we drop such frames rather than pass them).
 * A policy check only: the driver may rewrite the header before writev()
 * reads it again; the tap's own virtio_net_hdr_to_skb() is what validates
 * the header the kernel acts on. */
static bool tx_hdr_bad(const struct vs_virtio_net *net, const struct vs_vq_elem *e)
{
	uint8_t h[HDR];
	size_t got = 0;
	uint8_t gso;

	for (unsigned i = 0; i < e->nout && got < HDR; i++) {
		size_t c = e->iov[i].iov_len < HDR - got ? e->iov[i].iov_len : HDR - got;

		memcpy(h + got, e->iov[i].iov_base, c);
		got += c;
	}
	gso = h[1] & (uint8_t)~GSO_ECN;
	if ((h[0] & HDR_F_NEEDS_CSUM) && !has(net, VS_VIRTIO_NET_F_CSUM))
		return true;
	if (h[1] & GSO_ECN)
		return true; /* HOST_ECN is not offered */
	if (gso == GSO_NONE)
		return false;
	return !((gso == GSO_TCPV4 && has(net, VS_VIRTIO_NET_F_HOST_TSO4)) ||
		 (gso == GSO_TCPV6 && has(net, VS_VIRTIO_NET_F_HOST_TSO6)));
}

/* One chain: header and frame in its readable part, written to the
 * backend as they are (no copy). Bad chains are dropped, not fatal. */
static void tx_one(struct vs_virtio_net *net, const struct vs_vq_elem *e)
{
	ssize_t n;

	if (e->out_len < HDR + ETH_HLEN || e->out_len > HDR + MAX_FRAME || tx_hdr_bad(net, e)) {
		net->stats.tx_dropped++;
		return;
	}
	do /* write() when the chain is one buffer: the kernel's cheaper path */
		n = e->nout == 1 ? write(net->fd, e->iov[0].iov_base, e->iov[0].iov_len) :
				   writev(net->fd, e->iov, (int)e->nout);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		net->stats.tx_dropped++;
	else
		net->stats.tx_frames++;
}

/* Sends every available chain, publishing them used TX_USED_BATCH at a
 * time (all before it returns). Returns 0 or -EIO (the queue is broken). */
static int tx_batch(struct vs_virtio_net *net, struct vs_vq *vq)
{
	unsigned filled = 0;
	int r;

	while ((r = vs_vq_pop(vq, &net->tx)) > 0) {
		tx_one(net, &net->tx);
		if (vs_vq_fill(vq, &net->tx, 0, filled++) < 0)
			return -EIO;
		if (filled == TX_USED_BATCH || filled == vq->size) {
			if (vs_vq_flush(vq, filled) < 0)
				return -EIO;
			filled = 0;
		}
	}
	if (filled && vs_vq_flush(vq, filled) < 0)
		return -EIO;
	return r < 0 ? -EIO : 0;
}

static void tx_drain(struct vs_virtio_net *net, struct vs_virtio_pci *t, struct vs_vq *vq)
{
	int r;

	do {
		vs_vq_disable_notify(vq);
		r = tx_batch(net, vq);
		if (r < 0) {
			vs_virtio_pci_needs_reset(t);
			return;
		}
	} while (vs_vq_enable_notify(vq));
	vs_virtio_pci_queue_done(t, TXQ);
}

/* --- receive ----------------------------------------------------------- */

/* Copies len bytes of src into e's writable part; returns the bytes copied. */
static size_t scatter(const struct vs_vq_elem *e, const uint8_t *src, size_t len)
{
	size_t done = 0;

	for (unsigned i = e->nout; i < e->nout + e->nin && done < len; i++) {
		size_t c = e->iov[i].iov_len < len - done ? e->iov[i].iov_len : len - done;

		memcpy(e->iov[i].iov_base, src + done, c);
		done += c;
	}
	return done;
}

/* Whether the frame in rxbuf may go to this driver (§5.1.6.3.1); fixes the
 * flags for a driver without GUEST_CSUM. */
static bool rx_frame_ok(struct vs_virtio_net *net)
{
	uint8_t gso = net->rxbuf[1] & (uint8_t)~GSO_ECN;

	if (!has(net, VS_VIRTIO_NET_F_GUEST_CSUM))
		net->rxbuf[0] = 0;
	if (net->rxbuf[1] & GSO_ECN)
		return false;
	return gso == GSO_NONE || (gso == GSO_TCPV4 && has(net, VS_VIRTIO_NET_F_GUEST_TSO4)) ||
	       (gso == GSO_TCPV6 && has(net, VS_VIRTIO_NET_F_GUEST_TSO6));
}

/* Reads frames until one may go to the guest. Returns 1 (pending set) or
 * 0 (nothing to read). */
static int rx_read(struct vs_virtio_net *net)
{
	for (;;) {
		ssize_t n = read(net->fd, net->rxbuf, RXBUF_LEN);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0;
		if (n >= HDR + ETH_HLEN && rx_frame_ok(net)) {
			net->pending = (size_t)n;
			return 1;
		}
		net->stats.rx_dropped++;
	}
}

/* Puts the pending frame into as many chains as it needs (one without
 * MRG_RXBUF), all published at once. Returns 1 when the frame is done
 * with (delivered or dropped), 0 when the driver has too few buffers now
 * (none consumed), -EIO when the queue is broken. */
static int rx_deliver(struct vs_virtio_net *net, struct vs_vq *vq)
{
	unsigned n = 0, max = has(net, VS_VIRTIO_NET_F_MRG_RXBUF) ? RX_MAX_BUFS : 1;
	uint64_t room = 0;
	size_t off = 0;
	uint16_t nbufs;
	int r;

	while (room < net->pending) {
		if (n == max) { /* bigger than the driver's buffers can ever take */
			vs_vq_unpop(vq, n);
			net->stats.rx_dropped++;
			return 1;
		}
		r = vs_vq_pop(vq, &net->rx[n]);
		if (r <= 0) {
			vs_vq_unpop(vq, r < 0 ? 0 : n);
			return r;
		}
		room += net->rx[n++].in_len;
		if (n == 1 && net->rx[0].in_len < HDR) { /* no room for the header: refuse it */
			net->stats.rx_dropped++;
			return vs_vq_fill(vq, &net->rx[0], 0, 0) ?: vs_vq_flush(vq, 1) ?: 1;
		}
	}
	nbufs = (uint16_t)n;
	memcpy(net->rxbuf + 10, &nbufs, 2); /* num_buffers (§5.1.6.4) */
	for (unsigned i = 0; i < n; i++) {
		size_t c = scatter(&net->rx[i], net->rxbuf + off, net->pending - off);

		if (vs_vq_fill(vq, &net->rx[i], (uint32_t)c, i) < 0)
			return -EIO;
		off += c;
	}
	net->stats.rx_frames++;
	return vs_vq_flush(vq, n) ?: 1;
}

/* Moves frames from the backend to the guest until the backend is empty,
 * the driver has no buffers (then stall: stop watching the fd, wait for a
 * receive kick) or the budget is spent. Under the transport lock. */
static void rx_flush(void *dev, struct vs_virtio_pci *t)
{
	struct vs_virtio_net *net = dev;
	struct vs_vq *vq = &t->vq[RXQ];
	unsigned done = 0;
	int r = 1;

	if (!vq->enabled)
		return;
	while (done < RX_BUDGET && (net->pending || rx_read(net))) {
		r = rx_deliver(net, vq);
		if (r == 0 && vs_vq_enable_notify(vq)) {
			vs_vq_disable_notify(vq); /* buffers arrived meanwhile */
			continue;
		}
		if (r <= 0)
			break;
		net->pending = 0;
		done++;
	}
	if (r < 0) {
		vs_virtio_pci_needs_reset(t);
	} else if (r == 0) {
		net->rx_stalled = true;
		vs_virtio_pci_unwatch(t);
	} else if (net->rx_stalled) {
		net->rx_stalled = false;
		vs_vq_disable_notify(vq); /* buffers are reused as the fd delivers */
		vs_virtio_pci_watch(t, net->fd, rx_flush);
	}
	if (done)
		vs_virtio_pci_queue_done(t, RXQ);
}

static void net_notify(void *dev, struct vs_virtio_pci *t, unsigned q, struct vs_vq *vq)
{
	struct vs_virtio_net *net = dev;

	if (q == TXQ)
		tx_drain(net, t, vq);
	else if (q == RXQ && (net->rx_stalled || net->pending))
		rx_flush(net, t);
}

/* --- activate and reset -------------------------------------------------- */

/* The TUN_F_* offloads matching what the driver took (§5.1.6.3). */
static unsigned guest_offloads(const struct vs_virtio_net *net)
{
	unsigned o = 0;

	if (has(net, VS_VIRTIO_NET_F_GUEST_CSUM))
		o |= TUN_F_CSUM;
	if (has(net, VS_VIRTIO_NET_F_GUEST_TSO4))
		o |= TUN_F_TSO4;
	if (has(net, VS_VIRTIO_NET_F_GUEST_TSO6))
		o |= TUN_F_TSO6;
	return o;
}

static void net_activate(void *dev, uint64_t features)
{
	struct vs_virtio_net *net = dev;

	net->features = features;
	/* If the tap cannot drop an offload it granted, frames needing it are dropped in rx_frame_ok. */
	if (net->is_tap && net->tap_offloads)
		(void)ioctl(net->fd, TUNSETOFFLOAD, guest_offloads(net));
	net->rx_stalled = false;
	if (net->transport && net->transport->vq[RXQ].enabled)
		vs_virtio_pci_watch(net->transport, net->fd, rx_flush);
}

static void net_reset(void *dev)
{
	struct vs_virtio_net *net = dev;

	if (net->transport)
		vs_virtio_pci_unwatch(net->transport);
	net->features = 0;
	net->rx_stalled = false;
	net->pending = 0;
}

static const struct vs_virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VS_VIRTIO_ID_NET,
	.pci_class = 0x020000, /* network controller, Ethernet */
	.nqueues = 2,
	.queue_max = QUEUE_SIZE,
	.features = net_features,
	.config_len = CONFIG_LEN,
	.config_read = net_config_read,
	.activate = net_activate,
	.queue_notify = net_notify,
	.reset = net_reset,
};

/* --- creation ------------------------------------------------------------ */

static int net_alloc(struct vs_virtio_net *net)
{
	int r = vs_vq_elem_init(&net->tx, QUEUE_SIZE);

	for (unsigned i = 0; r == 0 && i < RX_MAX_BUFS; i++)
		r = vs_vq_elem_init(&net->rx[i], QUEUE_SIZE);
	net->rxbuf = malloc(RXBUF_LEN);
	return r < 0 ? r : net->rxbuf ? 0 : -ENOMEM;
}

int vs_virtio_net_new(const struct vs_virtio_pci_env *env, const struct vs_virtio_net_config *cfg,
		      struct vs_virtio_net **out)
{
	struct vs_virtio_net *net = xzalloc(sizeof(*net));
	struct vs_virtio_pci_env e = *env;
	int fl, r;

	net->fd = cfg->fd;
	net->is_tap = cfg->is_tap;
	net->tap_offloads = cfg->tap_offloads;
	memcpy(net->mac, cfg->mac, sizeof(net->mac));
	net->dma = *env->dma;
	e.dma = &net->dma;
	fl = fcntl(net->fd, F_GETFL);
	r = fl < 0 || fcntl(net->fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : net_alloc(net);
	if (r == 0 && !env->ioeventfd)
		r = -ENOTSUP;
	if (r == 0)
		r = vs_virtio_pci_new_placed(&e, &net_ops, net, &net->transport);
	if (r < 0) {
		vs_virtio_net_free(net);
		return r;
	}
	*out = net;
	return 0;
}

void vs_virtio_net_free(struct vs_virtio_net *net)
{
	if (!net)
		return;
	vs_virtio_pci_free(net->transport); /* the I/O thread stops first */
	if (net->fd >= 0)
		close(net->fd);
	vs_vq_elem_free(&net->tx);
	for (unsigned i = 0; i < RX_MAX_BUFS; i++)
		vs_vq_elem_free(&net->rx[i]);
	free(net->rxbuf);
	free(net);
}

struct vs_virtio_pci *vs_virtio_net_transport(struct vs_virtio_net *net)
{
	return net->transport;
}

void vs_virtio_net_stats(struct vs_virtio_net *net, struct vs_virtio_net_stats *out)
{
	pthread_mutex_lock(&net->transport->lock);
	*out = net->stats;
	pthread_mutex_unlock(&net->transport->lock);
}

/* --- MAC addresses ------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vs_virtio_net_parse_mac(const char *s, uint8_t mac[6])
{
	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

void vs_virtio_net_random_mac(uint8_t mac[6])
{
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r)) /* never short for 3 bytes */
		r[0] = (uint8_t)getpid();
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	memcpy(mac + 3, r, 3);
}
