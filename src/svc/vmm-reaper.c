/* The reaper of a background VMM (vmm-reaper.h). The VMM's lock is an OFD
 * lock (lock.c) and the reaper keeps a copy of its fd until it has written
 * vmm.exit: the lock is free only once both are gone, so whoever finds it
 * free and the run still recorded as active finds the VMM's end written too,
 * if the reaper lived to see it. */
#include "svc/vmm-reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_TMP_FILE VS_SVC_EXIT_FILE ".tmp"
#define EXIT_LINE_MAX 64

int vs_svc_vmm_reap(pid_t vmm, long long run_id)
{
	char line[EXIT_LINE_MAX];
	int ws = 0, fd, n, r = 0;

	while (waitpid(vmm, &ws, 0) < 0)
		if (errno != EINTR)
			return -errno;
	n = snprintf(line, sizeof(line), "%lld %d\n", run_id, ws);
	fd = open(EXIT_TMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, n) != n)
		r = -EIO;
	close(fd);
	if (r == 0 && rename(EXIT_TMP_FILE, VS_SVC_EXIT_FILE) < 0)
		r = -errno;
	return r;
}

bool vs_svc_vmm_exit_read(const char *dir, long long run_id, int *wstatus)
{
	char path[4096], line[EXIT_LINE_MAX];
	long long id;
	int fd, ws;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, VS_SVC_EXIT_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return false;
	line[n] = 0;
	if (sscanf(line, "%lld %d", &id, &ws) != 2 || id != run_id)
		return false;
	*wstatus = ws;
	return true;
}

void vs_svc_wstatus_text(int ws, char *buf, size_t len, int *status)
{
	if (WIFSIGNALED(ws)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(ws));

		snprintf(buf, len, "was killed by signal %d (SIG%s)%s", WTERMSIG(ws),
			 abbrev ? abbrev : "?", WCOREDUMP(ws) ? ", core dumped" : "");
		*status = 128 + WTERMSIG(ws);
	} else {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(ws));
		*status = WEXITSTATUS(ws);
	}
}
