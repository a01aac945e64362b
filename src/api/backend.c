/* The real backend of the request core: the service layer and the image
 * store, one call each (internal.h). */
#include "api/internal.h"
#include "image/image.h"

#include <stdlib.h>

static int image_list(const char *root, json_t **out, struct vs_err **err)
{
	struct vs_image_store *s = NULL;
	struct vs_image_info *v = NULL;
	size_t n = 0;
	json_t *a;
	int r;

	if ((r = vs_image_store_open(root, &s, err)) < 0)
		return r;
	r = vs_image_list(s, &v, &n, err);
	vs_image_store_free(s);
	if (r < 0)
		return r;
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, vs_image_info_to_json(&v[i]));
		vs_image_info_clear(&v[i]);
	}
	free(v);
	*out = a;
	return 0;
}

const struct vs_api_backend vs_api_backend_svc = {
	.vm_create = vs_svc_vm_create,
	.vm_start = vs_svc_vm_start,
	.vm_stop = vs_svc_vm_stop,
	.vm_kill = vs_svc_vm_kill,
	.vm_pause = vs_svc_vm_pause,
	.vm_resume = vs_svc_vm_resume,
	.vm_remove = vs_svc_vm_remove,
	.vm_list = vs_svc_vm_list,
	.vm_inspect = vs_svc_vm_inspect,
	.image_list = image_list,
	.ctr_create = vs_svc_ctr_create,
	.ctr_start = vs_svc_ctr_start,
	.ctr_stop = vs_svc_ctr_stop,
	.ctr_kill = vs_svc_ctr_kill,
	.ctr_pause = vs_svc_ctr_pause,
	.ctr_remove = vs_svc_ctr_remove,
	.ctr_list = vs_svc_ctr_list,
	.ctr_inspect = vs_svc_ctr_inspect,
	.ctr_is_paused = vs_svc_ctr_is_paused,
	.ctr_log_path = vs_svc_ctr_log_path,
	.ctr_stats = vs_svc_ctr_stats,
	.net_create = vs_svc_net_create,
	.net_list = vs_svc_net_list,
	.net_inspect = vs_svc_net_inspect,
	.net_rm = vs_svc_net_rm,
	.disk_create = vs_svc_disk_create,
	.disk_list = vs_svc_disk_list,
	.disk_info = vs_svc_disk_info,
	.disk_snapshot = vs_svc_disk_snapshot,
	.disk_remove = vs_svc_disk_remove,
	.vm_stats = vs_svc_vm_stats,
	.vm_log_path = vs_svc_vm_log_path,
};
