/* Private to src/api: the backend seam, the handlers the router table
 * names, and the helpers they share (router.c). */
#ifndef VS_API_INTERNAL_H
#define VS_API_INTERNAL_H

#include "api/api.h"
#include "svc/ctr-spec-json.h"
#include "svc/ctr-stats.h"
#include "svc/ctr.h"
#include "svc/disk.h"
#include "svc/net.h"
#include "svc/vm-stats.h"
#include "svc/vm.h"

#include <jansson.h>
#include <stdint.h>

struct vs_image_info;

/* The service calls the API makes, one to one with src/svc and src/image.
 * vs_api_backend_svc is the real one; tests/fuzz has stubs. */
struct vs_api_backend {
	int (*vm_create)(struct vs_svc *svc, const struct vs_vm_spec *spec, struct vs_err **err);
	int (*vm_start)(struct vs_svc *svc, const char *name, const struct vs_vm_start_opts *o,
			struct vs_err **err);
	int (*vm_stop)(struct vs_svc *svc, const char *name, const struct vs_vm_stop_opts *o,
		       struct vs_err **err);
	int (*vm_kill)(struct vs_svc *svc, const char *name, struct vs_err **err);
	int (*vm_pause)(struct vs_svc *svc, const char *name, struct vs_err **err);
	int (*vm_resume)(struct vs_svc *svc, const char *name, struct vs_err **err);
	int (*vm_remove)(struct vs_svc *svc, const char *name, const struct vs_vm_remove_opts *o,
			 struct vs_err **err);
	int (*vm_list)(struct vs_svc *svc, struct vs_vm_info **out, size_t *n, struct vs_err **err);
	int (*vm_inspect)(struct vs_svc *svc, const char *name, struct vs_vm_info *out,
			  struct vs_err **err);
	/* every image under root as JSON (an array), or -errno with *err */
	int (*image_list)(const char *root, json_t **out, struct vs_err **err);
	/* containers (svc/ctr.h, svc/ctr-stats.h, svc/ctr-spec-json.h) */
	int (*ctr_create)(struct vs_svc *svc, const struct vs_ctr_spec *spec, char **id,
			  struct vs_err **err);
	int (*ctr_start)(struct vs_svc *svc, const char *key, const struct vs_ctr_start_opts *o,
			 struct vs_err **err);
	int (*ctr_stop)(struct vs_svc *svc, const char *key, int sig, unsigned timeout_s,
			struct vs_err **err);
	int (*ctr_kill)(struct vs_svc *svc, const char *key, int sig, struct vs_err **err);
	int (*ctr_pause)(struct vs_svc *svc, const char *key, bool pause, struct vs_err **err);
	int (*ctr_remove)(struct vs_svc *svc, const char *key, bool force, struct vs_err **err);
	int (*ctr_list)(struct vs_svc *svc, struct vs_ctr_info **out, size_t *n,
			struct vs_err **err);
	int (*ctr_inspect)(struct vs_svc *svc, const char *key, struct vs_ctr_info *out,
			   struct vs_err **err);
	bool (*ctr_is_paused)(struct vs_svc *svc, const char *id);
	int (*ctr_log_path)(struct vs_svc *svc, const char *key, char **out, char **old,
			    struct vs_err **err);
	int (*ctr_stats)(struct vs_svc *svc, const char *key, struct vs_ctr_stats *out,
			 struct vs_err **err);
	/* networks (svc/net.h) */
	int (*net_create)(struct vs_svc *svc, const struct vs_net_spec *spec,
			  struct vs_net_info *out, struct vs_err **err);
	int (*net_list)(struct vs_svc *svc, struct vs_net_info **out, size_t *n,
			struct vs_err **err);
	int (*net_inspect)(struct vs_svc *svc, const char *name, struct vs_net_info *out,
			   struct vs_err **err);
	int (*net_rm)(struct vs_svc *svc, const char *name, struct vs_err **err);
	/* disks (svc/disk.h) */
	int (*disk_create)(struct vs_svc *svc, const struct vs_disk_spec *spec,
			   struct vs_disk_info *out, struct vs_err **err);
	int (*disk_list)(struct vs_svc *svc, struct vs_disk_info **out, size_t *n,
			 struct vs_err **err);
	int (*disk_info)(struct vs_svc *svc, const char *name, struct vs_disk_info *out,
			 struct vs_err **err);
	int (*disk_snapshot)(struct vs_svc *svc, const char *name, const char *snap,
			     struct vs_err **err);
	int (*disk_remove)(struct vs_svc *svc, const char *name, struct vs_err **err);
	int (*vm_log_path)(struct vs_svc *svc, const char *name, char **out, struct vs_err **err);
	/* svc/vm-stats.h */
	int (*vm_stats)(struct vs_svc *svc, const char *name, struct vs_vm_stats *out,
			struct vs_err **err);
};

extern const struct vs_api_backend vs_api_backend_svc;

typedef void vs_api_handler(struct vs_api_ctx *ctx, struct vs_api_req *req,
			    struct vs_api_resp *resp);

/* vms.c */
vs_api_handler api_vms_list, api_vms_create, api_vms_get, api_vms_delete;
vs_api_handler api_vms_start, api_vms_stop, api_vms_kill, api_vms_pause, api_vms_resume,
	api_vms_restart, api_vms_stats, api_vms_console, api_vms_logs;
/* host.c */
vs_api_handler api_host_get;
/* images.c */
vs_api_handler api_images_list;
/* containers.c */
vs_api_handler api_ctrs_list, api_ctrs_create, api_ctrs_get, api_ctrs_delete;
vs_api_handler api_ctrs_start, api_ctrs_stop, api_ctrs_kill, api_ctrs_pause, api_ctrs_resume,
	api_ctrs_restart, api_ctrs_logs, api_ctrs_stats, api_ctrs_attach;
/* networks.c */
vs_api_handler api_nets_list, api_nets_create, api_nets_get, api_nets_delete;
/* disks.c */
vs_api_handler api_disks_list, api_disks_create, api_disks_get, api_disks_delete,
	api_disks_snapshot;

/* router.c: filling the response. */
/* Sets status and the compact text of j (whose reference it takes). */
void api_reply_json(struct vs_api_resp *resp, unsigned status, json_t *j);
/* Replaces the bytes of s (NUL-terminated) that are not valid UTF-8 by '?',
 * so that jansson takes it. */
void api_utf8_clean(char *s);
/* {"error": msg} with status: the one line the CLI prints. */
void api_reply_error(struct vs_api_resp *resp, unsigned status, const char *msg);
/* An error from the service layer: status from its code, then frees e. */
void api_reply_err(struct vs_api_resp *resp, int code, struct vs_err *e);
unsigned api_status_of(int code);

/* logs.c: ?tail=N (and ?follow=BOOL when follow is not NULL) of a logs
 * request (false after replying 400), and the reply: the last MiB of old
 * then path (either may be NULL or absent), the last *tail lines when tail
 * is not NULL, as text/plain. */
bool api_log_args(const struct vs_api_req *req, uint64_t *tail, bool *has_tail, bool *follow,
		  struct vs_api_resp *resp);
void api_reply_log(struct vs_api_resp *resp, const char *old, const char *path,
		   const uint64_t *tail, bool records);

/* An action takes no body: false after replying 400 to a non-empty one. */
bool api_no_body(const struct vs_api_req *req, struct vs_api_resp *resp);

/* The body parsed as a JSON object (an empty object when there is no
 * body); NULL after replying 400 with the reason. */
json_t *api_body_object(struct vs_api_req *req, struct vs_api_resp *resp);

/* Query arguments: each handler lists the keys it knows; any other key is
 * a 400 (api_args_check replies, returns false). */
bool api_args_check(const struct vs_api_req *req, const char *const *known,
		    struct vs_api_resp *resp);
const char *api_arg(const struct vs_api_req *req, const char *key);
/* "true"/"false"/"1"/"0"/"" (= true) into *out; false after replying 400. */
bool api_arg_bool(const struct vs_api_req *req, const char *key, bool *out,
		  struct vs_api_resp *resp);
bool api_arg_uint(const struct vs_api_req *req, const char *key, uint64_t max, uint64_t *out,
		  struct vs_api_resp *resp);

#endif
