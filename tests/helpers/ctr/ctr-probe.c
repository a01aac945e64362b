/* ctr-probe: a static helper run inside test containers. Each subcommand
 * prints one fact, or stresses one limit, so tests compare vessel and runc
 * on the same observable output.
 *
 *   ctr-probe fds          open fds other than 0-2, as "N -> target" lines
 *   ctr-probe caps         CapInh/CapPrm/CapEff/CapBnd/CapAmb of itself
 *   ctr-probe ids          uid gid groups
 *   ctr-probe nnp          NoNewPrivs value
 *   ctr-probe alloc MIB    touches MIB MiB, one MiB at a time, printing progress
 *   ctr-probe forks N      forks up to N sleeping children, prints how many worked
 *   ctr-probe spin SEC     busy-loops SEC seconds
 *   ctr-probe mkdir PATH [MODE]  mkdir (mode octal, default 755), prints "ok"
 *                          or the error
 *   ctr-probe exe PID      tries to open /proc/PID/exe for writing
 *   ctr-probe rlimit       soft/hard RLIMIT_NOFILE
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char p[64], t[256];

	if (!d)
		return perror("opendir"), 1;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		ssize_t n;

		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n = readlink(p, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = 0;
		printf("%d -> %s\n", fd, t);
	}
	closedir(d);
	return 0;
}

static int status_lines(const char *const *keys)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	if (!f)
		return perror("status"), 1;
	while (fgets(line, sizeof(line), f))
		for (const char *const *k = keys; *k; k++)
			if (strncmp(line, *k, strlen(*k)) == 0)
				fputs(line, stdout);
	fclose(f);
	return 0;
}

static int alloc(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return perror("mmap"), 1;
		memset(p, 1, 1 << 20);
		if (i % 16 == 0) {
			printf("%ld\n", i);
			fflush(stdout);
		}
	}
	printf("done\n");
	return 0;
}

static int forks(long n)
{
	static pid_t kids[4096];
	long ok = 0;

	for (long i = 0; i < n && i < 4096; i++) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0)
			break;
		kids[ok++] = p;
	}
	printf("%ld\n", ok);
	fflush(stdout);
	for (long i = 0; i < ok; i++) /* only our own children, never a group */
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}

static int spin(long sec)
{
	struct timespec a, b;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		for (int i = 0; i < 100000; i++)
			x++;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while (b.tv_sec - a.tv_sec < sec);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL };
	static const char *const nnp[] = { "NoNewPrivs", NULL };
	const char *cmd = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? atol(argv[2]) : 0;

	if (strcmp(cmd, "fds") == 0)
		return fds();
	if (strcmp(cmd, "caps") == 0)
		return status_lines(caps);
	if (strcmp(cmd, "nnp") == 0)
		return status_lines(nnp);
	if (strcmp(cmd, "ids") == 0) {
		gid_t g[64];
		int k = getgroups(64, g);

		printf("uid=%d gid=%d groups=", (int)getuid(), (int)getgid());
		for (int i = 0; i < k; i++)
			printf(i ? ",%d" : "%d", (int)g[i]);
		printf("\n");
		return 0;
	}
	if (strcmp(cmd, "alloc") == 0)
		return alloc(n);
	if (strcmp(cmd, "forks") == 0)
		return forks(n);
	if (strcmp(cmd, "spin") == 0)
		return spin(n);
	if (strcmp(cmd, "mkdir") == 0 && argc > 2) {
		mode_t mode = argc > 3 ? (mode_t)strtoul(argv[3], NULL, 8) : 0755;

		if (mkdir(argv[2], mode) == 0)
			printf("ok\n");
		else
			printf("%s\n", strerror(errno));
		return 0;
	}
	if (strcmp(cmd, "exe") == 0 && argc > 2) {
		char p[64];
		int fd;

		snprintf(p, sizeof(p), "/proc/%s/exe", argv[2]);
		fd = open(p, O_PATH);
		printf("%s\n", fd < 0 ? strerror(errno) : "opened");
		return 0;
	}
	if (strcmp(cmd, "rlimit") == 0) {
		struct rlimit rl;

		getrlimit(RLIMIT_NOFILE, &rl);
		printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
		       (unsigned long long)rl.rlim_max);
		return 0;
	}
	fprintf(stderr, "usage: ctr-probe fds|caps|ids|nnp|alloc|forks|spin|mkdir|exe|rlimit\n");
	return 2;
}
