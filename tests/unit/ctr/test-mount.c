/* Unit tests for ctr/mount, unprivileged: resolution inside a rootfs with
 * hostile symlinks (openat2 RESOLVE_IN_ROOT), mount point creation, and
 * vs_mount_entry against a fake mount(2) from the vs_ctr_sys table that
 * records calls or injects failures. */
#include "ctr/mount.h"
#include "ctr/spec.h"
#include "ctr/sys.h"
#include "common/err.h"

#include <assert.h>
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
#include <sys/types.h>
#include <unistd.h>
#include <stdbool.h>
#include "vs-test.h"

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

static struct mount_attr setattr_last;
static unsigned setattr_flags;
static int nsetattr, setattr_errno;

static int fake_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
			      size_t size)
{
	(void)dfd;
	(void)path;
	assert_int_equal(size, sizeof(*attr));
	setattr_last = *attr;
	setattr_flags = flags;
	nsetattr++;
	if (setattr_errno) {
		errno = setattr_errno;
		return -1;
	}
	return 0;
}

static const struct vs_ctr_sys fake_sys = { .mount = fake_mount,
					    .mount_setattr = fake_mount_setattr };

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
	ncalls = fail_errno = nsetattr = setattr_errno = 0;
	vs_ctr_sys = &fake_sys;
	return rootfd < 0 ? -1 : 0;
}

/* openat2 may be missing: an old kernel, or valgrind (which does not know
 * syscall 437 and fails it with ENOSYS). Then the cases that resolve paths
 * in the root cannot run; main() leaves them out (tests/unit/vs-test.h). */
static bool have_openat2(void)
{
	int fd = vs_open_in_root(AT_FDCWD, "/", O_PATH);

	if (fd >= 0)
		close(fd);
	return fd != -ENOSYS;
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
	char *opts[] = { o1, o2, o3, NULL };
	struct vs_spec_mount m = { .destination = (char *)"/scratch/a",
				   .type = (char *)"tmpfs",
				   .source = (char *)"tmpfs",
				   .options = { opts, 3 } };
	struct vs_err *e = NULL;

	(void)state;
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
	char *opts[] = { o1, o2, NULL };
	struct vs_spec_mount m = { .destination = (char *)"/etc/hosts",
				   .type = (char *)"bind",
				   .source = src,
				   .options = { opts, 2 } };
	struct vs_err *e = NULL;
	struct stat sb;

	(void)state;
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
	struct vs_spec_mount m = { .destination = (char *)"/x",
				   .type = (char *)"proc",
				   .source = (char *)"proc" };
	struct vs_err *e = NULL;

	(void)state;
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

static void parse(struct vs_mount_opts *o, char **opts, size_t n)
{
	struct vs_strv v = { opts, n };

	vs_mount_parse_options(&v, o);
}

/* runc 1.1's recursive attributes become mount_setattr's set/clear masks,
 * never mount data; the others of this change become flags. */
static void test_parse_recursive_and_special(void **state)
{
	char a[] = "rbind", b[] = "rro", c[] = "rnosuid", d[] = "rdev", e[] = "rnoatime",
	     f[] = "tmpcopyup", g[] = "ridmap", h[] = "size=1m";
	char *opts[] = { a, b, c, d, e, f, g, h, NULL };
	struct vs_mount_opts o;

	(void)state;
	parse(&o, opts, 8);
	assert_int_equal(o.flags, MS_BIND | MS_REC);
	assert_int_equal(o.rec_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
	/* an atime mode also clears the atime field, as mount_setattr(2) wants */
	assert_int_equal(o.rec_clr, MOUNT_ATTR_NODEV | MOUNT_ATTR__ATIME);
	assert_true(o.copyup);
	assert_true(o.idmap);
	assert_true(o.rec_idmap);
	assert_string_equal(o.data, "size=1m");
	free(o.data);
}

static void test_every_runc_recursive_option_known(void **state)
{
	static const char *const names[] = {
		"rro",		"rrw",	     "rnosuid",	     "rsuid",
		"rnodev",	"rdev",	     "rnoexec",	     "rexec",
		"rnodiratime",	"rdiratime", "rrelatime",    "rnorelatime",
		"rnoatime",	"ratime",    "rstrictatime", "rnostrictatime",
		"rnosymfollow", "rsymfollow"
	};
	struct vs_mount_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char buf[32], *opts[] = { buf, NULL };

		snprintf(buf, sizeof(buf), "%s", names[i]);
		parse(&o, opts, 1);
		assert_null(o.data); /* known: not passed to the filesystem */
		/* "rnorelatime" clears MOUNT_ATTR_RELATIME, which is 0: a no-op
		 * in runc too */
		assert_true(o.rec_set || o.rec_clr || strcmp(names[i], "rnorelatime") == 0);
	}
}

static void test_rro_calls_mount_setattr_recursive(void **state)
{
	char src[PATH_MAX], o1[] = "rbind", o2[] = "rro";
	char *opts[] = { o1, o2, NULL };
	struct vs_spec_mount m = { .destination = (char *)"/data",
				   .type = (char *)"bind",
				   .source = src,
				   .options = { opts, 2 } };
	struct vs_err *e = NULL;

	(void)state;
	snprintf(src, sizeof(src), "%s", outside);
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), 0);
	assert_int_equal(ncalls, 1); /* the bind; no MS_REMOUNT for rro */
	assert_int_equal(calls[0].flags, MS_BIND | MS_REC);
	assert_int_equal(nsetattr, 1);
	assert_int_equal(setattr_flags, AT_EMPTY_PATH | AT_RECURSIVE);
	assert_int_equal(setattr_last.attr_set, MOUNT_ATTR_RDONLY);
	assert_int_equal(setattr_last.attr_clr, 0);
	/* a kernel without mount_setattr: one line, never a silent rw mount */
	setattr_errno = ENOSYS;
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), -ENOSYS);
	assert_string_equal(e->msg,
			    "mount /data: recursive mount options (rro, rnosuid, ...) need "
			    "mount_setattr(2), which this kernel lacks (Linux 5.12 or later)");
	vs_err_free(e);
}

static void test_option_on_the_wrong_kind_of_mount(void **state)
{
	char o1[] = "tmpcopyup", o2[] = "idmap";
	char *opts1[] = { o1, NULL }, *opts2[] = { o2, NULL };
	struct vs_spec_mount m = { .destination = (char *)"/x",
				   .type = (char *)"proc",
				   .source = (char *)"proc",
				   .options = { opts1, 1 } };
	struct vs_err *e = NULL;

	(void)state;
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), -EINVAL);
	assert_string_equal(e->msg, "mount /x: tmpcopyup is only for tmpfs mounts");
	vs_err_free(e);
	e = NULL;
	m.options = (struct vs_strv){ opts2, 1 };
	assert_int_equal(vs_mount_entry(rootfd, &m, NULL, &e), -EINVAL);
	assert_string_equal(e->msg, "idmapped mounts are not supported: mount /x: only bind mounts "
				    "can be idmapped");
	vs_err_free(e);
	assert_int_equal(ncalls, 0);
}

int main(void)
{
	const char *no = have_openat2() ? NULL :
					  "openat2 is not available (old kernel or valgrind)";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_symlinks_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmpfs_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ro_bind_of_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_recursive_and_special, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_runc_recursive_option_known, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rro_calls_mount_setattr_recursive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_option_on_the_wrong_kind_of_mount, setup,
						teardown),
	};

	/* the cases that resolve paths inside the root need openat2 */
	const char *skip[] = { no, no, no, no, NULL, NULL, no, NULL };

	static_assert(sizeof(skip) / sizeof(skip[0]) == sizeof(tests) / sizeof(tests[0]),
		      "one skip entry per case");
	return vs_test_run("ctr-mount", tests, sizeof(tests) / sizeof(tests[0]), skip, NULL, NULL);
}
