/*
 * Guest network setup for vessel-init (the kernel has no IP_PNP, so `ip=`
 * does not exist: the init applies vessel.ip, cmdline-abi.h). Plain ioctls,
 * IPv4 only: enough for one interface with an address, a gateway and DNS.
 */
#include "net.h"
#include "cmd-decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Fills a sockaddr (as sockaddr_in) with an IPv4 address. */
static void sin_set(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

/* ioctl on a fresh AF_INET datagram socket; returns 0 or -errno. */
static int inet_ioctl(unsigned long req, void *arg)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, arg) < 0)
		r = -errno;
	close(fd);
	return r;
}

int vs_init_net_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	r = inet_ioctl(SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return inet_ioctl(SIOCSIFFLAGS, &ifr);
}

static int route_add_default(const struct vs_guest_ip *ip)
{
	struct rtentry rt = { 0 };
	struct in_addr any = { 0 };
	char dev[IF_NAMESIZE];

	snprintf(dev, sizeof(dev), "%s", ip->ifname);
	sin_set(&rt.rt_dst, any);
	sin_set(&rt.rt_genmask, any);
	sin_set(&rt.rt_gateway, ip->gateway);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	return inet_ioctl(SIOCADDRT, &rt);
}

static int resolv_write(struct in_addr dns)
{
	char line[64], addr[INET_ADDRSTRLEN];
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n, r = 0;

	if (fd < 0)
		return -errno;
	inet_ntop(AF_INET, &dns, addr, sizeof(addr));
	n = snprintf(line, sizeof(line), "nameserver %s\n", addr);
	if (write(fd, line, (size_t)n) != n)
		r = -EIO;
	close(fd);
	return r;
}

int vs_init_net_configure(const struct vs_guest_ip *ip, const char **what)
{
	struct ifreq ifr = { 0 };
	struct in_addr mask = { .s_addr = htonl(ip->prefix ? ~0u << (32 - ip->prefix) : 0) };
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ip->ifname);
	sin_set(&ifr.ifr_addr, ip->addr);
	*what = "address";
	if ((r = inet_ioctl(SIOCSIFADDR, &ifr)) < 0)
		return r;
	sin_set(&ifr.ifr_netmask, mask);
	*what = "netmask";
	if ((r = inet_ioctl(SIOCSIFNETMASK, &ifr)) < 0)
		return r;
	*what = "link up";
	if ((r = vs_init_net_up(ip->ifname)) < 0)
		return r;
	*what = "default route";
	if (ip->has_gateway && (r = route_add_default(ip)) < 0)
		return r;
	*what = "/etc/resolv.conf";
	if (ip->has_dns && (r = resolv_write(ip->dns)) < 0)
		return r;
	return 0;
}
