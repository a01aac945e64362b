/* tap devices: open /dev/net/tun on a thread inside the target namespace
 * (the device is created in the namespace of the thread doing TUNSETIFF). */
#include "net/tap.h"
#include "net/link.h"
#include "net/netns.h"
#include "common/cleanup.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

struct tap_call {
	const char *name;
	unsigned flags;
	int fd;
	unsigned offloads;
	const char *step; /* which step failed, for the error text */
};

/* Checksum + TSO first, then checksum alone, then nothing: older kernels
 * or devices may refuse some bits. */
static unsigned tap_offload(int fd)
{
	static const unsigned tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM,
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0)
			return tries[i];
	return 0;
}

static int tap_open(void *p)
{
	struct tap_call *c = p;
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int hdr = VS_TAP_VNET_HDR_LEN;
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	c->step = "opening /dev/net/tun";
	if (fd < 0)
		return -errno;
	if (c->flags & VS_TAP_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->name);
	c->step = "TUNSETIFF";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	c->step = "TUNSETPERSIST";
	if ((c->flags & VS_TAP_PERSIST) && ioctl(fd, TUNSETPERSIST, 1) < 0)
		return -errno;
	if (c->flags & VS_TAP_VNET_HDR) {
		c->step = "TUNSETVNETHDRSZ";
		if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
			return -errno;
		c->offloads = tap_offload(fd);
	}
	c->fd = steal_fd(fd);
	return 0;
}

int vs_tap_create(int netns_fd, const char *name, unsigned flags, int *out_fd, unsigned *offloads,
		  struct vs_err **err)
{
	struct tap_call c = { .name = name, .flags = flags, .fd = -1, .step = "entering namespace" };
	int r;

	if (!vs_ifname_is_valid(name))
		return vs_err_set(err, -EINVAL, "invalid tap name '%s'", name ? name : "");
	r = vs_netns_run(netns_fd, tap_open, &c);
	if (r < 0)
		return vs_err_setsys(err, r, "creating tap %s: %s", name, c.step);
	*out_fd = c.fd;
	if (offloads)
		*offloads = c.offloads;
	return 0;
}
