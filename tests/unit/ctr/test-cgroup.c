/* Unit tests for ctr/cgroup against fake cgroupfs trees in a temporary
 * directory: placement rule, layout detection (v1/hybrid and pure v2),
 * directory creation, limit files for v1 and v2, removal. */
#include "ctr/cgroup.h"
#include "ctr/spec.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
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

static char base[64];

static void put(const char *rel, const char *content)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static char *get(const char *rel)
{
	static char buf[256];
	char p[256];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/vs-cgtest.XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_resolve(void **state)
{
	struct vs_err *e = NULL;
	char *p = NULL;

	(void)state;
	assert_int_equal(vs_cgroup_resolve_path(NULL, "c1", &p, &e), 0);
	assert_string_equal(p, "/vessel/c1");
	free(p);
	assert_int_equal(vs_cgroup_resolve_path("", "c1", &p, &e), 0);
	assert_string_equal(p, "/vessel/c1");
	free(p);
	assert_int_equal(vs_cgroup_resolve_path("a/b", "c1", &p, &e), 0);
	assert_string_equal(p, "/vessel/a/b");
	free(p);
	assert_int_equal(vs_cgroup_resolve_path("/vessel-test/x", "c1", &p, &e), 0);
	assert_string_equal(p, "/vessel-test/x");
	free(p);
	assert_int_equal(vs_cgroup_resolve_path("machine.slice:libpod:abc", "c1", &p, &e), 0);
	assert_string_equal(p, "/vessel/machine.slice/libpod-abc");
	free(p);
	assert_int_equal(vs_cgroup_resolve_path("/a/../../etc", "c1", &p, &e), -EINVAL);
	assert_non_null(e);
	vs_err_free(e);
}

static struct vs_spec_resources limits(void)
{
	struct vs_spec_resources r;

	vs_spec_resources_init(&r); /* everything absent, then: */
	r.memory_limit = 64 << 20;
	r.cpu_shares = 512;
	r.cpu_quota = 20000;
	r.cpu_period = 100000;
	r.pids_limit = 32;
	return r;
}

static void test_v1_hybrid(void **state)
{
	static const char *const ctls[] = {"memory", "cpu", "pids", "unified"};
	struct vs_spec_resources r = limits();
	struct vs_cgroup *cg = NULL;
	struct vs_err *e = NULL;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		char p[64];

		mk(ctls[i]);
		snprintf(p, sizeof(p), "%s/cgroup.procs", ctls[i]);
		put(p, "");
	}
	put("unified/cgroup.controllers", "hugetlb\n");
	put("unified/cgroup.subtree_control", "");
	assert_int_equal(vs_cgroup_open(base, "/vessel-test/c", &cg, &e), 0);
	assert_false(vs_cgroup_is_v2(cg));
	assert_int_equal(vs_cgroup_create(cg, &e), 0);
	assert_null(e);
	/* hybrid: the host's unified subtree_control is never touched */
	assert_string_equal(get("unified/cgroup.subtree_control"), "");
	/* what the kernel would create in the new directories */
	put("memory/vessel-test/c/memory.limit_in_bytes", "");
	put("cpu/vessel-test/c/cpu.shares", "");
	put("cpu/vessel-test/c/cpu.cfs_quota_us", "");
	put("cpu/vessel-test/c/cpu.cfs_period_us", "");
	put("pids/vessel-test/c/pids.max", "");
	if (vs_cgroup_apply(cg, &r, &e) != 0)
		fail_msg("apply: %s", e->msg);
	assert_string_equal(get("memory/vessel-test/c/memory.limit_in_bytes"), "67108864");
	assert_string_equal(get("cpu/vessel-test/c/cpu.shares"), "512");
	assert_string_equal(get("cpu/vessel-test/c/cpu.cfs_quota_us"), "20000");
	assert_string_equal(get("cpu/vessel-test/c/cpu.cfs_period_us"), "100000");
	assert_string_equal(get("pids/vessel-test/c/pids.max"), "32");
	/* throttling and swappiness */
	{
		struct vs_spec_throttle th = {8, 0, 1048576};
		struct vs_spec_resources t;

		vs_spec_resources_init(&t);
		t.throttle[VS_THROTTLE_WRITE_IOPS] = &th;
		t.n_throttle[VS_THROTTLE_WRITE_IOPS] = 1;
		t.memory_swappiness = 10;
		mk("blkio");
		put("blkio/cgroup.procs", "");
		mk("blkio/vessel-test");
		mk("blkio/vessel-test/c");
		put("blkio/vessel-test/c/blkio.throttle.write_iops_device", "");
		put("memory/vessel-test/c/memory.swappiness", "");
		vs_cgroup_free(cg);
		assert_int_equal(vs_cgroup_open(base, "/vessel-test/c", &cg, &e), 0);
		assert_int_equal(vs_cgroup_apply(cg, &t, &e), 0);
		assert_string_equal(get("blkio/vessel-test/c/blkio.throttle.write_iops_device"),
				    "8:0 1048576");
		assert_string_equal(get("memory/vessel-test/c/memory.swappiness"), "10");
	}
	/* a limit whose controller is absent is an error naming the file */
	r.cpuset_cpus = (char *)"0";
	assert_int_equal(vs_cgroup_apply(cg, &r, &e), -ENOTSUP);
	assert_non_null(strstr(e->msg, "cpuset.cpus"));
	vs_err_free(e);
	vs_cgroup_free(cg);
}

static void test_v2(void **state)
{
	struct vs_spec_resources r = limits();
	struct vs_cgroup *cg = NULL;
	struct vs_err *e = NULL;

	(void)state;
	put("cgroup.controllers", "cpu memory pids\n");
	put("cgroup.procs", "");
	put("cgroup.subtree_control", "");
	assert_int_equal(vs_cgroup_open(base, "/vessel/c2", &cg, &e), 0);
	assert_true(vs_cgroup_is_v2(cg));
	assert_int_equal(vs_cgroup_create(cg, &e), 0);
	/* each controller enabled in turn at the root (a plain file keeps the last) */
	assert_string_equal(get("cgroup.subtree_control"), "+pids");
	put("vessel/c2/memory.max", "");
	put("vessel/c2/cpu.max", "");
	put("vessel/c2/cpu.weight", "");
	put("vessel/c2/pids.max", "");
	put("vessel/c2/io.max", "");
	put("vessel/c2/cgroup.procs", "");
	assert_int_equal(vs_cgroup_apply(cg, &r, &e), 0);
	assert_null(e);
	assert_string_equal(get("vessel/c2/memory.max"), "67108864");
	assert_string_equal(get("vessel/c2/cpu.max"), "20000 100000");
	assert_string_equal(get("vessel/c2/cpu.weight"), "20");
	assert_string_equal(get("vessel/c2/pids.max"), "32");
	r = limits();
	r.cpu_quota = -1;
	r.pids_limit = 0;
	r.memory_limit = -1;
	assert_int_equal(vs_cgroup_apply(cg, &r, &e), 0);
	assert_string_equal(get("vessel/c2/cpu.max"), "max 100000");
	assert_string_equal(get("vessel/c2/pids.max"), "max");
	{
		struct vs_spec_throttle th = {254, 0, 4096};

		r = limits();
		r.throttle[VS_THROTTLE_READ_BPS] = &th;
		r.n_throttle[VS_THROTTLE_READ_BPS] = 1;
		assert_int_equal(vs_cgroup_apply(cg, &r, &e), 0);
		assert_string_equal(get("vessel/c2/io.max"), "254:0 rbps=4096");
	}
	{
		struct vs_spec_hugetlb h = {"2MB", 4194304};

		put("vessel/c2/hugetlb.2MB.max", "");
		put("vessel/c2/io.weight", "");
		r = limits();
		r.hugetlb = &h;
		r.n_hugetlb = 1;
		r.blkio_weight = 500;
		assert_int_equal(vs_cgroup_apply(cg, &r, &e), 0);
		assert_string_equal(get("vessel/c2/hugetlb.2MB.max"), "4194304");
		assert_string_equal(get("vessel/c2/io.weight"), "default 4950");
	}
	assert_int_equal(vs_cgroup_enter(cg, 1234, &e), 0);
	assert_string_equal(get("vessel/c2/cgroup.procs"), "1234");
	vs_cgroup_free(cg);
}

static void test_open_errors(void **state)
{
	struct vs_cgroup *cg = NULL;
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_cgroup_open(base, "relative", &cg, &e), -EINVAL);
	vs_err_free(e);
	e = NULL;
	assert_int_equal(vs_cgroup_open(base, "/x", &cg, &e), -ENOENT); /* empty tree */
	assert_non_null(strstr(e->msg, "no cgroup hierarchy"));
	vs_err_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test_setup_teardown(test_v1_hybrid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
