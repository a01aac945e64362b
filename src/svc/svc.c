/* Opening the service layer, paths under the root, process identity, and
 * the test seam (svc.h). */
#include "svc/internal.h"
#include "store/store.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void (*vs_svc_step_hook)(const char *step);

void vs_svc_step(const char *step)
{
	if (vs_svc_step_hook)
		vs_svc_step_hook(step);
}

int vs_svc_open(const char *root, struct vs_svc **out, struct vs_err **err)
{
	struct vs_svc *svc = xzalloc(sizeof(*svc));
	_cleanup_free_ char *vms = NULL;
	int r;

	if ((r = vs_store_open(root, &svc->store, err)) < 0) {
		vs_svc_close(svc);
		return r;
	}
	/* Absolute: the VMM runs in its VM's directory. */
	svc->root = realpath(root, NULL);
	if (!svc->root)
		svc->root = xstrdup(root);
	vms = xasprintf("%s/vms", root);
	if (mkdir(vms, 0700) < 0 && errno != EEXIST) {
		r = vs_err_setsys(err, -errno, "cannot create %s", vms);
		vs_svc_close(svc);
		return r;
	}
	*out = svc;
	return 0;
}

static void reap_children(struct vs_svc *svc)
{
	size_t kept = 0;

	for (size_t i = 0; i < svc->nchildren; i++)
		if (waitpid(svc->children[i], NULL, WNOHANG) == 0)
			svc->children[kept++] = svc->children[i];
	svc->nchildren = kept;
}

void vs_svc_child_add(struct vs_svc *svc, pid_t pid)
{
	reap_children(svc);
	svc->children = xrealloc(svc->children, (svc->nchildren + 1) * sizeof(pid_t));
	svc->children[svc->nchildren++] = pid;
}

void vs_svc_close(struct vs_svc *svc)
{
	if (!svc)
		return;
	reap_children(svc);
	free(svc->children);
	vs_store_close(svc->store);
	free(svc->root);
	free(svc);
}

char *vs_svc_vm_dir(const struct vs_svc *svc, const char *name)
{
	return xasprintf("%s/vms/%s", svc->root, name);
}

char *vs_svc_vm_file(const struct vs_svc *svc, const char *name, const char *file)
{
	return xasprintf("%s/vms/%s/%s", svc->root, name, file);
}

uint64_t vs_svc_pid_start(pid_t pid)
{
	char path[64], buf[1024], state;
	unsigned long long start = 0;
	ssize_t n;
	char *p;
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
	if (!p || sscanf(p + 1,
			 " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %*s %*s %llu",
			 &state, &start) != 2)
		return 0;
	return state == 'Z' || state == 'X' ? 0 : start;
}

int64_t vs_svc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static int rmtree_at(int dfd)
{
	_cleanup_(closedirp) DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (sub < 0 || rmtree_at(sub) < 0)
				r = -EIO;
			if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				r = -errno;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT) {
			r = -errno;
		}
	}
	return r;
}

int vs_svc_rmtree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = rmtree_at(fd);
	if (rmdir(path) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
