/* tap devices from /dev/net/tun, for VMs' virtio-net backends. */
#ifndef VS_NET_TAP_H
#define VS_NET_TAP_H

struct vs_err;

#define VS_TAP_PERSIST (1u << 0) /* the device outlives the fd (TUNSETPERSIST) */
#define VS_TAP_VNET_HDR (1u << 1) /* IFF_VNET_HDR, 12-byte virtio_net_hdr_mrg_rxbuf, offloads */

/* Size of the header every frame carries with VS_TAP_VNET_HDR (virtio 1.x
 * §5.1.6: struct virtio_net_hdr with num_buffers). */
#define VS_TAP_VNET_HDR_LEN 12

/* Creates (or, for an existing persistent tap, attaches to) tap `name` in
 * the network namespace netns_fd (-1: the caller's), as IFF_TAP|IFF_NO_PI
 * (+IFF_VNET_HDR). With VS_TAP_VNET_HDR it also asks for checksum and TSO
 * offloads (TUNSETOFFLOAD), falling back to none where refused; *offloads
 * (optional) receives the TUN_F_* bits granted. Returns 0 or -errno; on
 * success *out_fd owns the queue fd (O_CLOEXEC). Without VS_TAP_PERSIST the
 * device disappears when the fd is closed. */
int vs_tap_create(int netns_fd, const char *name, unsigned flags, int *out_fd, unsigned *offloads,
		  struct vs_err **err);

#endif
