/* linux.seccomp -> a libseccomp filter, compiled to a BPF program while the
 * runtime can still do anything, installed with one prctl right before the
 * container's execve (process.c). */
#include "ctr/process.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t action(uint32_t a, int eno)
{
	switch (a) {
	case VS_SCMP_ACT_KILL:
		return SCMP_ACT_KILL;
	case VS_SCMP_ACT_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case VS_SCMP_ACT_TRAP:
		return SCMP_ACT_TRAP;
	case VS_SCMP_ACT_ERRNO:
		return SCMP_ACT_ERRNO(eno);
	case VS_SCMP_ACT_TRACE:
		return SCMP_ACT_TRACE(eno);
	case VS_SCMP_ACT_LOG:
		return SCMP_ACT_LOG;
	default:
		return SCMP_ACT_ALLOW;
	}
}

static const enum scmp_compare ops[] = {
	[VS_SCMP_NE] = SCMP_CMP_NE,
	[VS_SCMP_LT] = SCMP_CMP_LT,
	[VS_SCMP_LE] = SCMP_CMP_LE,
	[VS_SCMP_EQ] = SCMP_CMP_EQ,
	[VS_SCMP_GE] = SCMP_CMP_GE,
	[VS_SCMP_GT] = SCMP_CMP_GT,
	[VS_SCMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static void add_arches(scmp_filter_ctx ctx, const struct vs_strv *arches)
{
	for (size_t i = 0; i < arches->n; i++) {
		char name[32];
		const char *a = arches->v[i];
		uint32_t tok;
		size_t j;

		if (strncmp(a, "SCMP_ARCH_", 10) == 0)
			a += 10;
		for (j = 0; a[j] && j + 1 < sizeof(name); j++)
			name[j] = (char)tolower((unsigned char)a[j]);
		name[j] = 0;
		tok = seccomp_arch_resolve_name(name);
		if (tok)
			seccomp_arch_add(ctx, tok); /* -EEXIST for the native one */
	}
}

/* Conditions on one argument index repeat: libseccomp refuses that in one
 * rule, so (as runc) each condition becomes a rule of its own (an OR). */
static bool repeats_an_index(const struct vs_spec_seccomp_rule *r)
{
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t j = i + 1; j < r->n_args; j++)
			if (r->args[i].index == r->args[j].index)
				return true;
	return false;
}

static int add_one(scmp_filter_ctx ctx, uint32_t act, int nr, const struct scmp_arg_cmp *cmp,
		   unsigned n, const char *name, struct vs_err **err)
{
	int rc = seccomp_rule_add_array(ctx, act, nr, n, cmp);

	if (rc < 0 && rc != -EEXIST)
		return vs_err_setsys(err, rc, "seccomp rule for %s", name);
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct vs_spec_seccomp *sc,
		    const struct vs_spec_seccomp_rule *r, struct vs_err **err)
{
	struct scmp_arg_cmp cmp[6];
	uint32_t act = action(r->action, r->errno_ret);
	bool split = repeats_an_index(r);
	unsigned n = 0;
	int rc;

	if (act == action(sc->default_action, sc->default_errno))
		return 0; /* libseccomp refuses rules equal to the default */
	for (size_t i = 0; i < r->n_args && n < VS_ARRAY_SIZE(cmp); i++)
		cmp[n++] = (struct scmp_arg_cmp){ r->args[i].index, ops[r->args[i].op],
						  r->args[i].value, r->args[i].value_two };
	for (size_t i = 0; i < r->names.n; i++) {
		int nr = seccomp_syscall_resolve_name(r->names.v[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp/arch: runc skips it too */
		for (unsigned k = 0; split && k < n; k++)
			if ((rc = add_one(ctx, act, nr, &cmp[k], 1, r->names.v[i], err)) < 0)
				return rc;
		if (!split && (rc = add_one(ctx, act, nr, cmp, n, r->names.v[i], err)) < 0)
			return rc;
	}
	return 0;
}

/* The filter as a classic BPF program: libseccomp 2.5 exports it only to
 * an fd, so through a memfd. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *out, struct vs_err **err)
{
	_cleanup_close_ int fd = (int)syscall(SYS_memfd_create, "vessel-seccomp", MFD_CLOEXEC);
	struct stat sb;
	void *buf;
	int rc;

	if (fd < 0)
		return vs_err_setsys(err, -errno, "memfd for the seccomp filter");
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0)
		return vs_err_setsys(err, rc, "exporting the seccomp filter");
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size % sizeof(struct sock_filter) ||
	    sb.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return vs_err_set(err, -E2BIG, "seccomp filter too large (%lld bytes)",
				  (long long)sb.st_size);
	buf = xmalloc((size_t)sb.st_size);
	if (pread(fd, buf, (size_t)sb.st_size, 0) != sb.st_size) {
		free(buf);
		return vs_err_setsys(err, -EIO, "reading the seccomp filter");
	}
	out->len = (unsigned short)(sb.st_size / sizeof(struct sock_filter));
	out->filter = buf;
	return 0;
}

int vs_seccomp_compile(const struct vs_spec_seccomp *sc, struct sock_fprog *out,
		       struct vs_err **err)
{
	scmp_filter_ctx ctx;
	int rc = 0;

	ctx = seccomp_init(action(sc->default_action, sc->default_errno));
	if (!ctx)
		return vs_err_set(err, -EINVAL, "seccomp_init failed");
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	add_arches(ctx, &sc->architectures);
	for (size_t i = 0; rc == 0 && i < sc->n_rules; i++)
		rc = add_rule(ctx, sc, &sc->rules[i], err);
	if (rc == 0)
		rc = export_prog(ctx, out, err);
	seccomp_release(ctx);
	return rc;
}

int vs_seccomp_install(const struct sock_fprog *prog)
{
	/* one system call: the first one the filter sees is the next one */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0 ? -errno : 0;
}
