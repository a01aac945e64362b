/* Network namespace helpers: open by name, run on a thread inside, sysctls. */
#include "net/netns.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int vs_netns_open(const char *name, int *out_fd, struct vs_err **err)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (!name || !*name)
		return vs_err_set(err, -EINVAL, "empty network namespace name");
	path = strchr(name, '/') ? xstrdup(name) : xasprintf("/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vs_err_setsys(err, -errno, "opening network namespace %s", path);
	*out_fd = fd;
	return 0;
}

struct netns_call {
	int netns_fd;
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static void *netns_thread(void *p)
{
	struct netns_call *c = p;

	if (setns(c->netns_fd, CLONE_NEWNET) < 0) {
		c->ret = -errno;
		return NULL;
	}
	c->ret = c->fn(c->arg);
	return NULL;
}

int vs_netns_run(int netns_fd, int (*fn)(void *arg), void *arg)
{
	struct netns_call c = { .netns_fd = netns_fd, .fn = fn, .arg = arg };
	pthread_t t;
	int r;

	if (netns_fd < 0)
		return fn(arg);
	r = pthread_create(&t, NULL, netns_thread, &c);
	if (r)
		return -r;
	pthread_join(t, NULL);
	return c.ret;
}

struct sysctl_call {
	const char *key;
	const char *value;
	char *old;
};

static int sysctl_write(void *p)
{
	struct sysctl_call *s = p;
	_cleanup_free_ char *path = xasprintf("/proc/sys/%s", s->key);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	size_t len = strlen(s->value);
	ssize_t n;
	char c;

	if (fd < 0)
		return -errno;
	if (s->old) {
		if (pread(fd, &c, 1, 0) != 1)
			return -EIO;
		*s->old = c;
	}
	n = pwrite(fd, s->value, len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vs_netns_sysctl_set(int netns_fd, const char *key, const char *value, char *old,
			struct vs_err **err)
{
	struct sysctl_call s = { .key = key, .value = value, .old = old };
	int r = vs_netns_run(netns_fd, sysctl_write, &s);

	if (r < 0)
		return vs_err_setsys(err, r, "setting sysctl %s=%s", key, value);
	return 0;
}

int vs_netns_forwarding_enable(int netns_fd, bool *changed, struct vs_err **err)
{
	char old = '0';
	int r = vs_netns_sysctl_set(netns_fd, "net/ipv4/ip_forward", "1", &old, err);

	if (r < 0)
		return r;
	if (changed)
		*changed = old != '1';
	return 0;
}
