/* `spec` (writes runc's default config.json) and `features`. */
#include "ctr/mount.h"
#include "ctr/oci-cli.h"
#include "ctr/spec.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char default_spec[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	"/sbin:/bin\",\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"vessel\",\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
	"[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":"
	"[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":"
	"[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":"
	"[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":"
	"[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":"
	"[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
	"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
	"\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
	"\"/proc/sysrq-trigger\"]}}";

int vs_oci_cmd_spec(const struct vs_oci_global *g, int argc, char **argv)
{
	const char *bundle = NULL, *rootless = NULL;
	const struct vs_oci_flag flags[] = { { "bundle|b", true, &bundle },
					     { "rootless", false, &rootless },
					     { NULL, false, NULL } };
	struct vs_err *err = NULL;
	char *pos[1], *path, *text;
	int npos, fd;
	json_t *j;

	if (vs_oci_parse(argc, argv, flags, pos, 0, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	path = xasprintf("%s/config.json", bundle ? bundle : ".");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		vs_err_setsys(&err, -errno,
			      errno == EEXIST ? "File %s exists. Remove it first" : "creating %s",
			      path);
		free(path);
		return vs_oci_fail(g, err);
	}
	j = json_loads(default_spec, 0, NULL);
	text = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	dprintf(fd, "%s\n", text);
	close(fd);
	free(text);
	free(path);
	json_decref(j);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* mountOptions: what mount.c acts on, sorted as runc prints them */
static json_t *mount_options(void)
{
	const char *names[128];
	size_t n = vs_mount_option_names(names, VS_ARRAY_SIZE(names));
	json_t *a = json_array();

	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *features_json(void)
{
	json_t *ns = json_array(), *caps = json_array();
	static const int types[] = { CLONE_NEWNS,  CLONE_NEWPID,  CLONE_NEWNET,	  CLONE_NEWIPC,
				     CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP };

	for (size_t i = 0; i < VS_ARRAY_SIZE(types); i++)
		json_array_append_new(ns, json_string(vs_ns_type_name(types[i])));
	for (int c = 0; c <= vs_cap_last(); c++)
		json_array_append_new(caps, json_string(vs_cap_name(c)));
	return json_pack("{s:s, s:s, s:[s,s,s,s,s,s], s:o,"
			 " s:{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b},"
			 " s:{s:b, s:[s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s]}}}",
			 "ociVersionMin", "1.0.0", "ociVersionMax", "1.0.2-dev", "hooks",
			 "prestart", "createRuntime", "createContainer", "startContainer",
			 "poststart", "poststop", "mountOptions", mount_options(), "linux",
			 "namespaces", ns, "capabilities", caps, "cgroup", "v1", 1, "v2", 1,
			 "systemd", 0, "systemdUser", 0, "rdma", 1, "seccomp", "enabled", 1,
			 "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
			 "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE",
			 "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
			 "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "archs",
			 "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32");
}

int vs_oci_cmd_features(const struct vs_oci_global *g, int argc, char **argv)
{
	struct vs_err *err = NULL;
	char *pos[1], *s;
	int npos;
	json_t *j;

	if (vs_oci_parse(argc, argv, NULL, pos, 0, &npos, &err) < 0)
		return vs_oci_fail(g, err);
	j = features_json();
	if (!j)
		xoom();
	s = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}
