/* Private to the container half of src/svc (ctr.h). */
#ifndef VS_SVC_CTR_INTERNAL_H
#define VS_SVC_CTR_INTERNAL_H

#include "svc/ctr.h"

#include <jansson.h>
#include <stdbool.h>

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
