/* Container specs and infos as JSON (docs/api/container-spec.md), and
 * their release. */
#include "svc/ctr.h"
#include "svc/net.h"
#include "net/port.h"
#include "common/json.h"
#include "common/util.h"

#include <stdlib.h>

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void vs_ctr_spec_clear(struct vs_ctr_spec *s)
{
	free(s->name);
	free(s->image);
	strv_free(s->command);
	strv_free(s->entrypoint);
	strv_free(s->env);
	free(s->workdir);
	free(s->user);
	free(s->hostname);
	for (size_t i = 0; i < s->n_volumes; i++) {
		free(s->volumes[i].source);
		free(s->volumes[i].destination);
	}
	free(s->volumes);
	strv_free(s->tmpfs);
	free(s->network_name);
	free(s->ports);
	*s = (struct vs_ctr_spec){ 0 };
}

static json_t *strv_json(char **v)
{
	json_t *a;

	if (!v)
		return json_null();
	a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *volumes_json(const struct vs_ctr_spec *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_volumes; i++)
		json_array_append_new(a,
				      json_pack("{s:s, s:s, s:b}", "source", s->volumes[i].source,
						"destination", s->volumes[i].destination,
						"readonly", s->volumes[i].readonly));
	return a;
}

static json_t *ports_json(const struct vs_ctr_spec *s)
{
	json_t *a = json_array();
	char buf[40];

	for (size_t i = 0; i < s->n_ports; i++)
		json_array_append_new(a, json_string(vs_port_spec_str(&s->ports[i], buf)));
	return a;
}

const char *vs_ctr_spec_network(const struct vs_ctr_spec *s)
{
	if (s->network == VS_CTR_NET_HOST)
		return "host";
	if (s->network == VS_CTR_NET_NONE)
		return "none";
	return s->network_name ? s->network_name : VS_NET_DEFAULT;
}

json_t *vs_ctr_spec_to_json(const struct vs_ctr_spec *s)
{
	json_t *j = json_object();

	vs_json_set_str(j, "name", s->name);
	vs_json_set_str(j, "image", s->image);
	json_object_set_new(j, "command", strv_json(s->command));
	json_object_set_new(j, "entrypoint", strv_json(s->entrypoint));
	json_object_set_new(j, "env", strv_json(s->env));
	vs_json_set_str(j, "workdir", s->workdir);
	vs_json_set_str(j, "user", s->user);
	vs_json_set_str(j, "hostname", s->hostname);
	json_object_set_new(j, "memory", json_integer((json_int_t)s->memory));
	json_object_set_new(j, "cpu_millis", json_integer((json_int_t)s->cpu_millis));
	json_object_set_new(j, "pids_limit", json_integer(s->pids_limit));
	json_object_set_new(j, "volumes", volumes_json(s));
	json_object_set_new(j, "tmpfs", strv_json(s->tmpfs));
	json_object_set_new(j, "network", json_string(vs_ctr_spec_network(s)));
	json_object_set_new(j, "ports", ports_json(s));
	json_object_set_new(j, "publish_all", json_boolean(s->publish_all));
	json_object_set_new(j, "read_only", json_boolean(s->read_only));
	json_object_set_new(j, "auto_remove", json_boolean(s->auto_remove));
	json_object_set_new(j, "log_max",
			    json_integer((json_int_t)(s->log_max ? s->log_max : VS_CTR_LOG_MAX)));
	json_object_set_new(j, "tty", json_boolean(s->tty));
	json_object_set_new(j, "restart",
			    json_string(s->restart == VS_CTR_RESTART_ALWAYS	? "always" :
					s->restart == VS_CTR_RESTART_ON_FAILURE ? "on-failure" :
										  "no"));
	json_object_set_new(j, "restart_max", json_integer(s->restart_max));
	return j;
}

const char *vs_ctr_state_name(enum vs_ctr_state s)
{
	static const char *const names[] = { "created", "running", "exited" };

	return s <= VS_CTR_ST_EXITED ? names[s] : "unknown";
}

void vs_ctr_info_clear(struct vs_ctr_info *info)
{
	free(info->id);
	free(info->name);
	free(info->image);
	free(info->image_digest);
	json_decref(info->spec);
	json_decref(info->addresses);
	free(info->exit_reason);
	*info = (struct vs_ctr_info){ 0 };
}

void vs_ctr_info_list_free(struct vs_ctr_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vs_ctr_info_clear(&v[i]);
	free(v);
}

static json_t *ms_or_null(int64_t ms)
{
	return ms ? json_integer(ms) : json_null();
}

json_t *vs_ctr_info_to_json(const struct vs_ctr_info *i)
{
	json_t *j = json_object();
	bool running = i->state == VS_CTR_ST_RUNNING, exited = i->state == VS_CTR_ST_EXITED;

	vs_json_set_str(j, "name", i->name);
	json_object_set_new(j, "kind", json_string("container"));
	json_object_set_new(j, "state", json_string(vs_ctr_state_name(i->state)));
	json_object_set_new(j, "pid", running ? json_integer(i->pid) : json_null());
	vs_json_set_str(j, "id", i->id);
	vs_json_set_str(j, "image", i->image);
	vs_json_set_str(j, "image_digest", i->image_digest);
	json_object_set_new(j, "monitor_pid", running ? json_integer(i->monitor_pid) : json_null());
	json_object_set_new(j, "created_at_ms", ms_or_null(i->created_at));
	json_object_set_new(j, "started_at_ms", ms_or_null(i->started_at));
	json_object_set_new(j, "finished_at_ms", exited ? ms_or_null(i->finished_at) : json_null());
	json_object_set_new(j, "exit_code", exited ? json_integer(i->exit_code) : json_null());
	json_object_set_new(j, "oom_killed", json_boolean(i->oom_killed));
	vs_json_set_str(j, "exit_reason", i->exit_reason);
	json_object_set_new(j, "addresses",
			    i->addresses ? json_incref(i->addresses) : json_array());
	json_object_set_new(j, "restart_count", json_integer(i->restart_count));
	json_object_set(j, "spec", i->spec ? i->spec : json_null());
	return j;
}
