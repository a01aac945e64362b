/* The container spec from JSON, strictly (ctr-spec-json.h), and pause /
 * resume through the runtime's freezer (src/ctr). */
#include "svc/ctr-spec-json.h"
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "net/port.h"
#include "store/containers.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARGV_MAX 4096 /* strings in one array */
#define CPUS_MAX 1024

static int want(const json_t *v, json_type t, const char *key, const char *what,
		struct vs_err **err)
{
	if (json_typeof(v) == t)
		return 0;
	return vs_err_set(err, -EINVAL, "field '%s' must be %s", key, what);
}

/* A string or null (left NULL). */
static int get_str(const json_t *v, const char *key, char **out, struct vs_err **err)
{
	if (json_is_null(v))
		return 0;
	if (want(v, JSON_STRING, key, "a string or null", err) < 0)
		return -EINVAL;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return vs_err_set(err, -EINVAL, "field '%s' holds a NUL byte", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* An array of strings or null, into a NULL-terminated vector. */
static int get_strv(const json_t *v, const char *key, char ***out, struct vs_err **err)
{
	size_t i, n = json_array_size(v);
	json_t *e;

	if (json_is_null(v))
		return 0;
	if (!json_is_array(v) || n > ARGV_MAX)
		return vs_err_set(err, -EINVAL, "field '%s' must be an array of strings or null",
				  key);
	*out = xzalloc((n + 1) * sizeof(char *));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			return vs_err_set(err, -EINVAL, "field '%s': item %zu must be a string",
					  key, i);
		(*out)[i] = xstrdup(json_string_value(e));
	}
	return 0;
}

static int get_uint(const json_t *v, const char *key, uint64_t *out, struct vs_err **err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return vs_err_set(err, -EINVAL, "field '%s' must be an integer >= 0", key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *v, const char *key, bool *out, struct vs_err **err)
{
	if (!json_is_boolean(v))
		return vs_err_set(err, -EINVAL, "field '%s' must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

static int get_volumes(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	size_t i;
	json_t *e;

	if (json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > ARGV_MAX)
		return vs_err_set(err, -EINVAL, "field 'volumes' must be an array or null");
	s->volumes = xzalloc((json_array_size(v) + 1) * sizeof(*s->volumes));
	json_array_foreach(v, i, e)
	{
		struct vs_ctr_volume *vol = &s->volumes[i];
		const char *key;
		json_t *f;

		if (!json_is_object(e))
			return vs_err_set(err, -EINVAL, "volumes[%zu] must be an object", i);
		s->n_volumes = i + 1; /* what clear frees */
		json_object_foreach(e, key, f)
		{
			int r = !strcmp(key, "source") ?
					get_str(f, "source", &vol->source, err) :
				!strcmp(key, "destination") ?
					get_str(f, "destination", &vol->destination, err) :
				!strcmp(key, "readonly") ?
					get_bool(f, "readonly", &vol->readonly, err) :
					vs_err_set(err, -EINVAL,
						   "volumes[%zu]: unknown field "
						   "'%.64s'",
						   i, key);
			if (r < 0)
				return r;
		}
		if (!vol->source || !vol->destination)
			return vs_err_set(err, -EINVAL,
					  "volumes[%zu]: 'source' and 'destination' are required",
					  i);
	}
	return 0;
}

/* "none", "host", "bridge" (the default network) or a network's name, as
 * `vessel run --network`. */
static int get_network(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	const char *n = json_string_value(v);

	if (!n || !*n || strlen(n) > 64)
		return vs_err_set(err, -EINVAL,
				  "field 'network' must be \"none\", \"host\", \"bridge\" or a "
				  "network's name");
	free(s->network_name);
	s->network_name = NULL;
	s->network = !strcmp(n, "none") ? VS_CTR_NET_NONE :
		     !strcmp(n, "host") ? VS_CTR_NET_HOST :
					  VS_CTR_NET_BRIDGE;
	if (s->network == VS_CTR_NET_BRIDGE && strcmp(n, "bridge"))
		s->network_name = xstrdup(n);
	return 0;
}

/* ["[HOSTIP:]HOSTPORT:PORT[/tcp|udp]", ...], as `-p`. */
static int get_ports(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > 64)
		return vs_err_set(err, -EINVAL,
				  "field 'ports' must be an array of at most 64 strings");
	free(s->ports);
	s->ports = xzalloc((json_array_size(v) + 1) * sizeof(*s->ports));
	s->n_ports = 0;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) ||
		    vs_port_spec_parse(json_string_value(e), &s->ports[s->n_ports], err) < 0)
			return vs_err_wrap(err, -EINVAL, "ports[%zu]", i);
		s->n_ports++;
	}
	return 0;
}

/* "no", "always", "on-failure" (with restart_max), as `--restart`. */
static int get_restart(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	const char *r = json_string_value(v);

	if (r && !strcmp(r, "no"))
		s->restart = VS_CTR_RESTART_NO;
	else if (r && (!strcmp(r, "always") || !strcmp(r, "unless-stopped")))
		s->restart = VS_CTR_RESTART_ALWAYS;
	else if (r && !strcmp(r, "on-failure"))
		s->restart = VS_CTR_RESTART_ON_FAILURE;
	else
		return vs_err_set(err, -EINVAL,
				  "field 'restart' must be \"no\", \"on-failure\" or \"always\"");
	return 0;
}

static int get_cpus(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	double c = json_number_value(v);

	if (!json_is_number(v) || !(c > 0) || c > CPUS_MAX)
		return vs_err_set(err, -EINVAL, "field 'cpus' must be a number above 0, at most %d",
				  CPUS_MAX);
	s->cpu_millis = (uint64_t)(c * 1000 + 0.5);
	if (s->cpu_millis == 0)
		s->cpu_millis = 1;
	return 0;
}

static int get_pids(const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return vs_err_set(err, -EINVAL, "field 'pids_limit' must be an integer >= 0");
	s->pids_limit = json_integer_value(v);
	return 0;
}

/* One key of the body. */
static int get_field(const char *key, const json_t *v, struct vs_ctr_spec *s, struct vs_err **err)
{
	if (!strcmp(key, "name"))
		return get_str(v, key, &s->name, err);
	if (!strcmp(key, "image"))
		return get_str(v, key, &s->image, err);
	if (!strcmp(key, "command"))
		return get_strv(v, key, &s->command, err);
	if (!strcmp(key, "entrypoint"))
		return get_strv(v, key, &s->entrypoint, err);
	if (!strcmp(key, "env"))
		return get_strv(v, key, &s->env, err);
	if (!strcmp(key, "tmpfs"))
		return get_strv(v, key, &s->tmpfs, err);
	if (!strcmp(key, "workdir"))
		return get_str(v, key, &s->workdir, err);
	if (!strcmp(key, "user"))
		return get_str(v, key, &s->user, err);
	if (!strcmp(key, "hostname"))
		return get_str(v, key, &s->hostname, err);
	if (!strcmp(key, "memory"))
		return get_uint(v, key, &s->memory, err);
	if (!strcmp(key, "cpu_millis"))
		return get_uint(v, key, &s->cpu_millis, err);
	if (!strcmp(key, "log_max"))
		return get_uint(v, key, &s->log_max, err);
	if (!strcmp(key, "cpus"))
		return get_cpus(v, s, err);
	if (!strcmp(key, "pids_limit"))
		return get_pids(v, s, err);
	if (!strcmp(key, "volumes"))
		return get_volumes(v, s, err);
	if (!strcmp(key, "network"))
		return get_network(v, s, err);
	if (!strcmp(key, "ports"))
		return get_ports(v, s, err);
	if (!strcmp(key, "publish_all"))
		return get_bool(v, key, &s->publish_all, err);
	if (!strcmp(key, "tty"))
		return get_bool(v, key, &s->tty, err);
	if (!strcmp(key, "restart"))
		return get_restart(v, s, err);
	if (!strcmp(key, "restart_max")) {
		uint64_t n = 0;
		int r = get_uint(v, key, &n, err);

		s->restart_max = (unsigned)VS_MIN(n, (uint64_t)UINT32_MAX);
		return r;
	}
	if (!strcmp(key, "read_only"))
		return get_bool(v, key, &s->read_only, err);
	if (!strcmp(key, "auto_remove"))
		return get_bool(v, key, &s->auto_remove, err);
	if (!strcmp(key, "stop_signal")) /* inspect's spec posts back; create takes the image's */
		return json_is_string(v) || json_is_null(v) ?
			       0 :
			       vs_err_set(err, -EINVAL, "field 'stop_signal' must be a string");
	return vs_err_set(err, -EINVAL, "unknown field '%.64s'", key);
}

int vs_ctr_spec_from_json(const json_t *j, struct vs_ctr_spec *out, struct vs_err **err)
{
	const char *key;
	json_t *v;
	int r;

	/* explicitly none (unlike `vessel run`, whose default is the default
	 * network): a client of the API says which network a container joins;
	 * the server may run in the host's namespace */
	*out = (struct vs_ctr_spec){ .network = VS_CTR_NET_NONE };
	if (!json_is_object(j))
		return vs_err_set(err, -EINVAL, "the container spec must be a JSON object");
	if (json_object_get(j, "cpus") && json_object_get(j, "cpu_millis"))
		return vs_err_set(err, -EINVAL, "give 'cpus' or 'cpu_millis', not both");
	json_object_foreach((json_t *)j, key, v)
	{
		if ((r = get_field(key, v, out, err)) < 0)
			return r;
	}
	if (!out->image || !*out->image)
		return vs_err_set(err, -EINVAL, "field 'image' is required");
	if (out->entrypoint && !out->entrypoint[0])
		return vs_err_set(err, -EINVAL, "field 'entrypoint' must not be empty");
	return 0;
}

int vs_svc_ctr_pause(struct vs_svc *svc, const char *key, bool pause, struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	_cleanup_free_ char *oci = vs_svc_ctr_oci_root(svc);
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	if (strcmp(row->state, "running") != 0)
		r = vs_err_set(err, -ESRCH, "container %s is not running", row->name);
	else if (vs_svc_ctr_is_paused(svc, row->id) == pause)
		r = vs_err_set(err, -EBUSY, "container %s is %s", row->name,
			       pause ? "already paused" : "not paused");
	else if ((r = vs_ctr_pause(oci, row->id, pause, NULL)) == -ENOENT || r == -EINVAL)
		/* it ended since the row was read: the runtime's state is gone or stopped */
		r = vs_err_set(err, -ESRCH, "container %s is not running", row->name);
	else if (r < 0)
		r = vs_err_setsys(err, r, "cannot %s container %s", pause ? "pause" : "resume",
				  row->name);
	vs_store_ctr_free(row);
	return r;
}

bool vs_svc_ctr_is_paused(struct vs_svc *svc, const char *id)
{
	_cleanup_free_ char *path = xasprintf(VS_CTR_CGROUP_PARENT "/%s", id);

	(void)svc;
	return vs_cgroup_path_is_frozen(path);
}
