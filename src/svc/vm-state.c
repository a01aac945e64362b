/* What state a VM is in (vm.h): the recorded state checked against the
 * VMM's lock, `ls`, `inspect`, and their JSON form. */
#include "svc/internal.h"
#include "svc/vm-net.h"
#include "svc/vmm-reaper.h"
#include "store/vms.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Nobody saw the end: a foreground `vm run --name`, or a VMM whose reaper
 * died too. */
#define REAPER_WAIT_MS 1000 /* a reaper writes a line and exits: this is slack */
#define VANISHED_REASON "the VMM exited without recording a status (killed? nothing saw its end)"

static const char *const state_names[] = {
	[VS_VM_CREATED] = "created", [VS_VM_STARTING] = "starting", [VS_VM_RUNNING] = "running",
	[VS_VM_PAUSED] = "paused",   [VS_VM_STOPPED] = "stopped",
};

const char *vs_vm_state_name(enum vs_vm_state s)
{
	return s < VS_ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

enum vs_vm_state vs_svc_state_parse(const char *s)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(state_names); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum vs_vm_state)i;
	return VS_VM_STOPPED;
}

static bool is_active(enum vs_vm_state s)
{
	return s == VS_VM_STARTING || s == VS_VM_RUNNING || s == VS_VM_PAUSED;
}

/* A running VMM's recorded process is gone (or a zombie) while the lock is
 * still held: its reaper is about to write what it saw and let go. */
static bool vmm_is_gone(const struct vs_store_vm *row, enum vs_vm_state st)
{
	return (st == VS_VM_RUNNING || st == VS_VM_PAUSED) && row->pid > 0 &&
	       vs_svc_pid_start((pid_t)row->pid) != row->pid_start;
}

/* Why an active run's VMM is gone without recording its end: what its
 * reaper saw (vmm-reaper.h) if it wrote it for this run. */
static char *vanished_reason(struct vs_svc *svc, const struct vs_store_vm *row, enum vs_vm_state st,
			     int *status)
{
	_cleanup_free_ char *dir = vs_svc_vm_dir(svc, row->name);
	const char *prefix = st == VS_VM_STARTING ? "the start was interrupted: " : "";
	char how[96];
	int ws;

	*status = -1;
	if (!vs_svc_vmm_exit_read(dir, row->run_id, &ws)) /* a start may have had no VMM yet */
		return xstrdup(st == VS_VM_STARTING ? "the start was interrupted" :
						      VANISHED_REASON);
	vs_svc_wstatus_text(ws, how, sizeof(how), status);
	return xasprintf("%sthe VMM %s%s", prefix, how,
			 WIFSIGNALED(ws) ? "" : " without recording why");
}

enum vs_vm_state vs_svc_check_live(struct vs_svc *svc, struct vs_store_vm *row)
{
	enum vs_vm_state st = vs_svc_state_parse(row->state);
	_cleanup_free_ char *lock = NULL;

	if (!is_active(st))
		return st;
	lock = vs_svc_vm_file(svc, row->name, VS_SVC_LOCK_FILE);
	if (vs_svc_lock_held(lock) &&
	    (!vmm_is_gone(row, st) || vs_svc_lock_wait_free(lock, REAPER_WAIT_MS) < 0))
		return st;
	/* Nobody holds the lock: the VMM is gone without recording its end (its
	 * reaper, which held the lock too, has written what it saw). The write
	 * is conditional on the run, so a VMM that records its own exit at the
	 * same moment, or a new start, wins. */
	snprintf(row->state, sizeof(row->state), "stopped");
	free(row->exit_reason);
	row->exit_reason = vanished_reason(svc, row, st, &row->exit_status);
	row->pid = 0;
	row->stopped_at = vs_svc_now_ms();
	vs_store_vm_update_run(svc->store, row, NULL);
	vs_svc_vm_net_ports_drop(svc, row->name); /* its lease stays, its ports go */
	return VS_VM_STOPPED;
}

int vs_svc_get_row(struct vs_svc *svc, const char *name, struct vs_store_vm **out,
		   struct vs_err **err)
{
	int r = vs_store_vm_get(svc->store, name, out, err);

	if (r == -ENOENT)
		return vs_err_set(err, -ENOENT, "no VM named '%s' (see vessel vm ls)", name);
	if (r == 0)
		vs_svc_check_live(svc, *out);
	return r;
}

static void fill_info(struct vs_svc *svc, struct vs_store_vm *row, struct vs_vm_info *info)
{
	_cleanup_json_ json_t *j = json_loads(row->spec, 0, NULL);
	enum vs_vm_state st = vs_svc_check_live(svc, row);

	vs_vm_spec_init(&info->spec);
	if (vs_vm_spec_from_json(j, &info->spec, NULL) < 0) {
		vs_vm_spec_clear(&info->spec);
		info->spec.cpus = row->cpus;
		info->spec.mem = row->mem;
	}
	free(info->spec.name);
	info->spec.name = xstrdup(row->name);
	info->spec.autostart = row->autostart;
	info->state = st;
	info->pid = is_active(st) ? (pid_t)row->pid : 0;
	info->created_at = row->created_at;
	info->started_at = row->started_at;
	info->stopped_at = row->stopped_at;
	info->exit_reason = row->exit_reason ? xstrdup(row->exit_reason) : NULL;
	info->exit_status = row->exit_status;
	if (st == VS_VM_RUNNING || st == VS_VM_PAUSED) {
		_cleanup_free_ char *sock = vs_svc_vm_file(svc, row->name, VS_SVC_SOCK_FILE);

		info->foreground = access(sock, F_OK) != 0;
	}
}

int vs_svc_vm_inspect(struct vs_svc *svc, const char *name, struct vs_vm_info *out,
		      struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	int r = vs_svc_get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	fill_info(svc, row, out);
	vs_store_vm_free(row);
	return 0;
}

int vs_svc_vm_list(struct vs_svc *svc, struct vs_vm_info **out, size_t *n, struct vs_err **err)
{
	struct vs_store_vm **rows = NULL;
	struct vs_vm_info *v;
	size_t nrows = 0;
	int r = vs_store_vm_list(svc->store, &rows, &nrows, err);

	if (r < 0)
		return r;
	v = xzalloc((nrows ? nrows : 1) * sizeof(*v));
	for (size_t i = 0; i < nrows; i++)
		fill_info(svc, rows[i], &v[i]);
	vs_store_vm_list_free(rows, nrows);
	*out = v;
	*n = nrows;
	return 0;
}

void vs_vm_info_clear(struct vs_vm_info *info)
{
	vs_vm_spec_clear(&info->spec);
	free(info->exit_reason);
	info->exit_reason = NULL;
}

void vs_vm_info_list_free(struct vs_vm_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_vm_info_clear(&v[i]);
	free(v);
}

json_t *vs_vm_info_to_json(const struct vs_vm_info *info)
{
	json_t *j = json_object();
	bool active = is_active(info->state);

	json_object_set_new(j, "name", json_string(info->spec.name));
	json_object_set_new(j, "kind", json_string("vm"));
	json_object_set_new(j, "state", json_string(vs_vm_state_name(info->state)));
	json_object_set_new(j, "pid", active ? json_integer(info->pid) : json_null());
	json_object_set_new(j, "cpus", json_integer(info->spec.cpus));
	json_object_set_new(j, "mem", json_integer((json_int_t)info->spec.mem));
	json_object_set_new(j, "created_at", json_integer(info->created_at));
	json_object_set_new(j, "started_at_ms",
			    info->started_at ? json_integer(info->started_at) : json_null());
	json_object_set_new(j, "uptime_ms",
			    active && info->started_at ?
				    json_integer(vs_svc_now_ms() - info->started_at) :
				    json_null());
	json_object_set_new(j, "stopped_at_ms",
			    info->stopped_at ? json_integer(info->stopped_at) : json_null());
	vs_json_set_str(j, "exit_reason", info->exit_reason);
	json_object_set_new(j, "exit_status",
			    info->exit_reason && info->exit_status >= 0 ?
				    json_integer(info->exit_status) :
				    json_null());
	json_object_set_new(j, "autostart", json_boolean(info->spec.autostart));
	json_object_set_new(j, "foreground", json_boolean(info->foreground));
	json_object_set_new(j, "spec", vs_vm_spec_to_json(&info->spec));
	return j;
}
