/* Private to cgroup*.c. */
#ifndef VS_CTR_CGROUP_INTERNAL_H
#define VS_CTR_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct vs_cgroup_hier {
	char *name; /* entry under the fs root: "memory", "cpu,cpuacct", "unified" */
	char *mnt; /* the hierarchy's root directory (resolved) */
	char *dir; /* our cgroup in it: mnt + path */
	bool v2; /* a cgroup2 hierarchy (pure v2, or hybrid's unified) */
};

struct vs_cgroup {
	bool v2; /* pure cgroup v2 host */
	char *path; /* "/vessel/<id>" */
	struct vs_cgroup_hier *h;
	size_t n;
};

bool cg_exists(const char *dir, const char *file);
/* 0 or -errno. cg_read strips trailing newlines. */
int cg_write(const char *dir, const char *file, const char *val);
int cg_read(const char *dir, const char *file, char *buf, size_t size);

/* cgroup-bpf.c: builds the device rules into a BPF_CGROUP_DEVICE program
 * and attaches it to the cgroup2 directory dir. 0 or -errno with *err. */
struct vs_err;
struct vs_spec_devrule;
int cg_bpf_devices(const char *dir, const struct vs_spec_devrule *rules, size_t n,
		   struct vs_err **err);

#endif
