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
	static const char *const ctls[] = { "memory", "cpu", "pids", "unified" };
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
		struct vs_spec_throttle th = { 8, 0, 1048576 };
		struct vs_spec_resources t;

		vs_spec_resources_init(&t);
		t.throttle[VS_THROTTLE_WRITE_IOPS] = &th;
		t.n_throttle[VS_THROTTLE_WRITE_IOPS] = 1;
		t.memory_swappiness = 10;
		t.disable_oom_killer = true; /* issue 10: was ignored on v1 */
		mk("blkio");
		put("blkio/cgroup.procs", "");
		mk("blkio/vessel-test");
		mk("blkio/vessel-test/c");
		put("blkio/vessel-test/c/blkio.throttle.write_iops_device", "");
		put("memory/vessel-test/c/memory.swappiness", "");
		put("memory/vessel-test/c/memory.oom_control", "");
		vs_cgroup_free(cg);
		assert_int_equal(vs_cgroup_open(base, "/vessel-test/c", &cg, &e), 0);
		assert_int_equal(vs_cgroup_apply(cg, &t, &e), 0);
		assert_string_equal(get("blkio/vessel-test/c/blkio.throttle.write_iops_device"),
				    "8:0 1048576");
		assert_string_equal(get("memory/vessel-test/c/memory.swappiness"), "10");
		assert_string_equal(get("memory/vessel-test/c/memory.oom_control"), "1");
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
		struct vs_spec_throttle th = { 254, 0, 4096 };

		r = limits();
		r.throttle[VS_THROTTLE_READ_BPS] = &th;
		r.n_throttle[VS_THROTTLE_READ_BPS] = 1;
		assert_int_equal(vs_cgroup_apply(cg, &r, &e), 0);
		assert_string_equal(get("vessel/c2/io.max"), "254:0 rbps=4096");
	}
	{
		struct vs_spec_hugetlb h = { "2MB", 4194304 };

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

/* A fake v1 hierarchy <name> (with cgroup.procs) under base. */
static void hier(const char *name)
{
	char p[128];

	mk(name);
	snprintf(p, sizeof(p), "%s/cgroup.procs", name);
	put(p, "");
}

/* Opens /vessel-test/c under base and creates it; the caller frees. */
static struct vs_cgroup *open_created(void)
{
	struct vs_cgroup *cg = NULL;
	struct vs_err *e = NULL;

	assert_int_equal(vs_cgroup_open(base, "/vessel-test/c", &cg, &e), 0);
	assert_int_equal(vs_cgroup_create(cg, &e), 0);
	return cg;
}

/* apply that must fail with code and a one-line message containing msg */
static void apply_fails(struct vs_cgroup *cg, const struct vs_spec_resources *r, int code,
			const char *msg)
{
	struct vs_err *e = NULL;

	assert_int_equal(vs_cgroup_apply(cg, r, &e), code);
	assert_non_null(e);
	if (!strstr(e->msg, msg) || strchr(e->msg, '\n'))
		fail_msg("error \"%s\" lacks \"%s\"", e->msg, msg);
	vs_err_free(e);
}

static void apply_ok(struct vs_cgroup *cg, const struct vs_spec_resources *r)
{
	struct vs_err *e = NULL;

	if (vs_cgroup_apply(cg, r, &e) != 0)
		fail_msg("apply: %s", e ? e->msg : "?");
}

/* blockIO.weightDevice on v1: blkio.weight_device where CFQ's files exist,
 * blkio.bfq.weight_device where only BFQ's do; leaf weights; 0 = unset. */
static void test_v1_weight_device(void **state)
{
	struct vs_spec_weight_device wd[] = { { 8, 0, 300, -1 }, { 8, 16, 0, 0 } };
	struct vs_spec_resources r;
	struct vs_cgroup *cg;

	(void)state;
	hier("blkio");
	cg = open_created();
	vs_spec_resources_init(&r);
	r.weight_dev = wd;
	r.n_weight_dev = 2;
	put("blkio/vessel-test/c/blkio.bfq.weight_device", "");
	apply_ok(cg, &r);
	assert_string_equal(get("blkio/vessel-test/c/blkio.bfq.weight_device"), "8:0 300");
	put("blkio/vessel-test/c/blkio.weight_device", "");
	put("blkio/vessel-test/c/blkio.bfq.weight_device", "");
	wd[0].leaf_weight = 200;
	apply_fails(cg, &r, -ENOTSUP,
		    "blkio.leaf_weight_device"); /* no such file: runc fails too */
	put("blkio/vessel-test/c/blkio.leaf_weight_device", "");
	apply_ok(cg, &r);
	assert_string_equal(get("blkio/vessel-test/c/blkio.weight_device"), "8:0 300");
	assert_string_equal(get("blkio/vessel-test/c/blkio.leaf_weight_device"), "8:0 200");
	assert_string_equal(get("blkio/vessel-test/c/blkio.bfq.weight_device"), "");
	vs_cgroup_free(cg);
}

/* v2: io.bfq.weight "maj:min w" when present, else io.weight converted */
static void test_v2_weight_device(void **state)
{
	struct vs_spec_weight_device wd = { 8, 16, 300, 200 };
	struct vs_spec_resources r;
	struct vs_cgroup *cg;

	(void)state;
	put("cgroup.controllers", "io\n");
	put("cgroup.procs", "");
	put("cgroup.subtree_control", "");
	cg = open_created();
	vs_spec_resources_init(&r);
	r.weight_dev = &wd;
	r.n_weight_dev = 1;
	apply_fails(cg, &r, -ENOTSUP, "io.weight");
	put("vessel-test/c/io.weight", "");
	apply_ok(cg, &r);
	assert_string_equal(get("vessel-test/c/io.weight"), "8:16 2930");
	put("vessel-test/c/io.bfq.weight", "default 100\n");
	apply_ok(cg, &r);
	assert_string_equal(get("vessel-test/c/io.bfq.weight"), "8:16 300");
	vs_cgroup_free(cg);
}

/* rdma.max lines on v1 and v2; a clear error without the controller */
static void test_rdma(void **state)
{
	struct vs_spec_rdma d[] = { { (char *)"mlx5_1", 3, 100 }, { (char *)"mlx5_2", -1, 7 } };
	struct vs_spec_resources r;
	struct vs_cgroup *cg;

	(void)state;
	hier("memory");
	cg = open_created();
	vs_spec_resources_init(&r);
	r.rdma = d;
	r.n_rdma = 1;
	apply_fails(cg, &r, -ENOTSUP, "cannot set rdma limit: the rdma controller is not mounted");
	vs_cgroup_free(cg);
	hier("rdma");
	cg = open_created();
	put("rdma/vessel-test/c/rdma.max", "");
	apply_ok(cg, &r);
	assert_string_equal(get("rdma/vessel-test/c/rdma.max"),
			    "mlx5_1 hca_handle=3 hca_object=100");
	r.rdma = &d[1];
	apply_ok(cg, &r);
	assert_string_equal(get("rdma/vessel-test/c/rdma.max"), "mlx5_2 hca_object=7");
	vs_cgroup_free(cg);
	/* pure v2 */
	put("cgroup.controllers", "memory\n");
	put("cgroup.procs", "");
	cg = open_created();
	apply_fails(cg, &r, -ENOTSUP, "cannot set rdma limit");
	put("vessel-test/c/rdma.max", "");
	apply_ok(cg, &r);
	assert_string_equal(get("vessel-test/c/rdma.max"), "mlx5_2 hca_object=7");
	vs_cgroup_free(cg);
}

/* network: v1 net_cls.classid / net_prio.ifpriomap; an error when they are
 * not mounted (as runc); ignored on cgroup v2 (as runc). */
static void test_network(void **state)
{
	struct vs_spec_netprio np = { (char *)"eth0", 5 };
	struct vs_spec_resources r;
	struct vs_cgroup *cg;

	(void)state;
	hier("memory");
	cg = open_created();
	vs_spec_resources_init(&r);
	r.net_classid = 0x100001;
	apply_fails(cg, &r, -ENOTSUP, "cannot set net_cls limit");
	r.net_classid = -1;
	r.net_prio = &np;
	r.n_net_prio = 1;
	apply_fails(cg, &r, -ENOTSUP, "cannot set net_prio limit");
	vs_cgroup_free(cg);
	hier("net_cls,net_prio");
	cg = open_created();
	put("net_cls,net_prio/vessel-test/c/net_cls.classid", "");
	put("net_cls,net_prio/vessel-test/c/net_prio.ifpriomap", "");
	r.net_classid = 0x100001;
	apply_ok(cg, &r);
	assert_string_equal(get("net_cls,net_prio/vessel-test/c/net_cls.classid"), "1048577");
	assert_string_equal(get("net_cls,net_prio/vessel-test/c/net_prio.ifpriomap"), "eth0 5");
	vs_cgroup_free(cg);
	/* pure v2: nothing to write, no error */
	teardown(NULL);
	setup(NULL);
	put("cgroup.controllers", "memory\n");
	put("cgroup.procs", "");
	cg = open_created();
	apply_ok(cg, &r);
	assert_null(get("vessel-test/c/net_cls.classid"));
	vs_cgroup_free(cg);
}

/* The hybrid layout of our build machines: v1 memory, and a unified
 * hierarchy whose root offers only hugetlb and enables nothing. */
static struct vs_cgroup *hybrid_tree(void)
{
	hier("memory");
	hier("unified");
	put("unified/cgroup.controllers", "hugetlb\n");
	put("unified/cgroup.subtree_control", "");
	return open_created();
}

/* hugepageLimits: v1 hugetlb hierarchy -> limit_in_bytes; hybrid with
 * hugetlb only in the unified hierarchy -> an error unless our parent
 * enables it, then hugetlb.<size>.max in the unified cgroup. */
static void test_hugetlb_hybrid(void **state)
{
	struct vs_spec_hugetlb h = { "2MB", 4194304 };
	struct vs_spec_resources r;
	struct vs_cgroup *cg = hybrid_tree();

	(void)state;
	vs_spec_resources_init(&r);
	r.hugetlb = &h;
	r.n_hugetlb = 1;
	apply_fails(cg, &r, -ENOTSUP,
		    "cannot set hugetlb limit: hugetlb is only available in the unified hierarchy "
		    "and is not enabled for the container's cgroup");
	/* never enabled by us: neither at the host's root nor at our levels */
	assert_string_equal(get("unified/cgroup.subtree_control"), "");
	assert_null(get("unified/vessel-test/cgroup.subtree_control"));
	/* what the kernel shows once the parent enables hugetlb */
	put("unified/vessel-test/cgroup.subtree_control", "hugetlb\n");
	put("unified/vessel-test/c/hugetlb.2MB.max", "max");
	apply_ok(cg, &r);
	assert_string_equal(get("unified/vessel-test/c/hugetlb.2MB.max"), "4194304");
	vs_cgroup_free(cg);
	/* pure v1 (and hybrid) with a v1 hugetlb hierarchy */
	hier("hugetlb");
	cg = open_created();
	put("hugetlb/vessel-test/c/hugetlb.2MB.limit_in_bytes", "");
	apply_ok(cg, &r);
	assert_string_equal(get("hugetlb/vessel-test/c/hugetlb.2MB.limit_in_bytes"), "4194304");
	vs_cgroup_free(cg);
}

/* unified on pure v2: every file written; runc's errors otherwise */
static void test_unified_v2(void **state)
{
	struct vs_spec_unified u[] = { { (char *)"memory.high", (char *)"1000000" },
				       { (char *)"cgroup.max.depth", (char *)"3" } };
	struct vs_spec_unified bad[] = { { (char *)"pids.max", (char *)"5" },
					 { (char *)"cgroup.nope", (char *)"1" },
					 { (char *)"nodot", (char *)"1" },
					 { (char *)"../x", (char *)"1" } };
	static const char *const msgs[] = {
		"unified resource \"pids.max\" can't be set: controller \"pids\" not available",
		"unable to set unified resource \"cgroup.nope\"",
		"unified resource \"nodot\" must be in the form CONTROLLER.PARAMETER",
		"unified resource \"../x\" must be a file name (no slashes)"
	};
	struct vs_spec_resources r;
	struct vs_cgroup *cg;

	(void)state;
	put("cgroup.controllers", "memory\n");
	put("cgroup.procs", "");
	cg = open_created();
	put("vessel-test/c/cgroup.controllers", "memory\n");
	put("vessel-test/c/memory.high", "max");
	put("vessel-test/c/cgroup.max.depth", "max");
	vs_spec_resources_init(&r);
	r.unified = u;
	r.n_unified = 2;
	apply_ok(cg, &r);
	assert_string_equal(get("vessel-test/c/memory.high"), "1000000");
	assert_string_equal(get("vessel-test/c/cgroup.max.depth"), "3");
	for (size_t i = 0; i < 4; i++) {
		r.unified = &bad[i];
		r.n_unified = 1;
		apply_fails(cg, &r, i == 0 ? -ENOTSUP : i == 1 ? -ENOENT : -EINVAL, msgs[i]);
	}
	assert_null(get("x"));
	vs_cgroup_free(cg);
}

/* unified on hybrid: keys whose file the container's unified cgroup has
 * are written; any other key refuses the whole field before a write, with
 * runc's message; pure v1 always refuses. */
static void test_unified_v1_hybrid(void **state)
{
	struct vs_spec_unified u[] = { { (char *)"cgroup.max.descendants", (char *)"10" },
				       { (char *)"memory.high", (char *)"1" } };
	struct vs_spec_resources r;
	struct vs_cgroup *cg = hybrid_tree();

	(void)state;
	put("unified/vessel-test/c/cgroup.max.descendants", "max");
	vs_spec_resources_init(&r);
	r.unified = u;
	r.n_unified = 2;
	apply_fails(cg, &r, -EINVAL,
		    "invalid configuration: cannot use unified on cgroup v1: \"memory.high\"");
	assert_string_equal(get("unified/vessel-test/c/cgroup.max.descendants"), "max");
	r.n_unified = 1;
	apply_ok(cg, &r);
	assert_string_equal(get("unified/vessel-test/c/cgroup.max.descendants"), "10");
	vs_cgroup_free(cg);
	/* pure v1: no unified hierarchy at all */
	teardown(NULL);
	setup(NULL);
	hier("memory");
	cg = open_created();
	apply_fails(cg, &r, -EINVAL, "invalid configuration: cannot use unified on cgroup v1");
	vs_cgroup_free(cg);
}

/* The new fields as config.json (and update -r) gives them */
/* Refused before anything is made: the root cgroup however spelt, and any
 * ancestor of (or equal to) a cgroup the runtime itself runs in (issue 10). */
static void test_placement(void **state)
{
	static const char self[] = "12:pids:/user.slice/run-1\n"
				   "4:memory:/process_api/x\n"
				   "1:name=systemd:/\n"
				   "0::/user.slice/run-1\n";
	static const struct {
		const char *path;
		const char *refusal; /* NULL: accepted */
	} t[] = {
		{ "/", "is the host's root cgroup" },
		{ "//", "is the host's root cgroup" },
		{ "/./", "is the host's root cgroup" },
		{ "/process_api", "holds the runtime's own cgroup (/process_api/x)" },
		{ "//process_api/./x/", "holds the runtime's own cgroup (/process_api/x)" },
		{ "/user.slice", "holds the runtime's own cgroup (/user.slice/run-1)" },
		{ "/process_api/x/child", NULL },
		{ "/process_ap", NULL },
		{ "/process_api/xy", NULL },
		{ "/vessel-test/abc", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vs_err *e = NULL;
		char *p = NULL;
		int rc;

		assert_int_equal(vs_cgroup_resolve_path(t[i].path, "c1", &p, &e), 0);
		rc = vs_cgroup_check_placement(p, self, &e);
		if (!t[i].refusal) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(e->msg, t[i].refusal));
			assert_null(strchr(e->msg, '\n'));
			vs_err_free(e);
		}
		free(p);
	}
}

static void test_parse_fields(void **state)
{
	static const char ok[] =
		"{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":16,\"weight\":300,"
		"\"leafWeight\":0}]},\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}},"
		"\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\","
		"\"priority\":5}]},\"unified\":{\"memory.high\":\"max\"}}";
	struct vs_spec_resources r;
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_spec_resources_parse_text(ok, strlen(ok), &r, &e), 0);
	assert_int_equal(r.n_weight_dev, 1);
	assert_int_equal(r.weight_dev[0].major, 8);
	assert_int_equal(r.weight_dev[0].minor, 16);
	assert_int_equal(r.weight_dev[0].weight, 300);
	assert_int_equal(r.weight_dev[0].leaf_weight, 0);
	assert_int_equal(r.n_rdma, 1);
	assert_string_equal(r.rdma[0].device, "mlx5_1");
	assert_int_equal(r.rdma[0].hca_handles, 3);
	assert_int_equal(r.rdma[0].hca_objects, -1);
	assert_int_equal(r.net_classid, 1048577);
	assert_int_equal(r.n_net_prio, 1);
	assert_string_equal(r.net_prio[0].name, "eth0");
	assert_int_equal(r.net_prio[0].priority, 5);
	assert_int_equal(r.n_unified, 1);
	assert_string_equal(r.unified[0].key, "memory.high");
	assert_string_equal(r.unified[0].value, "max");
	vs_spec_resources_clear(&r);
}

/* Broken input: one line naming the field, as the other config errors */
static void test_parse_errors(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":-5}]}}",
		  "linux.resources.blockIO.weightDevice[0].weight: out of range [0, 65535]" },
		{ "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"leafWeight\":70000}]}}",
		  "linux.resources.blockIO.weightDevice[0].leafWeight: out of range [0, 65535]" },
		{ "{\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":5}]}}",
		  "linux.resources.blockIO.weightDevice[0].major: major and minor are required" },
		{ "{\"blockIO\":{\"weightDevice\":[{\"major\":\"8\",\"minor\":0}]}}",
		  "linux.resources.blockIO.weightDevice[0].major: expected an integer" },
		{ "{\"blockIO\":{\"weightDevice\":{}}}",
		  "linux.resources.blockIO.weightDevice: expected an array" },
		{ "{\"blockIO\":{\"weight\":-1}}", "linux.resources.blockIO.weight: out of range" },
		{ "{\"unified\":{\"../memory.max\":\"1\"}}",
		  "linux.resources.unified: key \"../memory.max\" must be a cgroup file name" },
		{ "{\"unified\":{\"..\":\"1\"}}", "linux.resources.unified: key \"..\" must be" },
		{ "{\"unified\":{\"memory.max\":5}}",
		  "linux.resources.unified.memory.max: expected a string" },
		{ "{\"unified\":[]}", "linux.resources.unified: expected an object" },
		{ "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":-1}}}",
		  "linux.resources.rdma.mlx5_1.hcaHandles: out of range" },
		{ "{\"rdma\":{\"a/b\":{}}}", "linux.resources.rdma: invalid name \"a/b\"" },
		{ "{\"rdma\":{\"mlx5_1\":3}}", "linux.resources.rdma.mlx5_1: expected an object" },
		{ "{\"network\":{\"classID\":\"x\"}}",
		  "linux.resources.network.classID: expected an integer" },
		{ "{\"network\":{\"priorities\":[{\"name\":\"eth 0\",\"priority\":1}]}}",
		  "linux.resources.network.priorities[0]: invalid name \"eth 0\"" },
		{ "{\"network\":{\"priorities\":[{\"priority\":1}]}}",
		  "linux.resources.network.priorities[0]: invalid name \"\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vs_spec_resources r;
		struct vs_err *e = NULL;

		assert_int_equal(vs_spec_resources_parse_text(cases[i][0], strlen(cases[i][0]), &r,
							      &e),
				 -EINVAL);
		if (!e || !strstr(e->msg, cases[i][1]) || strchr(e->msg, '\n'))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e ? e->msg : "", cases[i][1]);
		vs_err_free(e);
		vs_spec_resources_clear(&r);
	}
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
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test_setup_teardown(test_v1_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_weight_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_weight_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlb_hybrid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unified_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unified_v1_hybrid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
