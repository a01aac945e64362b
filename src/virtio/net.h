/* virtio-net over the modern PCI transport (virtio 1.2 §5.1) on a frame
 * backend: a tap opened with IFF_VNET_HDR and a 12-byte vnet header
 * (TUNSETVNETHDRSZ), or anything that reads and writes one frame per call
 * with that header in front (a datagram socketpair in the unit tests).
 *
 * Queues: 0 receive, 1 transmit (no control queue, one pair). Features:
 * MAC, STATUS (link up), MRG_RXBUF, CSUM and HOST_TSO4/6 (the tap takes
 * partial checksums and GSO frames from the guest as they are), and
 * GUEST_CSUM / GUEST_TSO4/6 when the tap granted those offloads; at
 * DRIVER_OK the tap is told (TUNSETOFFLOAD) which of them the driver took,
 * so it never hands the guest a frame the guest did not ask for.
 *
 * Threading: both queues and the backend fd are served on the transport's
 * I/O thread (doorbells are ioeventfds, the fd is watched by the same
 * vs_evloop), under the transport lock. The backend is read only while the
 * driver has receive buffers: with none, one frame waits and the fd is not
 * watched until the driver adds buffers (the kernel queues or drops the
 * rest, as for a slow NIC). */
#ifndef VS_VIRTIO_NET_H
#define VS_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

struct vs_virtio_pci;
struct vs_virtio_pci_env;
struct vs_virtio_net;

#define VS_VIRTIO_ID_NET 1
#define VS_VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr with num_buffers (§5.1.6) */

/* Feature bits (§5.1.3) */
#define VS_VIRTIO_NET_F_CSUM 0
#define VS_VIRTIO_NET_F_GUEST_CSUM 1
#define VS_VIRTIO_NET_F_MAC 5
#define VS_VIRTIO_NET_F_GUEST_TSO4 7
#define VS_VIRTIO_NET_F_GUEST_TSO6 8
#define VS_VIRTIO_NET_F_HOST_TSO4 11
#define VS_VIRTIO_NET_F_HOST_TSO6 12
#define VS_VIRTIO_NET_F_MRG_RXBUF 15
#define VS_VIRTIO_NET_F_STATUS 16

struct vs_virtio_net_config {
	int fd; /* the backend; the device owns it from vs_virtio_net_new() on, even on failure */
	bool is_tap; /* TUNSETOFFLOAD applies */
	unsigned tap_offloads; /* TUN_F_* the tap granted (tap.h); 0: none */
	uint8_t mac[6];
};

struct vs_virtio_net_stats {
	uint64_t tx_frames, tx_dropped; /* guest to backend */
	uint64_t rx_frames, rx_dropped; /* backend to guest */
};

/* Creates the device and its transport on env's buses (env needs an
 * ioeventfd verb: the device lives on the I/O thread). Returns 0 or
 * -errno (-ENOTSUP: no I/O thread); the fd is closed on failure. */
int vs_virtio_net_new(const struct vs_virtio_pci_env *env, const struct vs_virtio_net_config *cfg,
		      struct vs_virtio_net **out);
/* Stops the I/O thread, closes the backend fd, frees. NULL-safe. */
void vs_virtio_net_free(struct vs_virtio_net *net);
struct vs_virtio_pci *vs_virtio_net_transport(struct vs_virtio_net *net);
/* A snapshot of the counters (taken under the transport lock). */
void vs_virtio_net_stats(struct vs_virtio_net *net, struct vs_virtio_net_stats *out);

/* Parses "52:54:00:12:34:56" into mac: six hex pairs, unicast (bit 0 of
 * the first byte clear), not all zero. Returns 0 or -EINVAL. */
int vs_virtio_net_parse_mac(const char *s, uint8_t mac[6]);
/* A random locally administered unicast address (first byte 0x52, as QEMU's 52:54:00 prefix). */
void vs_virtio_net_random_mac(uint8_t mac[6]);

#endif
