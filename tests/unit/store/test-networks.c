/* Unit tests for the store's networks and addresses tables (migration 3):
 * rows in and out, unique names and bridges, one lease per address and
 * network, release by owner, a rolled-back lease leaves nothing. */
#include "store/networks.h"
#include "store/store.h"
#include "common/err.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static char root[256];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/vessel-test-netstore-%d-XXXXXX", getpid());
	if (!mkdtemp(root))
		return -1;
	return vs_store_open(root, (struct vs_store **)state, NULL);
}

static int teardown(void **state)
{
	char cmd[300];

	vs_store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vs_store_net net(const char *name, const char *bridge, const char *subnet)
{
	return (struct vs_store_net){ .name = (char *)name,
				      .bridge = (char *)bridge,
				      .subnet = (char *)subnet,
				      .gateway = (char *)"10.1.0.1",
				      .internal = true,
				      .mtu = 1400,
				      .vlan = 7,
				      .created_at = 42 };
}

static struct vs_store_addr lease(const char *network, const char *addr, const char *owner)
{
	return (struct vs_store_addr){ .network = (char *)network,
				       .address = (char *)addr,
				       .owner_kind = (char *)"container",
				       .owner_name = (char *)owner,
				       .allocated_at = 1 };
}

static void test_networks_table(void **state)
{
	struct vs_store *s = *state;
	struct vs_store_net a = net("a", "vessel-a", "10.1.0.0/24"), **v = NULL, *got = NULL;
	struct vs_store_net b = net("b", "vessel-b", "10.2.0.0/24");
	struct vs_err *e = NULL;
	size_t n = 0;

	assert_true(vs_store_schema_latest() >= 3);
	assert_int_equal(vs_store_net_insert(s, &b, NULL), 0);
	assert_int_equal(vs_store_net_insert(s, &a, NULL), 0);
	assert_int_equal(vs_store_net_insert(s, &a, &e), -EEXIST);
	assert_string_equal(e->msg, "a network named 'a' already exists");
	vs_err_free(e);
	e = NULL;
	struct vs_store_net c = net("c", "vessel-a", "10.3.0.0/24");
	assert_int_equal(vs_store_net_insert(s, &c, &e), -EEXIST);
	assert_string_equal(e->msg, "bridge vessel-a is used by another network");
	vs_err_free(e);
	assert_int_equal(vs_store_net_bridge_taken(s, "vessel-a", NULL), 1);
	assert_int_equal(vs_store_net_bridge_taken(s, "vessel-c", NULL), 0);

	assert_int_equal(vs_store_net_get(s, "a", &got, NULL), 0);
	assert_string_equal(got->bridge, "vessel-a");
	assert_string_equal(got->subnet, "10.1.0.0/24");
	assert_string_equal(got->gateway, "10.1.0.1");
	assert_true(got->internal);
	assert_int_equal(got->mtu, 1400);
	assert_int_equal(got->vlan, 7);
	assert_int_equal(got->created_at, 42);
	vs_store_net_free(got);
	assert_int_equal(vs_store_net_get(s, "zz", &got, NULL), -ENOENT);

	assert_int_equal(vs_store_net_list(s, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "a"); /* ordered by name */
	assert_string_equal(v[1]->name, "b");
	vs_store_net_list_free(v, n);

	assert_int_equal(vs_store_net_delete(s, "b", NULL), 0);
	assert_int_equal(vs_store_net_delete(s, "b", NULL), -ENOENT);
}

static void test_addresses_table(void **state)
{
	struct vs_store *s = *state;
	struct vs_store_net a = net("a", "vessel-a", "10.1.0.0/24");
	struct vs_store_net b = net("b", "vessel-b", "10.2.0.0/24");
	struct vs_store_addr *v = NULL, x = lease("a", "10.1.0.2", "c1");
	struct vs_err *e = NULL;
	size_t n = 0;

	assert_int_equal(vs_store_net_insert(s, &a, NULL), 0);
	assert_int_equal(vs_store_net_insert(s, &b, NULL), 0);
	assert_int_equal(vs_store_addr_insert(s, &x, NULL), 0);
	x = lease("a", "10.1.0.2", "c2");
	assert_int_equal(vs_store_addr_insert(s, &x, &e), -EEXIST);
	assert_string_equal(e->msg, "address 10.1.0.2 is already allocated on network a");
	vs_err_free(e);
	x = lease("a", "10.1.0.3", "c2");
	assert_int_equal(vs_store_addr_insert(s, &x, NULL), 0);
	x = lease("b", "10.1.0.2", "c2"); /* another network: its own address space */
	assert_int_equal(vs_store_addr_insert(s, &x, NULL), 0);

	assert_int_equal(vs_store_addr_list(s, "a", &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].address, "10.1.0.2");
	assert_string_equal(v[0].owner_name, "c1");
	assert_string_equal(v[1].owner_kind, "container");
	vs_store_addr_list_free(v, n);
	assert_int_equal(vs_store_addr_list(s, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	vs_store_addr_list_free(v, n);

	assert_int_equal(vs_store_addr_release_owner(s, "container", "c2", NULL), 2);
	assert_int_equal(vs_store_addr_release_owner(s, "vm", "c1", NULL), 0); /* kind matters */
	assert_int_equal(vs_store_addr_list(s, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].owner_name, "c1");
	vs_store_addr_list_free(v, n);
}

static void test_rolled_back_lease_leaves_nothing(void **state)
{
	struct vs_store *s = *state;
	struct vs_store_net a = net("a", "vessel-a", "10.1.0.0/24");
	struct vs_store_addr *v = NULL, x = lease("a", "10.1.0.2", "c1");
	size_t n = 0;

	assert_int_equal(vs_store_net_insert(s, &a, NULL), 0);
	assert_int_equal(vs_store_begin(s, NULL), 0);
	assert_int_equal(vs_store_addr_insert(s, &x, NULL), 0);
	vs_store_rollback(s);
	assert_int_equal(vs_store_addr_list(s, "a", &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	vs_store_addr_list_free(v, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_networks_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_lease_leaves_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
