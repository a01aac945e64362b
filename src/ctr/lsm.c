/* AppArmor and SELinux labels: see lsm.h. */
#include "ctr/lsm.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool apparmor_enabled(void)
{
	_cleanup_close_ int fd =
		open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	char c = 0;

	return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

/* selinuxfs mounted where libselinux looks for it first */
static bool selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int check_process(const struct vs_spec_process *p, struct vs_err **err)
{
	if (p->apparmor_profile && *p->apparmor_profile && !apparmor_enabled())
		return vs_err_set(err, -EINVAL,
				  "apparmor profile \"%s\" is specified in config, but apparmor is "
				  "not enabled on this host",
				  p->apparmor_profile);
	if (p->selinux_label && *p->selinux_label && !selinux_enabled())
		return vs_err_set(
			err, -EINVAL,
			"selinux label is specified in config, but selinux is disabled or "
			"not supported");
	return 0;
}

int vs_lsm_check(const struct vs_spec *s, struct vs_err **err)
{
	int rc;

	if ((rc = check_process(&s->process, err)) < 0)
		return rc;
	if (s->mount_label && *s->mount_label)
		return vs_err_set(err, -EINVAL,
				  selinux_enabled() ?
					  "linux.mountLabel is not supported by vessel yet" :
					  "linux.mountLabel is specified in config, but selinux is "
					  "disabled or not supported");
	return 0;
}

static int write_attr(const char *path, const char *val)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(val);

	if (fd < 0)
		return -errno;
	return write(fd, val, n) == (ssize_t)n ? 0 : -errno;
}

int vs_lsm_exec_label(const struct vs_spec_process *p, struct vs_err **err)
{
	_cleanup_free_ char *v = NULL;
	int rc;

	if ((rc = check_process(p, err)) < 0)
		return rc;
	if (p->apparmor_profile && *p->apparmor_profile) {
		/* the LSM-specific file first (5.8+), the shared one after */
		v = xasprintf("exec %s", p->apparmor_profile);
		rc = write_attr("/proc/thread-self/attr/apparmor/exec", v);
		if (rc == -ENOENT)
			rc = write_attr("/proc/thread-self/attr/exec", v);
		if (rc < 0)
			return vs_err_setsys(err, rc, "applying apparmor profile %s",
					     p->apparmor_profile);
	}
	if (p->selinux_label && *p->selinux_label &&
	    (rc = write_attr("/proc/thread-self/attr/exec", p->selinux_label)) < 0)
		return vs_err_setsys(err, rc, "applying selinux label %s", p->selinux_label);
	return 0;
}
