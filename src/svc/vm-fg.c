/* `vessel vm run --name NAME`: the VM is registered like a created one and
 * runs in the calling process, in the foreground (vm.h). It holds the VM's
 * lock as a background VMM does, so `ls` sees it running, and a kill of
 * this process shows as a stop; it has no control socket (stop and kill
 * signal it). */
#include "svc/internal.h"
#include "store/store.h"
#include "store/vms.h"
#include "vmm/vm.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct vs_svc_run {
	struct vs_svc *svc;
	struct vs_store_vm *row;
	int lock_fd;
};

int vs_svc_vm_run_begin(struct vs_svc *svc, const struct vs_vm_spec *spec,
			struct vs_svc_run **token, struct vs_err **err)
{
	_cleanup_free_ char *lock = NULL;
	struct vs_svc_run *t;
	int r;

	if ((r = vs_svc_vm_create(svc, spec, err)) < 0)
		return r;
	t = xzalloc(sizeof(*t));
	t->svc = svc;
	lock = vs_svc_vm_file(svc, spec->name, VS_SVC_LOCK_FILE);
	t->lock_fd = vs_svc_lock_take(lock);
	if (t->lock_fd < 0) {
		r = vs_err_setsys(err, t->lock_fd, "cannot lock %s", lock);
		goto err_free;
	}
	if ((r = vs_store_vm_get(svc->store, spec->name, &t->row, err)) < 0)
		goto err_free;
	t->row->pid = getpid();
	t->row->pid_start = vs_svc_pid_start(getpid());
	t->row->started_at = vs_svc_now_ms();
	if ((r = vs_store_vm_begin_run(svc->store, t->row, err)) < 0)
		goto err_free;
	snprintf(t->row->state, sizeof(t->row->state), "running");
	if ((r = vs_store_vm_update_run(svc->store, t->row, err)) < 0)
		goto err_free;
	*token = t;
	return 0;
err_free:
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	vs_store_vm_free(t->row);
	free(t);
	return r;
}

void vs_svc_vm_run_end(struct vs_svc_run *t, const struct vs_vm_result *res)
{
	char reason[256];
	int status = 125;

	if (!t)
		return;
	if (res) {
		vs_svc_result_text(res, reason, sizeof(reason), &status);
		snprintf(t->row->state, sizeof(t->row->state), "stopped");
		free(t->row->exit_reason);
		t->row->exit_reason = xstrdup(reason);
		t->row->exit_status = status;
		t->row->pid = 0;
		t->row->stopped_at = vs_svc_now_ms();
		vs_store_vm_update_run(t->svc->store, t->row, NULL);
	}
	close(t->lock_fd);
	vs_store_vm_free(t->row);
	free(t);
}
