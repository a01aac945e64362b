/* Unit tests for ctr/spec: a full valid config.json, and a table of broken
 * ones that must each give one specific one-line error. */
#include "ctr/spec.h"
#include "common/err.h"

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

static const char good[] =
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"box\",\"annotations\":{\"a\":\"b\"},"
	"\"process\":{\"terminal\":false,\"user\":{\"uid\":1,\"gid\":2,\"additionalGids\":[3,4],"
	"\"umask\":18},\"args\":[\"sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/tmp\","
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"],"
	"\"ambient\":[\"CAP_FUTURE_THING\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512}],"
	"\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/"
	"tmp\",\"options\":[\"rbind\",\"ro\"]}],"
	"\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":5}]},"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
	"{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
	"\"resources\":{\"memory\":{\"limit\":67108864},\"cpu\":{\"quota\":20000,\"period\":100000},"
	"\"pids\":{\"limit\":32}},\"cgroupsPath\":\"/vessel-test/x\","
	"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
	"\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,\"minor\":229}],"
	"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
	"\"rootfsPropagation\":\"rslave\","
	"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
	"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":1,\"value\":0,"
	"\"op\":\"SCMP_CMP_NE\"}]}]}}}";

static void test_good(void **state)
{
	struct vs_spec *s = NULL;
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_spec_parse(good, strlen(good), &s, &e), 0);
	assert_null(e);
	assert_string_equal(s->root_path, "rootfs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "box");
	assert_int_equal(s->process.args.n, 3);
	assert_string_equal(s->process.args.v[2], "true");
	assert_null(s->process.args.v[3]);
	assert_int_equal(s->process.uid, 1);
	assert_int_equal(s->process.n_additional_gids, 2);
	assert_true(s->process.has_umask);
	assert_int_equal(s->process.umask, 18);
	assert_string_equal(s->process.cwd, "/tmp");
	assert_int_equal(s->process.caps[VS_CAP_BOUNDING], (1ULL << 5) | 1ULL);
	assert_int_equal(s->process.caps[VS_CAP_AMBIENT], 0);
	assert_int_equal(s->process.n_rlimits, 1);
	assert_int_equal(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(s->process.rlimits[0].soft, 512);
	assert_true(s->process.no_new_privileges);
	assert_int_equal(s->process.oom_score_adj, 100);
	assert_int_equal(s->n_mounts, 2);
	assert_string_equal(s->mounts[1].options.v[1], "ro");
	assert_int_equal(s->hooks[VS_HOOK_PRESTART].n, 1);
	assert_int_equal(s->hooks[VS_HOOK_PRESTART].v[0].timeout, 5);
	assert_int_equal(s->n_namespaces, 3);
	assert_non_null(vs_spec_find_ns(s, CLONE_NEWPID));
	assert_null(vs_spec_find_ns(s, CLONE_NEWUSER));
	assert_string_equal(vs_spec_find_ns(s, CLONE_NEWNET)->path, "/proc/1/ns/net");
	assert_int_equal(s->resources.memory_limit, 67108864);
	assert_int_equal(s->resources.cpu_quota, 20000);
	assert_int_equal(s->resources.pids_limit, 32);
	assert_int_equal(s->resources.cpu_shares, -1);
	assert_string_equal(s->cgroups_path, "/vessel-test/x");
	assert_string_equal(s->sysctl.v[0], "net.ipv4.ip_forward=1");
	assert_int_equal(s->devices[0].type, 'c');
	assert_int_equal(s->devices[0].minor, 229);
	assert_string_equal(s->masked_paths.v[0], "/proc/kcore");
	assert_non_null(s->seccomp);
	assert_int_equal(s->seccomp->default_action, VS_SCMP_ACT_ALLOW);
	assert_int_equal(s->seccomp->rules[0].errno_ret, 1);
	assert_int_equal(s->seccomp->rules[0].args[0].op, VS_SCMP_NE);
	vs_spec_free(s);
}

struct bad_case {
	const char *json;
	const char *msg;
};

#define ROOT "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"}"
#define PROC(x) ROOT ",\"process\":{\"args\":[\"sh\"]" x "}"

static const struct bad_case bad[] = {
	{ "{", "config.json: line 1 column 1: string or '}' expected near end of file" },
	{ "[]", "config.json: expected a JSON object" },
	{ "{\"ociVersion\":\"1\"}", "config.json: root: missing" },
	{ "{" ROOT ",\"process\":{\"args\":\"sh\"}}",
	  "config.json: process.args: expected an array" },
	{ "{" ROOT ",\"process\":{\"args\":[1]}}",
	  "config.json: process.args: expected an array of strings" },
	{ "{" ROOT ",\"process\":{\"args\":[]}}", "config.json: process.args: must not be empty" },
	{ "{" PROC(",\"cwd\":\"tmp\"") "}", "config.json: process.cwd: must be an absolute path" },
	{ "{" PROC(",\"user\":{\"uid\":-1}") "}",
	  "config.json: process.user.uid: out of range for a 32-bit unsigned integer" },
	{ "{" PROC(",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"hard\":1,\"soft\":1}]") "}",
	  "config.json: process.rlimits[0].type: unknown rlimit type" },
	{ "{" PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]") "}",
	  "config.json: process.rlimits[0].soft: greater than hard" },
	{ "{" PROC(",\"capabilities\":{\"bounding\":[\"KILL\"]}") "}",
	  "config.json: process.capabilities.bounding: unknown capability" },
	{ "{" PROC(",\"oomScoreAdj\":5000") "}",
	  "config.json: process.oomScoreAdj: out of range [-1000, 1000]" },
	{ "{" ROOT ",\"mounts\":[{\"destination\":\"rel\"}]}",
	  "config.json: mounts[0].destination: must be an absolute path" },
	{ "{" ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"foo\"}]}}",
	  "config.json: linux.namespaces[0].type: unknown namespace type \"foo\"" },
	{ "{" ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
	  "config.json: linux.namespaces[1].type: namespace listed twice" },
	{ "{" ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}",
	  "config.json: linux.uidMappings: a new user namespace needs uid and gid mappings" },
	{ "{" ROOT ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
	  "config.json: linux.uidMappings: user namespace is not enabled" },
	{ "{" ROOT ",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}}",
	  "config.json: linux.resources.memory.limit: expected an integer" },
	{ "{" ROOT ",\"linux\":{\"rootfsPropagation\":\"weird\"}}",
	  "config.json: linux.rootfsPropagation: invalid propagation mode" },
	{ "{" ROOT ",\"linux\":{\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]}}",
	  "config.json: linux.devices[0].type: must be one of c, b, u, p" },
	{ "{" ROOT ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}}",
	  "config.json: linux.seccomp.defaultAction: unknown seccomp action" },
	{ "{" ROOT ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
	  "[{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"op\":"
	  "\"SCMP_CMP_EQ\"}]}]}}}",
	  "config.json: linux.seccomp.syscalls[0].args[0].index: must be in [0, 5]" },
	{ "{" ROOT ",\"linux\":{\"sysctl\":{\"../x\":\"1\"}}}",
	  "config.json: linux.sysctl.../x: invalid sysctl name" },
	/* runc's rule: only sysctls a namespace of the container's own isolates */
	{ "{" ROOT ",\"linux\":{\"sysctl\":{\"fs.lease-break-time\":\"46\"}}}",
	  "config.json: linux.sysctl: sysctl \"fs.lease-break-time\" is not in a separate kernel "
	  "namespace" },
	{ "{" ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"},{\"type\":\"uts\"}],"
	  "\"sysctl\":{\"kernel.shmmax\":\"1\",\"kernel.hostname\":\"h\",\"net.core.somaxconn\":"
	  "\"4096\"}}}",
	  "config.json: linux.sysctl: sysctl \"net.core.somaxconn\" is not allowed in the host's "
	  "network namespace" },
	{ "{" ROOT ",\"linux\":{\"sysctl\":{\"kernel.shmmax\":\"1\"}}}",
	  "config.json: linux.sysctl: sysctl \"kernel.shmmax\" is not allowed in the host's ipc "
	  "namespace" },
	{ "{" ROOT ",\"linux\":{\"sysctl\":{\"kernel.domainname\":\"d\"}}}",
	  "config.json: linux.sysctl: sysctl \"kernel.domainname\" is not allowed in the host's uts "
	  "namespace" },
	{ "{" ROOT ",\"linux\":{\"namespaces\":[{\"type\":\"ipc\"}],\"sysctl\":"
	  "{\"kernel.shm_next_id\":\"1\"}}}",
	  "config.json: linux.sysctl: sysctl \"kernel.shm_next_id\" is not in a separate kernel "
	  "namespace" },
	{ "{" ROOT ",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}",
	  "config.json: hooks.prestart[0].path: must be an absolute path" },
	{ "{" ROOT ",\"annotations\":{\"k\":1}}", "config.json: annotations.k: expected a string" },
	/* found by the fuzzer: input text in a message must not break the line */
	{ "{\"a\": \"\\\n", "config.json: line 2 column 0: invalid escape near '\"\\?'" },
	{ "{" ROOT ",\"annotations\":{\"a\\nb\":1}}",
	  "config.json: annotations.a?b: expected a string" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vs_spec *s = NULL;
		struct vs_err *e = NULL;
		int rc = vs_spec_parse(bad[i].json, strlen(bad[i].json), &s, &e);

		if (rc != -EINVAL || !e || strcmp(e->msg, bad[i].msg) != 0)
			fail_msg("case %zu: rc %d, msg '%s', want '%s'", i, rc,
				 e ? e->msg : "(none)", bad[i].msg);
		assert_null(s);
		assert_null(strchr(e->msg, '\n'));
		vs_err_free(e);
	}
}

/* Every prefix of a valid config must fail cleanly or parse (no crash, no
 * leak under ASan): a cheap stand-in for the fuzz target. */
static void test_truncations(void **state)
{
	(void)state;
	for (size_t n = 0; n < strlen(good); n++) {
		struct vs_spec *s = NULL;
		struct vs_err *e = NULL;

		if (vs_spec_parse(good, n, &s, &e) == 0)
			vs_spec_free(s);
		vs_err_free(e);
	}
}

static void test_process_text(void **state)
{
	static const char p[] = "{\"args\":[\"ls\"],\"env\":[\"A=1\"],\"user\":{\"uid\":5}}";
	struct vs_spec_process proc = { 0 };
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_spec_process_parse_text(p, strlen(p), &proc, &e), 0);
	assert_string_equal(proc.args.v[0], "ls");
	assert_string_equal(proc.cwd, "/");
	assert_int_equal(proc.uid, 5);
	vs_spec_process_clear(&proc);
	assert_int_equal(vs_spec_process_parse_text("{}", 2, &proc, &e), -EINVAL);
	assert_string_equal(e->msg, "config.json: process.args: must not be empty");
	vs_err_free(e);
	vs_spec_process_clear(&proc);
}

static void test_resources_text(void **state)
{
	static const char t[] =
		"{\"memory\":{\"swappiness\":10},\"cpu\":{\"realtimeRuntime\":950,"
		"\"realtimePeriod\":1000},\"blockIO\":{\"weight\":300,"
		"\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":4096}]}}";
	static const char bad_swap[] = "{\"memory\":{\"swappiness\":101}}";
	static const char huge[] = "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":8}]}";
	static const char bad_huge[] = "{\"hugepageLimits\":[{\"pageSize\":\"../x\",\"limit\":8}]}";
	struct vs_spec_resources r;
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_spec_resources_parse_text(t, strlen(t), &r, &e), 0);
	assert_int_equal(r.memory_swappiness, 10);
	assert_int_equal(r.cpu_rt_runtime, 950);
	assert_int_equal(r.cpu_rt_period, 1000);
	assert_int_equal(r.blkio_weight, 300);
	assert_int_equal(r.n_throttle[VS_THROTTLE_READ_BPS], 1);
	assert_int_equal(r.throttle[VS_THROTTLE_READ_BPS][0].rate, 4096);
	/* what was not given stays absent, so `update` leaves it alone */
	assert_int_equal(r.memory_limit, -1);
	assert_int_equal(r.cpu_quota, -1);
	assert_int_equal(r.pids_limit, -1);
	assert_int_equal(r.n_throttle[VS_THROTTLE_WRITE_BPS], 0);
	vs_spec_resources_clear(&r);
	assert_int_equal(vs_spec_resources_parse_text(bad_swap, strlen(bad_swap), &r, &e), -EINVAL);
	assert_string_equal(
		e->msg, "config.json: linux.resources.memory.swappiness: out of range [0, 100]");
	vs_err_free(e);
	e = NULL;
	vs_spec_resources_clear(&r);
	assert_int_equal(vs_spec_resources_parse_text(huge, strlen(huge), &r, &e), 0);
	assert_int_equal(r.n_hugetlb, 1);
	assert_string_equal(r.hugetlb[0].page_size, "2MB");
	assert_int_equal(r.hugetlb[0].limit, 8);
	vs_spec_resources_clear(&r);
	assert_int_equal(vs_spec_resources_parse_text(bad_huge, strlen(bad_huge), &r, &e), -EINVAL);
	assert_string_equal(e->msg, "config.json: linux.resources.hugepageLimits[0].pageSize: "
				    "expected a size such as 2MB");
	vs_err_free(e);
	vs_spec_resources_clear(&r);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(vs_ns_type_from_name("cgroup"), CLONE_NEWCGROUP);
	assert_string_equal(vs_ns_type_name(CLONE_NEWUTS), "uts");
	assert_int_equal(vs_cap_from_name("cap_sys_admin"), 21);
	assert_string_equal(vs_cap_name(0), "CAP_CHOWN");
	assert_int_equal(vs_rlimit_from_name("RLIMIT_CORE"), RLIMIT_CORE);
	assert_int_equal(vs_rlimit_from_name("NOFILE"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	    cmocka_unit_test(test_bad),
		cmocka_unit_test(test_truncations), cmocka_unit_test(test_process_text),
		cmocka_unit_test(test_names),	    cmocka_unit_test(test_resources_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
