/* A VM's figures through its VMM's control socket (vm-stats.h). */
#include "svc/vm-stats.h"
#include "svc/internal.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int vs_svc_vm_stats(struct vs_svc *svc, const char *name, struct vs_vm_stats *out,
		    struct vs_err **err)
{
	struct vs_vm_info info = { 0 };
	struct vs_vm_stats s = { 0 };
	_cleanup_json_ json_t *reply = NULL;
	int r = vs_svc_vm_inspect(svc, name, &info, err);

	if (r < 0)
		return r;
	s.name = xstrdup(info.spec.name ? info.spec.name : name);
	s.mem = info.spec.mem;
	s.cpus = info.spec.cpus;
	s.at_ns = vs_now_ns();
	if ((info.state == VS_VM_RUNNING || info.state == VS_VM_PAUSED) && !info.foreground &&
	    vs_svc_ctl_call(svc, name, "stats", NULL, &reply, NULL) == 0) {
		s.running = true;
		s.paused = !strcmp(vs_json_str(reply, "state") ?: "", "paused");
		s.cpu_ns = (uint64_t)vs_json_int(reply, "cpu_ns", 0);
		s.rss = (uint64_t)vs_json_int(reply, "rss", 0);
		s.uptime_ms = (uint64_t)vs_json_int(reply, "uptime_ms", 0);
		s.console_bytes = (uint64_t)vs_json_int(reply, "console_bytes", 0);
	}
	vs_vm_info_clear(&info);
	*out = s;
	return 0;
}

void vs_vm_stats_clear(struct vs_vm_stats *s)
{
	free(s->name);
	*s = (struct vs_vm_stats){ 0 };
}

json_t *vs_vm_stats_to_json(const struct vs_vm_stats *prev, const struct vs_vm_stats *cur)
{
	json_t *cpu = json_null();

	if (prev && prev->running && cur->running && cur->at_ns > prev->at_ns &&
	    cur->cpu_ns >= prev->cpu_ns)
		cpu = json_real(100.0 * (double)(cur->cpu_ns - prev->cpu_ns) /
				(double)(cur->at_ns - prev->at_ns));
	return json_pack("{s:s, s:b, s:b, s:I, s:I, s:o, s:I, s:I, s:i, s:I, s:I}", "name",
			 cur->name, "running", cur->running, "paused", cur->paused, "read_at_ns",
			 (json_int_t)cur->at_ns, "cpu_ns", (json_int_t)cur->cpu_ns, "cpu_percent",
			 cpu, "rss", (json_int_t)cur->rss, "mem", (json_int_t)cur->mem, "cpus",
			 (int)cur->cpus, "uptime_ms", (json_int_t)cur->uptime_ms, "console_bytes",
			 (json_int_t)cur->console_bytes);
}
