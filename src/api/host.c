/* /v1/host: what the host offers (CPUs, memory, the disk holding the state
 * root) and vessel's version, as the dashboard's summary shows it. */
#include "api/internal.h"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* MemTotal and MemAvailable of /proc/meminfo in bytes (0 when unreadable). */
static void meminfo(long long *total, long long *avail)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long long kib;

	*total = *avail = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
			*total = kib * 1024;
		else if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
			*avail = kib * 1024;
	}
	fclose(f);
}

void api_host_get(struct vs_api_ctx *ctx, struct vs_api_req *req, struct vs_api_resp *resp)
{
	static const char *const no_args[] = { NULL };
	struct statvfs vfs;
	struct utsname u;
	long long total, avail;
	json_t *disk = json_null();

	if (!api_args_check(req, no_args, resp))
		return;
	meminfo(&total, &avail);
	if (ctx->root && statvfs(ctx->root, &vfs) == 0)
		disk = json_pack("{s:s, s:I, s:I}", "path", ctx->root, "total",
				 (json_int_t)vfs.f_blocks * (json_int_t)vfs.f_frsize, "available",
				 (json_int_t)vfs.f_bavail * (json_int_t)vfs.f_frsize);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	api_reply_json(resp, 200,
		       json_pack("{s:s, s:s, s:s, s:I, s:{s:I, s:I}, s:o}", "version",
				 VESSEL_VERSION, "kernel", u.release, "arch", u.machine, "cpus",
				 (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "memory", "total",
				 (json_int_t)total, "available", (json_int_t)avail, "disk", disk));
}
