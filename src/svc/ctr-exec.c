/* `exec`: a new process in a running container (ctr.h), by src/ctr's exec
 * (ctr/exec.h): it joins the container's cgroup and all its namespaces,
 * and starts from the container's own process spec (env, user, caps,
 * rlimits, cwd) with the caller's changes over it. No runc subprocess.
 *
 * Also `top`: the processes of a running container, from its cgroup.
 *
 * Map: user - env - vs_svc_ctr_exec - vs_svc_ctr_top. */
#include "svc/ctr-internal.h"
#include "svc/internal.h"
#include "ctr/cgroup.h"
#include "ctr/exec.h"
#include "ctr/spec.h"
#include "store/containers.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* name in the running container's /etc/passwd, resolved inside its init's
 * root (a symlink there must not lead us to the host's files), a regular
 * file only. */
static int passwd_lookup(pid_t init, const char *name, unsigned *uid, unsigned *gid)
{
	_cleanup_free_ char *root = xasprintf("/proc/%d/root", (int)init);
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char line[512], who[256];
	int fd = rfd < 0 ? -1 : vs_open_in_root(rfd, "/etc/passwd", O_RDONLY | O_NONBLOCK);
	struct stat st;
	FILE *f;
	int r = -ENOENT;

	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return -ENOENT;
	}
	while (r < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255[^:]:%*[^:]:%u:%u:", who, uid, gid) == 3 &&
		    strcmp(who, name) == 0)
			r = 0;
	fclose(f);
	return r;
}

/* -u UID[:GID] or a name in the container's /etc/passwd. */
static int set_user(struct vs_spec_process *p, pid_t init, const char *u, struct vs_err **err)
{
	unsigned uid = 0, gid = 0;
	char name[256], extra;

	if (sscanf(u, "%u:%u%c", &uid, &gid, &extra) == 2 || sscanf(u, "%u%c", &uid, &extra) == 1)
		goto ok;
	if (sscanf(u, "%255[^:]%c", name, &extra) != 1 || passwd_lookup(init, name, &uid, &gid) < 0)
		return vs_err_set(
			err, -EINVAL,
			"user '%s': not UID[:GID] nor a user in the container's /etc/passwd", u);
ok:
	p->uid = uid;
	p->gid = gid;
	free(p->additional_gids);
	p->additional_gids = NULL;
	p->n_additional_gids = 0;
	return 0;
}

/* "K=V" over the environment: an entry with the same key is replaced. */
static void env_put(struct vs_strv *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], kv, klen) == 0 && env->v[i][klen] == '=') {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	}
	env->v = xrealloc(env->v, (env->n + 2) * sizeof(char *));
	env->v[env->n++] = xstrdup(kv);
	env->v[env->n] = NULL;
}

static int build(struct vs_spec_process *p, const struct vs_store_ctr *row,
		 const struct vs_ctr_exec_opts *o, struct vs_err **err)
{
	size_t n = 0;

	while (o->argv[n])
		n++;
	p->args.v = xzalloc((n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		p->args.v[i] = xstrdup(o->argv[i]);
	p->args.n = n;
	for (size_t i = 0; o->env && o->env[i]; i++)
		env_put(&p->env, o->env[i]);
	if (o->tty)
		env_put(&p->env, "TERM=xterm");
	if (o->workdir) {
		if (o->workdir[0] != '/')
			return vs_err_set(err, -EINVAL, "-w %s: not an absolute path", o->workdir);
		free(p->cwd);
		p->cwd = xstrdup(o->workdir);
	}
	p->terminal = o->tty;
	return o->user ? set_user(p, (pid_t)row->init_pid, o->user, err) : 0;
}

int vs_svc_ctr_exec(struct vs_svc *svc, const char *key, const struct vs_ctr_exec_opts *o,
		    int *status, struct vs_err **err)
{
	_cleanup_free_ char *oci = vs_svc_ctr_oci_root(svc);
	struct vs_exec_opts eo = { .root = oci };
	struct vs_spec_process p = { 0 };
	struct vs_store_ctr *row = NULL;
	int r;

	if (!o->argv || !o->argv[0])
		return vs_err_set(err, -EINVAL, "no command given");
	if ((r = vs_svc_ctr_get_row(svc, key, &row, err)) < 0)
		return r;
	if (strcmp(row->state, "running") != 0) {
		r = vs_err_set(err, -EINVAL, "container %s is not running", row->name);
		goto out;
	}
	eo.id = row->id;
	if (o->tty) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 ||
		    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
			eo.ws_row = ws.ws_row, eo.ws_col = ws.ws_col;
	}
	if ((r = vs_exec_base_process(oci, row->id, &p, err)) < 0) {
		if (r == -ENOENT && err) { /* between two runs of its restart policy */
			vs_err_free(*err);
			*err = NULL;
			r = vs_err_set(err, -EAGAIN, "container %s is restarting", row->name);
		}
		goto out;
	}
	if ((r = build(&p, row, o, err)) == 0)
		r = vs_ctr_exec(&eo, &p, status, err);
out:
	vs_spec_process_clear(&p);
	vs_store_ctr_free(row);
	return r;
}

int vs_svc_ctr_top(struct vs_svc *svc, const char *key, pid_t **pids, size_t *n,
		   struct vs_err **err)
{
	struct vs_store_ctr *row = NULL;
	struct vs_cgroup *cg = NULL;
	_cleanup_free_ char *path = NULL;
	int r = vs_svc_ctr_get_row(svc, key, &row, err);

	if (r < 0)
		return r;
	if (strcmp(row->state, "running") != 0) {
		r = vs_err_set(err, -EINVAL, "container %s is not running", row->name);
		goto out;
	}
	path = xasprintf(VS_CTR_CGROUP_PARENT "/%s", row->id);
	if ((r = vs_cgroup_open(VS_CGROUP_FSROOT, path, &cg, err)) == 0 &&
	    (r = vs_cgroup_pids(cg, pids, n)) < 0)
		vs_err_setsys(err, r, "cannot list the processes of %s", row->name);
	vs_cgroup_free(cg);
out:
	vs_store_ctr_free(row);
	return r;
}
