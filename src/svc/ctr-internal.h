/* Private to the container half of src/svc (ctr.h). */
#ifndef VS_SVC_CTR_INTERNAL_H
#define VS_SVC_CTR_INTERNAL_H

#include "svc/ctr.h"
#include "net/ipam.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_image_info;
struct vs_store_ctr;

/* Absolute, never under the caller's cgroup (HOST-FACTS: hybrid v1 hosts). */
#define VS_CTR_CGROUP_PARENT "/vessel"
#define VS_CTR_DIR "containers"
#define VS_CTR_OCI_DIR ".oci" /* the runtime's state root, under VS_CTR_DIR */
#define VS_CTR_LOCK_FILE "monitor.lock"
#define VS_CTR_LOG_FILE "ctr.log"
#define VS_CTR_LOWER_FILE "lower"
#define VS_CTR_STOP_FILE "stop-requested" /* stop/rm -f: the restart policy must not undo it */
#define VS_CTR_RESTARTS_FILE "restarts" /* how often the monitor restarted it since start */

/* ctr-config.c: the OCI config (new reference in *out), or -EINVAL with *err. */
int vs_svc_ctr_config(const struct vs_ctr_spec *s, const struct vs_image_info *img, const char *id,
		      const char *rootfs, json_t **out, struct vs_err **err);

/* ctr-create.c */
/* <root>/containers/<id>[/<file>] (malloc'd; file may be NULL). */
char *vs_svc_ctr_path(const struct vs_svc *svc, const char *id, const char *file);
/* <root>/containers/.oci (malloc'd). */
char *vs_svc_ctr_oci_root(const struct vs_svc *svc);
/* Reads a row by name, id or id prefix and checks it against its monitor's
 * lock (a dead monitor: recorded exited, its container killed). 0, -ENOENT
 * with *err ("no container named"), or -errno. */
int vs_svc_ctr_get_row(struct vs_svc *svc, const char *key, struct vs_store_ctr **out,
		       struct vs_err **err);
/* Removes the container's runtime state and cgroup (killing what is left),
 * and its directory when remove_dir. */
void vs_svc_ctr_cleanup(const struct vs_svc *svc, const char *id, bool remove_dir);

/* ctr-net.c: a container on a virtual network (what the monitor holds). */
struct vs_store_net;
struct vs_ctr_net {
	char *network; /* NULL: --network none or host (nothing to do) */
	char *name; /* the container's, owner of the lease */
	char host_if[16]; /* the veth's host end, vessel-<8 digits of the id> */
	struct vs_port_spec *ports;
	size_t n_ports;
	struct vs_store_net *net; /* the network's row */
	struct vs_cidr subnet;
	uint32_t gateway, addr; /* host byte order */
	bool leased;
	bool attached; /* the veth is ours (a link of that name may be another's) */
};
void vs_ctr_net_clear(struct vs_ctr_net *n);
/* create: the network exists, -p only on a network, no port given twice
 * or already published in this namespace. Returns 0 or -errno, one line. */
int vs_svc_ctr_net_check(struct vs_svc *svc, const struct vs_ctr_spec *s, struct vs_err **err);
/* -P: s's ports plus one per exposed port ("80/tcp", "53/udp", "8080") on a
 * free host port of the ephemeral range (not published in this namespace,
 * bindable now, not already taken by s), as docker does. *out (free())
 * holds *n ports. Returns 0 or -errno, one line. */
int vs_svc_ctr_net_publish_all(const struct vs_ctr_spec *s, char *const *exposed,
			       struct vs_port_spec **out, size_t *n, struct vs_err **err);
/* How many containers (any state) are configured for network; *who
 * (optional, malloc'd) one of them. Returns the count or -errno. */
int vs_svc_ctr_net_users(struct vs_svc *svc, const char *network, char **who);
/* Monitor, before vs_ctr_create: fills n from the row's spec; on a
 * network: ensure it, lease, publish, write dir's hosts/resolv.conf/hostname.
 * On failure the caller calls vs_svc_ctr_net_release(). Returns 0 or -errno. */
int vs_svc_ctr_net_prepare(struct vs_svc *svc, const struct vs_store_ctr *row, const char *dir,
			   const char *hostname, struct vs_ctr_net *n, struct vs_err **err);
/* Monitor, after vs_ctr_create (the init waits to start): eth0 in the
 * init's network namespace. Returns 0 or -errno; nothing left on failure. */
int vs_svc_ctr_net_attach(struct vs_ctr_net *n, pid_t init, struct vs_err **err);
/* Gives back what prepare/attach took (ports, veth, lease), updates the
 * neighbours' hosts files. Safe after a partial prepare; svc may be NULL. */
void vs_svc_ctr_net_release(struct vs_svc *svc, struct vs_ctr_net *n);
/* The same for a container without a live monitor, from its leases
 * (id NULL: its row is gone; its veth went with its namespace). */
void vs_svc_ctr_net_cleanup(struct vs_svc *svc, const char *id, const char *name);
/* Sets info->addresses of each of the n infos from the store's leases. */
void vs_svc_ctr_net_fill(struct vs_svc *svc, struct vs_ctr_info *info, size_t n);
/* Cleans up every container lease whose owner is gone or has no live monitor. */
void vs_svc_ctr_net_sweep(struct vs_svc *svc);

/* ctr-net-files.c */
/* Adds the bind mounts of dir's hosts, resolv.conf and hostname to the
 * config's mounts (before the n_volumes volumes, which win). */
void vs_svc_ctr_net_mounts(json_t *cfg, const char *dir, size_t n_volumes);
/* Writes dir's resolv.conf (the host's reachable nameservers; none for
 * an internal network) and hostname. Returns 0 or -errno with *err. */
int vs_svc_ctr_net_write_files(const char *dir, const char *hostname, bool internal,
			       struct vs_err **err);
/* Rewrites, in place, the hosts file of every container with a lease on
 * network. Returns 0 or -errno. */
int vs_svc_ctr_net_hosts_update(struct vs_svc *svc, const char *network);
/* ctr-ctl.c: tells the monitor that the container's end is wanted (stop,
 * rm -f): its restart policy does not restart it. */
void vs_svc_ctr_mark_stop(const struct vs_svc *svc, const char *id);

/* ctr-monitor.c: the monitor, forked by start. */
struct vs_ctr_monitor_args {
	const char *root, *id;
	int lock_fd, status_fd, out_fd, err_fd, in_fd;
	long long expect_pid; /* the row's pid when start read it */
};
__attribute__((noreturn)) void vs_svc_ctr_monitor(const struct vs_ctr_monitor_args *a);

#endif
