/* The OCI runtime-spec config.json, parsed and validated into plain C structs.
 *
 * The parser takes a buffer (so it is a fuzz target) and never trusts the
 * input: every field is type-checked, and a broken config produces one line
 * naming the JSON path ("config.json: process.args: expected an array of
 * strings"). Unknown fields are ignored, as runc does. */
#ifndef VS_CTR_SPEC_H
#define VS_CTR_SPEC_H

#include "common/strv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_err;
struct json_t;

struct vs_spec_idmap {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct vs_spec_mount {
	char *destination;
	char *type; /* may be NULL ("bind" is inferred from the options) */
	char *source; /* may be NULL */
	struct vs_strv options;
	/* OCI 1.1 idmapped mount: on-disk id (containerID) shown as hostID */
	struct vs_spec_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct vs_spec_idmap *gid_mappings;
	size_t n_gid_mappings;
};

struct vs_spec_ns {
	int type; /* CLONE_NEW* */
	char *path; /* join this namespace instead of creating one; may be NULL */
};

struct vs_spec_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft;
	uint64_t hard;
};

enum vs_cap_set {
	VS_CAP_BOUNDING,
	VS_CAP_EFFECTIVE,
	VS_CAP_INHERITABLE,
	VS_CAP_PERMITTED,
	VS_CAP_AMBIENT,
	VS_CAP_NSETS,
};

struct vs_spec_process {
	bool terminal;
	uint32_t uid;
	uint32_t gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	uint32_t umask;
	struct vs_strv args;
	struct vs_strv env;
	char *cwd;
	bool has_caps;
	uint64_t caps[VS_CAP_NSETS]; /* bit masks of CAP_* numbers */
	struct vs_spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile; /* may be NULL */
	char *selinux_label; /* may be NULL */
};

struct vs_spec_devrule {
	bool allow;
	char type; /* 'a', 'c' or 'b' */
	int64_t major; /* -1 = any */
	int64_t minor; /* -1 = any */
	char access[4]; /* subset of "rwm" */
};

enum vs_throttle_kind {
	VS_THROTTLE_READ_BPS,
	VS_THROTTLE_WRITE_BPS,
	VS_THROTTLE_READ_IOPS,
	VS_THROTTLE_WRITE_IOPS,
	VS_THROTTLE_NKINDS,
};

struct vs_spec_throttle {
	int64_t major, minor;
	uint64_t rate;
};

struct vs_spec_hugetlb {
	char page_size[16]; /* "2MB", "1GB": as in the cgroup file names */
	uint64_t limit;
};

/* blockIO.weightDevice: weights are -1 when absent (0 is "not set" too, as runc) */
struct vs_spec_weight_device {
	int64_t major, minor;
	int64_t weight, leaf_weight;
};

/* rdma: {"mlx5_1": {hcaHandles, hcaObjects}}; counts are -1 when absent */
struct vs_spec_rdma {
	char *device;
	int64_t hca_handles, hca_objects;
};

/* unified: cgroup v2 file name (no '/', not "." or "..") -> value */
struct vs_spec_unified {
	char *key;
	char *value;
};

/* network.priorities: net_prio.ifpriomap lines */
struct vs_spec_netprio {
	char *name;
	uint32_t priority;
};

/* Resource values are -1 when absent (all valid values are >= 0, except
 * memory swap/limit where -1 means "unlimited", the same as absent for us). */
struct vs_spec_resources {
	int64_t memory_limit;
	int64_t memory_reservation;
	int64_t memory_swap;
	int64_t memory_swappiness;
	bool disable_oom_killer; /* memory.disableOOMKiller (v1 memory.oom_control) */
	int64_t cpu_shares;
	int64_t cpu_quota;
	int64_t cpu_period;
	int64_t cpu_rt_runtime;
	int64_t cpu_rt_period;
	char *cpuset_cpus;
	char *cpuset_mems;
	int64_t pids_limit;
	int64_t blkio_weight;
	struct vs_spec_hugetlb *hugetlb;
	size_t n_hugetlb;
	struct vs_spec_throttle *throttle[VS_THROTTLE_NKINDS];
	size_t n_throttle[VS_THROTTLE_NKINDS];
	struct vs_spec_devrule *dev_rules; /* the device cgroup rules, in order */
	size_t n_dev_rules;
	struct vs_spec_weight_device *weight_dev;
	size_t n_weight_dev;
	struct vs_spec_rdma *rdma;
	size_t n_rdma;
	struct vs_spec_unified *unified;
	size_t n_unified;
	int64_t net_classid; /* network.classID, -1 when absent */
	struct vs_spec_netprio *net_prio;
	size_t n_net_prio;
};

struct vs_spec_device {
	char type; /* 'c', 'b', 'p' (or 'u' == 'c') */
	char *path;
	int64_t major, minor;
	uint32_t file_mode; /* 0 = default 0666 */
	uint32_t uid, gid;
};

enum vs_seccomp_op {
	VS_SCMP_NE,
	VS_SCMP_LT,
	VS_SCMP_LE,
	VS_SCMP_EQ,
	VS_SCMP_GE,
	VS_SCMP_GT,
	VS_SCMP_MASKED_EQ
};

struct vs_spec_seccomp_arg {
	unsigned index;
	uint64_t value;
	uint64_t value_two;
	enum vs_seccomp_op op;
};

struct vs_spec_seccomp_rule {
	struct vs_strv names;
	uint32_t action; /* VS_SCMP_ACT_* below */
	int errno_ret; /* for ERRNO; default EPERM */
	struct vs_spec_seccomp_arg *args;
	size_t n_args;
};

enum vs_seccomp_action {
	VS_SCMP_ACT_KILL,
	VS_SCMP_ACT_KILL_PROCESS,
	VS_SCMP_ACT_TRAP,
	VS_SCMP_ACT_ERRNO,
	VS_SCMP_ACT_TRACE,
	VS_SCMP_ACT_ALLOW,
	VS_SCMP_ACT_LOG,
};

struct vs_spec_seccomp {
	uint32_t default_action;
	int default_errno;
	struct vs_strv architectures; /* SCMP_ARCH_* names */
	struct vs_spec_seccomp_rule *rules;
	size_t n_rules;
};

struct vs_spec_hook {
	char *path;
	struct vs_strv args;
	struct vs_strv env;
	int timeout; /* seconds, 0 = none */
};

enum vs_hook_kind {
	VS_HOOK_PRESTART,
	VS_HOOK_CREATE_RUNTIME,
	VS_HOOK_CREATE_CONTAINER,
	VS_HOOK_START_CONTAINER,
	VS_HOOK_POSTSTART,
	VS_HOOK_POSTSTOP,
	VS_HOOK_NKINDS,
};

struct vs_spec_hooks {
	struct vs_spec_hook *v;
	size_t n;
};

struct vs_spec {
	char *oci_version;
	char *root_path; /* as written; relative to the bundle unless absolute */
	bool root_readonly;
	char *hostname;
	char *domainname;
	bool has_process;
	struct vs_spec_process process;
	struct vs_spec_mount *mounts;
	size_t n_mounts;
	struct vs_spec_hooks hooks[VS_HOOK_NKINDS];
	struct json_t *annotations; /* object or NULL; owned reference */

	/* linux */
	struct vs_spec_ns *namespaces;
	size_t n_namespaces;
	struct vs_spec_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct vs_spec_idmap *gid_mappings;
	size_t n_gid_mappings;
	struct vs_strv sysctl; /* "key=value" pairs */
	struct vs_spec_resources resources;
	char *cgroups_path; /* may be NULL */
	struct vs_spec_device *devices;
	size_t n_devices;
	struct vs_strv masked_paths;
	struct vs_strv readonly_paths;
	char *rootfs_propagation; /* may be NULL */
	char *mount_label; /* linux.mountLabel, may be NULL */
	struct vs_spec_seccomp *seccomp; /* NULL when absent */
};

/* Parses config.json from buf[0..len). Returns 0 with *out owned by the
 * caller (free with vs_spec_free), or -EINVAL with a one-line *err. */
int vs_spec_parse(const char *buf, size_t len, struct vs_spec **out, struct vs_err **err);

/* Reads and parses <bundle>/config.json. Returns 0 or -errno with *err. */
int vs_spec_load(const char *bundle, struct vs_spec **out, struct vs_err **err);

/* Parses a process object (config.json's "process", or exec --process).
 * The JSON text form is used by exec. Returns 0 or -EINVAL with *err;
 * on failure *p is left partially filled: release it with vs_spec_process_clear. */
int vs_spec_process_parse_text(const char *buf, size_t len, struct vs_spec_process *p,
			       struct vs_err **err);
void vs_spec_process_clear(struct vs_spec_process *p);

void vs_spec_free(struct vs_spec *s);

/* linux.resources on its own (update -r FILE): absent values are -1/NULL. */
int vs_spec_resources_parse_text(const char *buf, size_t len, struct vs_spec_resources *r,
				 struct vs_err **err);
void vs_spec_resources_init(struct vs_spec_resources *r);
void vs_spec_resources_clear(struct vs_spec_resources *r);

/* Lookups: the namespace entry of a CLONE_NEW* type, or NULL. */
const struct vs_spec_ns *vs_spec_find_ns(const struct vs_spec *s, int type);

/* Name <-> number tables shared with the CLI (spec, features). */
int vs_ns_type_from_name(const char *name); /* CLONE_NEW* or -1 */
const char *vs_ns_type_name(int type); /* "pid", ... or NULL */
int vs_cap_from_name(const char *name); /* CAP_* number or -1 */
const char *vs_cap_name(int cap); /* "CAP_CHOWN", ... or NULL */
int vs_cap_last(void); /* highest CAP_* number known */
int vs_rlimit_from_name(const char *name); /* RLIMIT_* or -1 */

/* The namespace (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUTS) that isolates the
 * sysctl "key" or "key=value" (runc's list), or 0: not namespaced. */
int vs_spec_sysctl_ns(const char *key);

#endif
