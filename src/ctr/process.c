/* Process attributes applied right before execve: see process.h. */
#include "ctr/process.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int vs_process_rlimits(const struct vs_spec_process *p, struct vs_err **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};

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

static int set_caps(const struct vs_spec_process *p, struct vs_err **err)
{
	static const cap_flag_t flags[] = {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};
	static const enum vs_cap_set sets[] = {VS_CAP_EFFECTIVE, VS_CAP_PERMITTED,
					       VS_CAP_INHERITABLE};
	int last = VS_MIN((int)cap_max_bits() - 1, vs_cap_last()), rc = 0;
	cap_t c = cap_init();

	if (!c)
		return vs_err_setsys(err, -errno, "cap_init");
	for (int f = 0; f < 3; f++)
		for (cap_value_t v = 0; v <= last; v++)
			if (p->caps[sets[f]] & (1ULL << v))
				cap_set_flag(c, flags[f], 1, &v, CAP_SET);
	if (cap_set_proc(c) < 0)
		rc = vs_err_setsys(err, -errno, "setting capabilities");
	cap_free(c);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int v = 0; rc == 0 && v <= last; v++)
		if (p->caps[VS_CAP_AMBIENT] & (1ULL << v))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0,
			      0); /* runc: best effort */
	return rc;
}

int vs_process_identity(const struct vs_spec_process *p, bool setgroups_ok, struct vs_err **err)
{
	int rc;

	if (p->has_caps) {
		if ((rc = drop_bounding(p->caps[VS_CAP_BOUNDING], err)) < 0)
			return rc;
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return vs_err_setsys(err, -errno, "PR_SET_KEEPCAPS");
	}
	if (setgroups_ok && setgroups(p->n_additional_gids, p->additional_gids) < 0)
		return vs_err_setsys(err, -errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return vs_err_setsys(err, -errno, "setgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return vs_err_setsys(err, -errno, "setuid %u", p->uid);
	if (!p->has_caps)
		return 0;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return set_caps(p, err);
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
	copy =
	    xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
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
