/* Process attributes applied right before execve: see process.h. */
#include "ctr/process.h"
#include "ctr/lsm.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int vs_process_rlimits(const struct vs_spec_process *p, struct vs_err **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };

		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return vs_err_setsys(err, -errno, "setting rlimit type %d",
					     p->rlimits[i].resource);
	}
	return 0;
}

static int drop_bounding(uint64_t keep, struct vs_err **err)
{
	int last = VS_MIN((int)cap_max_bits() - 1, vs_cap_last());

	for (int c = 0; c <= last; c++)
		if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return vs_err_setsys(err, -errno, "dropping %s from the bounding set",
					     vs_cap_name(c));
	return 0;
}

/* The effective, permitted and inheritable sets by capset(2) itself: no
 * allocation and no other system call, as it may run under the filter. */
static int set_caps(const struct vs_spec_process *p, struct vs_err **err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	uint64_t known = vs_cap_last() >= 63 ? ~0ULL : (1ULL << (vs_cap_last() + 1)) - 1;

	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		d[i].effective = (uint32_t)((p->caps[VS_CAP_EFFECTIVE] & known) >> (32 * i));
		d[i].permitted = (uint32_t)((p->caps[VS_CAP_PERMITTED] & known) >> (32 * i));
		d[i].inheritable = (uint32_t)((p->caps[VS_CAP_INHERITABLE] & known) >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return vs_err_setsys(err, -errno, "setting capabilities");
	for (int v = 0; p->caps[VS_CAP_AMBIENT] && v <= vs_cap_last() && v < 64; v++)
		if (p->caps[VS_CAP_AMBIENT] & (1ULL << v))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0,
			      0); /* runc: best effort */
	return 0;
}

/* What comes before the uid switch: the bounding set (dropping from it
 * leaves our effective capabilities, which may still load a filter) and
 * keeping capabilities across setuid. */
static int identity_prepare(const struct vs_spec_process *p, struct vs_err **err)
{
	if (!p->has_caps)
		return 0;
	if (drop_bounding(p->caps[VS_CAP_BOUNDING], err) < 0)
		return -EPERM;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return vs_err_setsys(err, -errno, "PR_SET_KEEPCAPS");
	return 0;
}

/* The uid switch and the capability sets (KEEPCAPS is reset by execve). */
static int identity_finish(const struct vs_spec_process *p, bool setgroups_ok, struct vs_err **err)
{
	if (setgroups_ok && setgroups(p->n_additional_gids, p->additional_gids) < 0)
		return vs_err_setsys(err, -errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return vs_err_setsys(err, -errno, "setgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return vs_err_setsys(err, -errno, "setuid %u", p->uid);
	return p->has_caps ? set_caps(p, err) : 0;
}

int vs_process_identity(const struct vs_spec_process *p, bool setgroups_ok, struct vs_err **err)
{
	int rc;

	if ((rc = identity_prepare(p, err)) < 0)
		return rc;
	return identity_finish(p, setgroups_ok, err);
}

/* A user namespace made by an unprivileged caller has setgroups denied. */
static bool setgroups_denied(void)
{
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	char buf[8] = { 0 };

	return fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && strncmp(buf, "deny", 4) == 0;
}

int vs_process_prepare(const struct vs_spec_process *p, const struct vs_spec_seccomp *sc,
		       int preserve_fds, struct vs_process_final *f, char **exe,
		       struct vs_err **err)
{
	int rc;

	*f = (struct vs_process_final){ .p = p, .setgroups_ok = !setgroups_denied() };
	if (sc) {
		f->filter = xzalloc(sizeof(*f->filter));
		if ((rc = vs_seccomp_compile(sc, f->filter, err)) < 0)
			return rc;
		f->has_filter = true;
		f->identity_after_filter = !p->no_new_privileges;
	}
	/* the label applies at the next execve; written while we may */
	if ((rc = vs_lsm_exec_label(p, err)) < 0)
		return rc;
	rc = f->identity_after_filter ? identity_prepare(p, err) :
					vs_process_identity(p, f->setgroups_ok, err);
	if (rc < 0 || (rc = vs_process_cwd(p, err)) < 0 ||
	    (rc = vs_process_find_exec(p, exe, err)) < 0)
		return rc;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vs_err_setsys(err, -errno, "PR_SET_NO_NEW_PRIVS");
	if ((rc = vs_process_cloexec_fds(preserve_fds)) < 0)
		return vs_err_setsys(err, rc, "close_range");
	return 0;
}

/* Every signal at its default disposition and none blocked: what the
 * runtime was started with is not the container's. A SIG_IGN survives
 * execve, and a `vessel run` started as a background job of a script has
 * SIGINT and SIGQUIT ignored (POSIX: an asynchronous list without job
 * control), Python ignores SIGXFSZ, nohup SIGHUP: without this, ^C on the
 * pty of such a `run -it` reached a `sleep` that ignored it. */
static void default_signals(void)
{
	/* the kernel's struct: glibc's sigaction and sigprocmask refuse or
	 * skip its own two (32, 33), which a parent may have ignored too */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = { .handler = SIG_DFL };
	uint64_t none = 0;

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

int vs_process_finish(const struct vs_process_final *f, struct vs_err **err)
{
	int rc;

	default_signals(); /* before the filter, which may deny rt_sigaction */
	if (f->has_filter && (rc = vs_seccomp_install(f->filter)) < 0)
		return vs_err_setsys(err, rc, "loading the seccomp filter");
	if (f->identity_after_filter)
		return identity_finish(f->p, f->setgroups_ok, err);
	return 0;
}

int vs_process_cwd(const struct vs_spec_process *p, struct vs_err **err)
{
	if (p->has_umask)
		umask(p->umask);
	else
		umask(022);
	if (chdir(p->cwd) < 0)
		return vs_err_setsys(err, -errno, "chdir to cwd (\"%s\") set in config.json failed",
				     p->cwd);
	return 0;
}

static const char *env_get(const struct vs_spec_process *p, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < p->env.n; i++)
		if (strncmp(p->env.v[i], name, n) == 0 && p->env.v[i][n] == '=')
			return p->env.v[i] + n + 1;
	return NULL;
}

static bool is_exec_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

int vs_process_find_exec(const struct vs_spec_process *p, char **out, struct vs_err **err)
{
	const char *name = p->args.v[0], *path = env_get(p, "PATH");
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;
	struct stat sb;

	if (strchr(name, '/')) {
		if (stat(name, &sb) < 0)
			return vs_err_setsys(err, -errno, "exec: \"%s\": stat %s", name, name);
		*out = xstrdup(name);
		return 0;
	}
	copy = xstrdup(path ? path :
			      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *d ? d : ".", name);

		if (is_exec_file(cand)) {
			*out = cand;
			return 0;
		}
		free(cand);
	}
	return vs_err_set(err, -ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

char **vs_process_env(const struct vs_spec_process *p)
{
	char **env = xzalloc((p->env.n + 2) * sizeof(char *));
	size_t n = 0;

	for (size_t i = 0; i < p->env.n; i++)
		env[n++] = p->env.v[i];
	if (!env_get(p, "HOME"))
		env[n++] = xstrdup(p->uid == 0 ? "HOME=/root" : "HOME=/");
	return env;
}

int vs_process_cloexec_fds(int preserve_fds)
{
	if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return -errno;
	return 0;
}
