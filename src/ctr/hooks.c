/* Running OCI hooks: see hooks.h. */
#include "ctr/hooks.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void hook_child(const struct vs_spec_hook *h, int in_fd)
{
	char *argv0[] = { h->path, NULL };

	dup2(in_fd, STDIN_FILENO);
	if (in_fd != STDIN_FILENO)
		close(in_fd);
	execve(h->path, h->args.n ? h->args.v : argv0, h->env.v ? h->env.v : (char *[]){ NULL });
	_exit(127);
}

/* Waits for pid, killing it after timeout seconds (0 = no limit): on a
 * pidfd, which is readable once the hook has exited. */
static int wait_hook(pid_t pid, int timeout, int *status)
{
	_cleanup_close_ int pfd = timeout ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	uint64_t deadline = vs_now_ns() + (uint64_t)timeout * 1000000000ULL;

	while (pfd >= 0) {
		uint64_t now = vs_now_ns();

		if (now >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -ETIMEDOUT;
		}
		if (poll(&p, 1, (int)VS_MIN((deadline - now) / 1000000 + 1, 60000)) > 0)
			break;
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int run_one(const struct vs_spec_hook *h, const char *state_json)
{
	int p[2], status = 0, rc;
	size_t len = strlen(state_json);
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0)
		hook_child(h, p[0]);
	close(p[0]);
	/* The hook may not read its stdin: ignore EPIPE for this write only (an
	 * ignored SIGPIPE would survive into the container's execve). */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	sigaction(SIGPIPE, &ign, &old);
	if (write(p[1], state_json, len) < 0) {
		/* reported through the exit status if it matters */
	}
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	if ((rc = wait_hook(pid, h->timeout, &status)) < 0)
		return rc;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return WIFEXITED(status) ? -(1000 + WEXITSTATUS(status)) : -ECHILD;
}

static int report(const struct vs_spec_hooks *h, size_t i, int rc, const char *kind,
		  struct vs_err **err)
{
	if (rc <= -1000)
		return vs_err_set(err, -EIO, "error running %s hook #%zu: exit status %d", kind, i,
				  -rc - 1000);
	if (rc == -ETIMEDOUT)
		return vs_err_set(err, rc, "error running %s hook #%zu: timeout after %ds", kind, i,
				  h->v[i].timeout);
	return vs_err_setsys(err, rc, "error running %s hook #%zu", kind, i);
}

int vs_hooks_run(const struct vs_spec_hooks *h, const char *kind, const char *state_json,
		 struct vs_err **err)
{
	for (size_t i = 0; i < h->n; i++) {
		int rc = run_one(&h->v[i], state_json);

		if (rc < 0)
			return report(h, i, rc, kind, err);
	}
	return 0;
}

size_t vs_hooks_run_all(const struct vs_spec_hooks *h, const char *kind, const char *state_json)
{
	size_t failed = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct vs_err *e = NULL;
		int rc = run_one(&h->v[i], state_json);

		if (rc < 0 && report(h, i, rc, kind, &e) < 0) {
			vs_warn("%s", e->msg);
			failed++;
		}
		vs_err_free(e);
	}
	return failed;
}
