/* Container cgroups on cgroup v1, hybrid (v1 controllers plus a unified
 * cgroup2 mount) and pure cgroup v2 hosts.
 *
 * Placement rule (differs from runc on purpose): an absolute cgroupsPath is
 * used as is from the root of every hierarchy; a relative or empty one goes
 * under a "vessel" subtree at each hierarchy's root, never under the
 * caller's own cgroup. The layout is detected from the files under the
 * cgroup filesystem root, which unit tests point at a fake tree. */
#ifndef VS_CTR_CGROUP_H
#define VS_CTR_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_err;
struct vs_spec_resources;
struct vs_cgroup;

#define VS_CGROUP_FSROOT "/sys/fs/cgroup"

/* cgroupsPath (may be NULL) -> the path we use: "/abs" stays, "rel" becomes
 * "/vessel/rel", NULL or "" becomes "/vessel/<id>". systemd-style
 * "slice:prefix:name" becomes "/vessel/<slice>/<prefix>-<name>". Rejects
 * ".." components. Returns 0 with *out allocated, or -EINVAL with *err. */
int vs_cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
			   struct vs_err **err);

/* Detects the hierarchies under fsroot and computes our directory in each.
 * Creates nothing. 0 or -errno with *err. */
int vs_cgroup_open(const char *fsroot, const char *path, struct vs_cgroup **out,
		   struct vs_err **err);
void vs_cgroup_free(struct vs_cgroup *cg);

bool vs_cgroup_is_v2(const struct vs_cgroup *cg);

/* The hierarchies found: how many, and of the i-th its name under the fs
 * root ("memory", "cpu,cpuacct", "unified") and our directory in it. */
size_t vs_cgroup_n_hier(const struct vs_cgroup *cg);
const char *vs_cgroup_hier_name(const struct vs_cgroup *cg, size_t i);
const char *vs_cgroup_hier_dir(const struct vs_cgroup *cg, size_t i);

/* Creates the directories (mkdir -p), initialising cpuset levels (v1) and
 * enabling controllers in the parents' cgroup.subtree_control (v2). */
int vs_cgroup_create(struct vs_cgroup *cg, struct vs_err **err);

/* Writes the limits in r (absent fields untouched). Used by create and update. */
int vs_cgroup_apply(struct vs_cgroup *cg, const struct vs_spec_resources *r, struct vs_err **err);

/* The device rules of s (v1 devices controller): linux.resources.devices,
 * then the default devices and linux.devices as allowed. No rules: no-op. */
struct vs_spec;
int vs_cgroup_devices(struct vs_cgroup *cg, const struct vs_spec *s, struct vs_err **err);

/* Moves pid into the cgroup in every hierarchy. */
int vs_cgroup_enter(struct vs_cgroup *cg, pid_t pid, struct vs_err **err);

/* The pids in the cgroup. 0 with *out (free()) and *n, or -errno. */
int vs_cgroup_pids(struct vs_cgroup *cg, pid_t **out, size_t *n);

/* Freezes or thaws (v1 freezer.state, v2 cgroup.freeze) and waits for it. */
int vs_cgroup_freeze(struct vs_cgroup *cg, bool freeze, struct vs_err **err);
bool vs_cgroup_is_frozen(struct vs_cgroup *cg);
/* Same, opening path under VS_CGROUP_FSROOT; false on any error. */
bool vs_cgroup_path_is_frozen(const char *path);

/* Reads "<file>" of the hierarchy that has it, as a number. 0 or -errno. */
int vs_cgroup_read_u64(struct vs_cgroup *cg, const char *file, unsigned long long *out);

/* OOM kills so far (v1 memory.oom_control / v2 memory.events "oom_kill"). */
unsigned long long vs_cgroup_oom_kills(struct vs_cgroup *cg);

/* True while some process is in the cgroup, in any hierarchy. */
bool vs_cgroup_is_populated(struct vs_cgroup *cg);

/* Removes our leaf directory in every hierarchy, waiting until deadline
 * (CLOCK_MONOTONIC ns, vs_now_ns) while the kernel still releases exiting
 * tasks. Missing directories are fine. A cgroup that still has processes is
 * left alone at once: -EBUSY with *err naming it (callers warn, as runc). */
int vs_cgroup_destroy(struct vs_cgroup *cg, uint64_t deadline, struct vs_err **err);

/* Waits until no process is left in the cgroup or the deadline passes:
 * event-driven through cgroup.events (inotify) where a cgroup2 hierarchy
 * has it. 0 or -ETIMEDOUT. */
int vs_cgroup_wait_empty(struct vs_cgroup *cg, uint64_t deadline);

/* What `events` waits on instead of polling: an fd (vs_cgroup_events_fd,
 * for poll) readable when the cgroup's population or OOM count may have
 * changed (inotify on cgroup.events and v2 memory.events, a v1
 * memory.oom_control eventfd). -ENOTSUP when the host offers none of them
 * (pure v1 without a memory controller). Drain after each wake-up. */
struct vs_cgroup_events;
int vs_cgroup_events_open(struct vs_cgroup *cg, struct vs_cgroup_events **out);
int vs_cgroup_events_fd(const struct vs_cgroup_events *ev);
void vs_cgroup_events_drain(struct vs_cgroup_events *ev);
void vs_cgroup_events_close(struct vs_cgroup_events *ev);

/* Refuses (-EINVAL, one line in *err) a resolved cgroup path that is the
 * root cgroup or an ancestor of (or equal to) one of the runtime's own
 * cgroups, given as the text of /proc/self/cgroup. */
int vs_cgroup_check_placement(const char *path, const char *self_cgroup, struct vs_err **err);

#endif
