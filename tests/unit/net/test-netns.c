/* Root tests for src/net's namespace handling, against the real kernel:
 * rtnetlink sockets, taps, sysctls and nftables act inside a namespace
 * this test makes (a thread's unshare(CLONE_NEWNET), held by an fd: no
 * iproute2, gone when the fd closes), and the calling thread's own
 * namespace is never changed. Prints "1..0 # SKIP" when not root. */
#include "net/bridge.h"
#include "net/link.h"
#include "net/nat.h"
#include "net/netns.h"
#include "net/nl.h"
#include "net/tap.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static int netns_fd = -1;

static int new_netns(void *p)
{
	int *fd = p;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* Makes a fresh namespace for each test. unshare() must not move this
 * thread, so it runs on a helper thread: vs_netns_run() given our own
 * namespace starts one (entering the namespace it is already in). */
static int setup(void **state)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1, r;

	(void)state;
	if (cur < 0)
		return -1;
	r = vs_netns_run(cur, new_netns, &fd);
	close(cur);
	if (r < 0)
		return -1;
	netns_fd = fd;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(netns_fd);
	netns_fd = -1;
	return 0;
}

static ino_t my_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static void test_link_in_netns(void **state)
{
	struct vs_nl *in = NULL, *here = NULL;
	struct vs_bridge_opts o = { .mtu = 1280 };
	struct vs_link_info li;
	struct vs_err *e = NULL;
	char name[16];
	ino_t before = my_netns();

	(void)state;
	snprintf(name, sizeof(name), "vessel-t%d", (int)getpid() % 100000);
	assert_int_equal(vs_nl_open(netns_fd, &in, NULL), 0);
	assert_int_equal(vs_nl_open(-1, &here, NULL), 0);
	assert_int_equal(vs_bridge_add(in, name, &o, NULL), 0);
	assert_int_equal(vs_link_get(in, name, &li, NULL), 0);
	assert_int_equal(li.mtu, 1280);
	assert_string_equal(li.kind, "bridge");
	/* not in ours, and we never moved */
	assert_int_equal(vs_link_get(here, name, &li, &e), -ENODEV);
	vs_err_free(e);
	e = NULL;
	assert_true(my_netns() == before);
	/* the kernel's extended ack reaches the message */
	assert_int_equal(vs_link_set_master(in, name, name, &e), -ELOOP);
	assert_non_null(strstr(e->msg, "Can not enslave a bridge to a bridge"));
	vs_err_free(e);
	assert_int_equal(vs_link_del(in, name, NULL), 0);
	vs_nl_free(in);
	vs_nl_free(here);
}

static void test_tap_in_netns(void **state)
{
	struct vs_nl *in = NULL;
	struct vs_link_info li;
	unsigned off = 0;
	int fd = -1;

	(void)state;
	assert_int_equal(vs_nl_open(netns_fd, &in, NULL), 0);
	assert_int_equal(vs_tap_create(netns_fd, "vessel-tap", VS_TAP_VNET_HDR, &fd, &off, NULL),
			 0);
	assert_true(off != 0);
	assert_int_equal(vs_link_get(in, "vessel-tap", &li, NULL), 0);
	assert_string_equal(li.kind, "tun");
	close(fd);
	/* not persistent: gone with its fd */
	assert_int_equal(vs_link_get(in, "vessel-tap", &li, NULL), -ENODEV);
	vs_nl_free(in);
}

static void test_sysctl_in_netns(void **state)
{
	uint8_t *before = NULL, *after = NULL;
	size_t n1 = 0, n2 = 0;
	bool changed = false;

	(void)state;
	assert_int_equal(vs_read_file("/proc/sys/net/ipv4/ip_forward", 16, &before, &n1), 0);
	/* a new namespace inherits IPv4's settings from the host's: start at 0 */
	assert_int_equal(vs_netns_sysctl_set(netns_fd, "net/ipv4/ip_forward", "0", NULL, NULL), 0);
	assert_int_equal(vs_netns_forwarding_enable(netns_fd, &changed, NULL), 0);
	assert_true(changed);
	assert_int_equal(vs_netns_forwarding_enable(netns_fd, &changed, NULL), 0);
	assert_false(changed);
	assert_int_equal(vs_read_file("/proc/sys/net/ipv4/ip_forward", 16, &after, &n2), 0);
	assert_memory_equal(before, after, VS_MIN(n1, n2));
	free(before);
	free(after);
}

static void test_nat_in_netns(void **state)
{
	struct vs_nl *in = NULL;
	struct vs_bridge_opts o = { 0 };
	struct vs_nat_network n = { .bridge = "vessel-nat", .subnet = { 0x0ad20000, 24 } };
	char *out = NULL;

	(void)state;
	assert_int_equal(vs_nl_open(netns_fd, &in, NULL), 0);
	assert_int_equal(vs_bridge_add(in, "vessel-nat", &o, NULL), 0);
	assert_int_equal(vs_nat_network_add(netns_fd, &n, NULL, NULL), 0);
	assert_int_equal(vs_nat_list(netns_fd, &out, NULL), 0);
	assert_non_null(strstr(out, "comment \"vessel:net:vessel-nat:masquerade\""));
	free(out);
	assert_int_equal(vs_nat_teardown(netns_fd, NULL), 0);
	assert_int_equal(vs_nat_list(netns_fd, &out, NULL), -ENOENT);
	vs_nl_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_in_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_in_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_in_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nat_in_netns, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	if (access("/dev/net/tun", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/net/tun is absent\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
