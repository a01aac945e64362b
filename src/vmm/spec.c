/* struct vs_vm_spec and its JSON form (spec.h, docs/api/vm-spec.md). */
#include "block/block.h"
#include "vmm/spec.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MEM (32ULL << 20)
#define MAX_CPUS 254

static const char *const
	accel_names[] = { [VS_ACCEL_AUTO] = "auto", [VS_ACCEL_KVM] = "kvm", [VS_ACCEL_EMU] = "emu" };

const char *vs_accel_name(enum vs_accel a)
{
	return a < VS_ARRAY_SIZE(accel_names) ? accel_names[a] : "auto";
}

int vs_accel_parse(const char *s, enum vs_accel *out)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(accel_names); i++)
		if (strcmp(s, accel_names[i]) == 0) {
			*out = (enum vs_accel)i;
			return 0;
		}
	return -EINVAL;
}

void vs_vm_spec_init(struct vs_vm_spec *s)
{
	*s = (struct vs_vm_spec){ .cpus = VS_VM_DEFAULT_CPUS,
				  .mem = VS_VM_DEFAULT_MEM,
				  .cpu_model = VS_CPU_HOST,
				  .accel = VS_ACCEL_AUTO };
}

void vs_vm_spec_clear(struct vs_vm_spec *s)
{
	free(s->name);
	free(s->kernel);
	free(s->initrd);
	free(s->append);
	for (char **a = s->command; a && *a; a++)
		free(*a);
	free(s->command);
	for (size_t i = 0; i < s->ndisks; i++) {
		free(s->disks[i].path);
		free(s->disks[i].format);
	}
	free(s->disks);
	free(s->network);
	for (size_t i = 0; i < s->nports; i++)
		free(s->ports[i]);
	free(s->ports);
	vs_vm_spec_init(s);
}

void vs_vm_spec_add_port(struct vs_vm_spec *s, const char *spec)
{
	s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof(*s->ports));
	s->ports[s->nports++] = xstrdup(spec);
}

int vs_vm_spec_add_disk(struct vs_vm_spec *s, const char *path, const char *format, bool ro)
{
	if (s->ndisks >= VS_VM_MAX_DISKS)
		return -E2BIG;
	s->disks = xrealloc(s->disks, (s->ndisks + 1) * sizeof(*s->disks));
	s->disks[s->ndisks++] = (struct vs_vm_disk){ .path = xstrdup(path),
						     .format = format ? xstrdup(format) : NULL,
						     .ro = ro };
	return 0;
}

static const char *const cache_names[] = {
	[VS_DISK_CACHE_WRITEBACK] = "writeback",
	[VS_DISK_CACHE_NONE] = "none",
	[VS_DISK_CACHE_UNSAFE] = "unsafe",
	[VS_DISK_CACHE_DIRECTSYNC] = "directsync",
};

int vs_disk_cache_parse(const char *name)
{
	for (int i = 0; i < (int)VS_ARRAY_SIZE(cache_names); i++)
		if (name && strcmp(name, cache_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *vs_disk_cache_name(int cache)
{
	return cache >= 0 && cache < (int)VS_ARRAY_SIZE(cache_names) ? cache_names[cache] : NULL;
}

static const char *const aio_names[] = {
	[VS_DISK_AIO_AUTO] = "auto",
	[VS_DISK_AIO_THREADS] = "threads",
	[VS_DISK_AIO_IO_URING] = "io_uring",
};

int vs_disk_aio_parse(const char *name)
{
	for (int i = 0; i < (int)VS_ARRAY_SIZE(aio_names); i++)
		if (name && strcmp(name, aio_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *vs_disk_aio_name(int aio)
{
	return aio >= 0 && aio < (int)VS_ARRAY_SIZE(aio_names) ? aio_names[aio] : NULL;
}

static json_t *disks_to_json(const struct vs_vm_spec *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->ndisks; i++) {
		json_t *d = json_object();

		vs_json_set_str(d, "path", s->disks[i].path);
		vs_json_set_str(d, "format", s->disks[i].format);
		json_object_set_new(d, "readonly", json_boolean(s->disks[i].ro));
		if (s->disks[i].cache != VS_DISK_CACHE_WRITEBACK)
			vs_json_set_str(d, "cache", vs_disk_cache_name((int)s->disks[i].cache));
		if (s->disks[i].aio != VS_DISK_AIO_AUTO)
			vs_json_set_str(d, "aio", vs_disk_aio_name((int)s->disks[i].aio));
		json_array_append_new(a, d);
	}
	return a;
}

static int disks_from_json(const json_t *a, struct vs_vm_spec *s, struct vs_err **err)
{
	size_t i;
	json_t *d;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return vs_err_set(err, -EINVAL, "spec: disks must be an array");
	json_array_foreach(a, i, d)
	{
		const char *path = vs_json_str(d, "path"), *fmt = vs_json_str(d, "format");
		const char *cache = vs_json_str(d, "cache"), *aio = vs_json_str(d, "aio");
		int c = cache ? vs_disk_cache_parse(cache) : VS_DISK_CACHE_WRITEBACK;
		int io = aio ? vs_disk_aio_parse(aio) : VS_DISK_AIO_AUTO;

		if (!path || (fmt && !vs_blk_format_known(fmt)) || c < 0 || io < 0)
			return vs_err_set(
				err, -EINVAL,
				"spec: disks[%zu] needs a path, a known format (raw, qcow2, vdi, vmdk, vhdx), "
				"cache writeback, none, unsafe or directsync and aio auto, threads or io_uring",
				i);
		if (vs_vm_spec_add_disk(s, path, fmt, vs_json_bool(d, "readonly", false)) < 0)
			return vs_err_set(err, -E2BIG, "spec: more than %d disks", VS_VM_MAX_DISKS);
		s->disks[s->ndisks - 1].cache = (enum vs_disk_cache)c;
		s->disks[s->ndisks - 1].aio = (enum vs_disk_aio)io;
	}
	return 0;
}

bool vs_vm_name_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > VS_VM_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int vs_vm_spec_check(const struct vs_vm_spec *s, struct vs_err **err)
{
	if (s->name && !vs_vm_name_is_valid(s->name))
		return vs_err_set(err, -EINVAL,
				  "bad VM name '%s': use 1-%d letters, digits, '_', '.' or '-', "
				  "starting with a letter or digit",
				  s->name, VS_VM_NAME_MAX);
	if (s->cpus == 0 || s->cpus > MAX_CPUS)
		return vs_err_set(err, -EINVAL, "--cpus must be 1-%d", MAX_CPUS);
	if (s->mem < MIN_MEM)
		return vs_err_set(err, -EINVAL, "--mem must be at least %llu MiB", MIN_MEM >> 20);
	if (s->nports && !s->network)
		return vs_err_set(err, -EINVAL, "published ports (-p) need --network NAME");
	return 0;
}

json_t *vs_vm_spec_to_json(const struct vs_vm_spec *s)
{
	json_t *j = json_object(), *cmd = json_null();

	vs_json_set_str(j, "name", s->name);
	vs_json_set_str(j, "kernel", s->kernel);
	vs_json_set_str(j, "initrd", s->initrd);
	vs_json_set_str(j, "append", s->append);
	if (s->command) {
		cmd = json_array();
		for (char **a = s->command; *a; a++)
			json_array_append_new(cmd, json_string(*a));
	}
	json_object_set_new(j, "command", cmd);
	json_object_set_new(j, "cpus", json_integer(s->cpus));
	json_object_set_new(j, "mem", json_integer((json_int_t)s->mem));
	json_object_set_new(j, "cpu_model",
			    json_string(s->cpu_model == VS_CPU_BASELINE ? "baseline" : "host"));
	json_object_set_new(j, "accel", json_string(vs_accel_name(s->accel)));
	json_object_set_new(j, "overcommit", json_boolean(s->overcommit));
	json_object_set_new(j, "autostart", json_boolean(s->autostart));
	json_object_set_new(j, "disks", disks_to_json(s));
	vs_json_set_str(j, "network", s->network);
	if (s->nports) {
		json_t *ports = json_array();

		for (size_t i = 0; i < s->nports; i++)
			json_array_append_new(ports, json_string(s->ports[i]));
		json_object_set_new(j, "ports", ports);
	}
	return j;
}

static char *opt_dup(const json_t *j, const char *key)
{
	const char *v = vs_json_str(j, key);

	return v ? xstrdup(v) : NULL;
}

static int command_from_json(const json_t *cmd, struct vs_vm_spec *s, struct vs_err **err)
{
	size_t i, n;
	json_t *v;

	if (!cmd || json_is_null(cmd))
		return 0;
	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return vs_err_set(err, -EINVAL,
				  "spec: command must be a non-empty array of strings");
	n = json_array_size(cmd);
	s->command = xzalloc((n + 1) * sizeof(*s->command));
	json_array_foreach(cmd, i, v)
	{
		if (!json_is_string(v))
			return vs_err_set(err, -EINVAL, "spec: command[%zu] is not a string", i);
		s->command[i] = xstrdup(json_string_value(v));
	}
	return 0;
}

static int ports_from_json(const json_t *a, struct vs_vm_spec *s, struct vs_err **err)
{
	size_t i;
	json_t *v;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 64)
		return vs_err_set(err, -EINVAL,
				  "spec: ports must be an array of at most 64 strings");
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return vs_err_set(err, -EINVAL, "spec: ports[%zu] is not a string", i);
		vs_vm_spec_add_port(s, json_string_value(v));
	}
	return 0;
}

int vs_vm_spec_from_json(const json_t *j, struct vs_vm_spec *s, struct vs_err **err)
{
	const char *model = vs_json_str(j, "cpu_model"), *accel = vs_json_str(j, "accel");
	int64_t cpus = vs_json_int(j, "cpus", VS_VM_DEFAULT_CPUS);
	int64_t mem = vs_json_int(j, "mem", (int64_t)VS_VM_DEFAULT_MEM);

	if (!json_is_object(j))
		return vs_err_set(err, -EINVAL, "spec: expected a JSON object");
	if (cpus < 1 || cpus > MAX_CPUS || mem < 0)
		return vs_err_set(err, -EINVAL, "spec: cpus or mem out of range");
	s->name = opt_dup(j, "name");
	s->kernel = opt_dup(j, "kernel");
	s->initrd = opt_dup(j, "initrd");
	s->append = opt_dup(j, "append");
	s->network = opt_dup(j, "network");
	if (ports_from_json(json_object_get(j, "ports"), s, err) < 0)
		return -EINVAL;
	s->cpus = (unsigned)cpus;
	s->mem = (uint64_t)mem;
	if (model && strcmp(model, "host") && strcmp(model, "baseline"))
		return vs_err_set(err, -EINVAL, "spec: cpu_model must be host or baseline");
	s->cpu_model = model && !strcmp(model, "baseline") ? VS_CPU_BASELINE : VS_CPU_HOST;
	if (accel && vs_accel_parse(accel, &s->accel) < 0)
		return vs_err_set(err, -EINVAL, "spec: accel must be kvm, emu or auto");
	s->overcommit = vs_json_bool(j, "overcommit", false);
	s->autostart = vs_json_bool(j, "autostart", false);
	if (command_from_json(json_object_get(j, "command"), s, err) < 0 ||
	    disks_from_json(json_object_get(j, "disks"), s, err) < 0)
		return -EINVAL;
	return vs_vm_spec_check(s, err);
}
