/* The OCI runtime config.json of a container, from the image config and
 * the container spec: process (args, env, cwd, user), the default mounts,
 * namespaces, capabilities and masked paths Docker gives a container, the
 * resource limits, and the absolute cgroup /vessel/<id>.
 *
 * Map: args/env - user - mounts - linux - vs_svc_ctr_config. */
#include "svc/ctr-internal.h"
#include "image/image.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD_US 100000

static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	   "CAP_FOWNER",
	"CAP_MKNOD",   "CAP_NET_RAW",	   "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",    "CAP_AUDIT_WRITE",
};

static const char *const masked[] = {
	"/proc/asound",	       "/proc/acpi",	   "/proc/kcore",	"/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",	       "/sys/firmware",
};

static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void append_strv(json_t *a, char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
}

static json_t *args_json(const struct vs_ctr_spec *s, const struct vs_image_config *ic,
			 struct vs_err **err)
{
	json_t *a = json_array();

	if (s->entrypoint) {
		append_strv(a, s->entrypoint);
		append_strv(a, s->command);
	} else {
		append_strv(a, ic->entrypoint);
		append_strv(a, s->command && s->command[0] ? s->command : ic->cmd);
	}
	if (json_array_size(a) == 0) {
		json_decref(a);
		vs_err_set(err, -EINVAL, "no command given, and image %s has none", s->image);
		return NULL;
	}
	return a;
}

/* Adds "K=V" to the array, replacing an entry with the same key. */
static void env_put(json_t *a, const char *kv)
{
	size_t klen = strcspn(kv, "="), i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		const char *old = json_string_value(v);

		if (strncmp(old, kv, klen) == 0 && (old[klen] == '=' || !old[klen])) {
			json_array_set_new(a, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(a, json_string(kv));
}

static json_t *env_json(const struct vs_ctr_spec *s, const struct vs_image_config *ic)
{
	json_t *a = json_array();
	bool path = false;

	for (size_t i = 0; ic->env && ic->env[i]; i++) {
		env_put(a, ic->env[i]);
		path |= strncmp(ic->env[i], "PATH=", 5) == 0;
	}
	if (!path)
		env_put(a, DEFAULT_PATH);
	if (s->tty)
		env_put(a, "TERM=xterm"); /* as docker; -e TERM=... replaces it */
	for (size_t i = 0; s->env && s->env[i]; i++)
		env_put(a, s->env[i]);
	return a;
}

/* Finds name in <layer>/etc/passwd of the top-most layer that has one (a
 * whiteout or anything but a regular file there: no passwd). */
static int passwd_lookup(const struct vs_image_info *img, const char *name, unsigned *uid,
			 unsigned *gid)
{
	for (size_t i = img->n_layers; i-- > 0;) {
		_cleanup_free_ char *p = xasprintf("%s/etc/passwd", img->layers[i].dir);
		char line[512], who[256];
		struct stat st;
		FILE *f;
		int r = -ENOENT;

		if (lstat(p, &st) < 0)
			continue;
		if (!S_ISREG(st.st_mode) || !(f = fopen(p, "re")))
			return -ENOENT;
		while (r < 0 && fgets(line, sizeof(line), f))
			if (sscanf(line, "%255[^:]:%*[^:]:%u:%u:", who, uid, gid) == 3 &&
			    strcmp(who, name) == 0)
				r = 0;
		fclose(f);
		return r;
	}
	return -ENOENT;
}

static int user_json(const struct vs_ctr_spec *s, const struct vs_image_info *img, json_t **out,
		     struct vs_err **err)
{
	const char *u = s->user ? s->user : img->config.user;
	unsigned uid = 0, gid = 0;
	char name[256], extra;

	if (u && *u && sscanf(u, "%u:%u%c", &uid, &gid, &extra) != 2 &&
	    sscanf(u, "%u%c", &uid, &extra) != 1) {
		if (sscanf(u, "%255[^:]%c", name, &extra) != 1 ||
		    passwd_lookup(img, name, &uid, &gid) < 0)
			return vs_err_set(err, -EINVAL,
					  "user '%s': not UID[:GID] nor a user in the image's "
					  "/etc/passwd",
					  u);
	}
	*out = json_pack("{s:i, s:i}", "uid", (int)uid, "gid", (int)gid);
	return 0;
}

static json_t *caps_json(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < VS_ARRAY_SIZE(default_caps); i++)
		json_array_append_new(a, json_string(default_caps[i]));
	return json_pack("{s:O, s:O, s:o, s:o}", "bounding", a, "effective", a, "permitted", a,
			 "inheritable", json_array());
}

static int process_json(const struct vs_ctr_spec *s, const struct vs_image_info *img, json_t **out,
			struct vs_err **err)
{
	const char *cwd = s->workdir ? s->workdir :
				       (img->config.working_dir && *img->config.working_dir ?
						img->config.working_dir :
						"/");
	json_t *args = args_json(s, &img->config, err), *user = NULL, *caps;

	if (!args)
		return -EINVAL;
	if (cwd[0] != '/') {
		json_decref(args);
		return vs_err_set(err, -EINVAL, "working directory '%s' is not absolute", cwd);
	}
	if (user_json(s, img, &user, err) < 0) {
		json_decref(args);
		return -EINVAL;
	}
	caps = caps_json();
	*out = json_pack("{s:b, s:o, s:o, s:o, s:s, s:o, s:b}", "terminal", s->tty, "user", user,
			 "args", args, "env", env_json(s, &img->config), "cwd", cwd, "capabilities",
			 caps, "noNewPrivileges", 0);
	return 0;
}

static json_t *mount(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *o = json_array();
	_cleanup_free_ char *copy = xstrdup(opts);
	char *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(t));
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", o);
}

static json_t *mounts_json(const struct vs_ctr_spec *s)
{
	json_t *m = json_array();

	json_array_append_new(m, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/dev", "tmpfs", "tmpfs",
				       "nosuid,strictatime,mode=755,"
				       "size=65536k"));
	json_array_append_new(m, mount("/dev/pts", "devpts", "devpts",
				       "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(m, mount("/dev/shm", "tmpfs", "shm",
				       "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(m, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(m, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_array_append_new(m, mount("/sys/fs/cgroup", "cgroup", "cgroup",
				       "nosuid,noexec,nodev,relatime,ro"));
	for (size_t i = 0; s->tmpfs && s->tmpfs[i]; i++)
		json_array_append_new(m, mount(s->tmpfs[i], "tmpfs", "tmpfs",
					       "nosuid,nodev,mode=1777"));
	for (size_t i = 0; i < s->n_volumes; i++)
		json_array_append_new(
			m, mount(s->volumes[i].destination, "bind", s->volumes[i].source,
				 s->volumes[i].readonly ? "rbind,rprivate,ro" : "rbind,rprivate"));
	return m;
}

static json_t *resources_json(const struct vs_ctr_spec *s)
{
	json_t *r = json_object();

	if (s->memory) {
		json_t *mem = json_pack("{s:I}", "limit", (json_int_t)s->memory);

		/* no swap beyond the limit, where the host can limit swap at all */
		if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
		    access("/sys/fs/cgroup/memory.swap.max", F_OK) == 0)
			json_object_set_new(mem, "swap", json_integer((json_int_t)s->memory));
		json_object_set_new(r, "memory", mem);
	}
	if (s->cpu_millis)
		json_object_set_new(r, "cpu",
				    json_pack("{s:I, s:I}", "quota",
					      (json_int_t)(s->cpu_millis * CPU_PERIOD_US / 1000),
					      "period", (json_int_t)CPU_PERIOD_US));
	if (s->pids_limit > 0)
		json_object_set_new(r, "pids",
				    json_pack("{s:I}", "limit", (json_int_t)s->pids_limit));
	json_object_set_new(r, "devices", json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm"));
	return r;
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *linux_json(const struct vs_ctr_spec *s, const char *id)
{
	json_t *ns = json_array();
	static const char *const types[] = { "pid", "ipc", "uts", "mount", "cgroup" };

	for (size_t i = 0; i < VS_ARRAY_SIZE(types); i++)
		json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
	if (s->network != VS_CTR_NET_HOST) /* BRIDGE: the monitor attaches eth0 before start */
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	return json_pack("{s:o, s:o, s:s+, s:o, s:o}", "namespaces", ns, "resources",
			 resources_json(s), "cgroupsPath", VS_CTR_CGROUP_PARENT "/", id,
			 "maskedPaths", strings(masked, VS_ARRAY_SIZE(masked)), "readonlyPaths",
			 strings(readonly, VS_ARRAY_SIZE(readonly)));
}

int vs_svc_ctr_config(const struct vs_ctr_spec *s, const struct vs_image_info *img, const char *id,
		      const char *rootfs, json_t **out, struct vs_err **err)
{
	char host[13];
	json_t *proc = NULL;
	int r;

	if ((r = process_json(s, img, &proc, err)) < 0)
		return r;
	snprintf(host, sizeof(host), "%s", id);
	*out = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2",
			 "process", proc, "root", "path", rootfs, "readonly", s->read_only,
			 "hostname", s->hostname ? s->hostname : host, "mounts", mounts_json(s),
			 "linux", linux_json(s, id));
	return *out ? 0 : vs_err_set(err, -EINVAL, "building config.json failed");
}
