/* Unit tests for ctr/mount, unprivileged: resolution inside a rootfs with
 * hostile symlinks (openat2 RESOLVE_IN_ROOT), mount point creation, and
 * vs_mount_entry against a fake mount(2) from the vs_ctr_sys table that
 * records calls or injects failures. */
#include "ctr/mount.h"
#include "ctr/spec.h"
#include "ctr/sys.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char base[64], root[96], outside[96];
static int rootfd = -1;

struct call {
	char source[PATH_MAX], target[PATH_MAX], type[32], data[128];
	unsigned long flags;
};
static struct call calls[8];
static int ncalls, fail_errno;

static int fake_mount(const char *source, const char *target, const char *type, unsigned long flags,
		      const void *data)
{
	struct call *c = &calls[ncalls < 8 ? ncalls++ : 7];
	ssize_t n;

	snprintf(c->source, sizeof(c->source), "%s", source ? source : "");
	n = readlink(target, c->target, sizeof(c->target) - 1); /* /proc/self/fd/N */
	c->target[n > 0 ? n : 0] = 0;
	snprintf(c->type, sizeof(c->type), "%s", type ? type : "");
	snprintf(c->data, sizeof(c->data), "%s", data ? (const char *)data : "");
	c->flags = flags;
	if (fail_errno) {
		errno = fail_errno;
		return -1;
	}
	return 0;
}

static const struct vs_ctr_sys fake_sys = {.mount = fake_mount};

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/vs-mnttest.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/rootfs", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mkdir(root, 0755);
	mkdir(outside, 0755);
	rootfd = open(root, O_PATH | O_DIRECTORY);
	ncalls = fail_errno = 0;
	vs_ctr_sys = &fake_sys;
	return rootfd < 0 ? -1 : 0;
}

/* openat2 may be missing: an old kernel, or valgrind (which does not know
 * syscall 437 and fails it with ENOSYS). Then these tests cannot run. */
static void need_openat2(void)
{
	int fd = vs_open_in_root(rootfd, "/", O_PATH);

	if (fd == -ENOSYS)
		skip();
	if (fd >= 0)
		close(fd);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	vs_ctr_sys = &vs_ctr_sys_linux;
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void in_root(const char *rel, char *out)
{
	snprintf(out, PATH_MAX, "%s%s", root, rel);
}

static void test_symlinks_stay_inside(void **state)
{
	char link[PATH_MAX], p[PATH_MAX];

	(void)state;
	need_openat2();
	/* absolute and ../-escaping symlinks, both to the host's "outside" dir */
	in_root("/abs", link);
	assert_int_equal(symlink(outside, link), 0);
	in_root("/rel", link);
	assert_int_equal(symlink("../../../../../../..", link), 0);
	assert_int_equal(vs_mkdir_in_root(rootfd, "/abs/sub", 0755), 0);
	assert_int_equal(vs_mkdir_in_root(rootfd, "/rel/etc/x", 0755), 0);
	/* created inside the rootfs, never in the host directory */
	snprintf(p, sizeof(p), "%s%s/sub", root, outside);
	assert_int_equal(access(p, F_OK), 0);
	in_root("/etc/x", p);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/sub", outside);
	assert_int_equal(access(p, F_OK), -1);
	/* a symlink loop is an error, not a hang */
	in_root("/loop", link);
	assert_int_equal(symlink("/loop", link), 0);
	assert_true(vs_mkdir_in_root(rootfd, "/loop/x", 0755) < 0);
}

static void test_tmpfs_entry(void **state)
{
	char o1[] = "nosuid", o2[] = "mode=1777", o3[] = "size=1m", want[PATH_MAX];
	char *opts[] = {o1, o2, o3, NULL};
	struct vs_spec_mount m = {.destination = (char *)"/scratch/a",
				  .type = (char *)"tmpfs",
				  .source = (char *)"tmpfs",
				  .options = {opts, 3}};
	struct vs_err *e = NULL;

	(void)state;
	need_openat2();
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), 0);
	assert_int_equal(ncalls, 1);
	in_root("/scratch/a", want);
	assert_string_equal(calls[0].target, want);
	assert_string_equal(calls[0].type, "tmpfs");
	assert_int_equal(calls[0].flags, MS_NOSUID);
	assert_string_equal(calls[0].data, "mode=1777,size=1m");
}

static void test_ro_bind_of_a_file(void **state)
{
	char src[PATH_MAX], want[PATH_MAX], o1[] = "bind", o2[] = "ro";
	char *opts[] = {o1, o2, NULL};
	struct vs_spec_mount m = {.destination = (char *)"/etc/hosts",
				  .type = (char *)"bind",
				  .source = src,
				  .options = {opts, 2}};
	struct vs_err *e = NULL;
	struct stat sb;

	(void)state;
	need_openat2();
	snprintf(src, sizeof(src), "%s/hosts", base);
	close(open(src, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), 0);
	in_root("/etc/hosts", want);
	assert_int_equal(stat(want, &sb), 0);
	assert_true(S_ISREG(sb.st_mode)); /* a file mount point for a file source */
	assert_int_equal(ncalls, 2);
	assert_string_equal(calls[0].source, src);
	assert_int_equal(calls[0].flags, MS_BIND);
	assert_int_equal(calls[1].flags & (MS_BIND | MS_REMOUNT | MS_RDONLY),
			 MS_BIND | MS_REMOUNT | MS_RDONLY);
}

static void test_injected_failure(void **state)
{
	struct vs_spec_mount m = {
	    .destination = (char *)"/x", .type = (char *)"proc", .source = (char *)"proc"};
	struct vs_err *e = NULL;

	(void)state;
	need_openat2();
	fail_errno = EPERM;
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), -EPERM);
	assert_string_equal(e->msg, "mount proc (proc) on /x: Operation not permitted");
	vs_err_free(e);
	e = NULL;
	m.type = NULL;
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), -EINVAL);
	assert_string_equal(e->msg, "mount /x: no type");
	vs_err_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_symlinks_stay_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmpfs_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ro_bind_of_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_injected_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
