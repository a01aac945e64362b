/* The block test hooks (io.h), built only with the block_test_hooks meson
 * option (on in test builds, off in release builds: meson_options.txt). A
 * release binary ignores VESSEL_BLOCK_KILL_AFTER_WRITES and
 * VESSEL_BLOCK_TRACE: the hooks are empty inline functions there. */
#include "common/io.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long kill_countdown = -1;
static int trace_fd = -1;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_init(void)
{
	const char *k = getenv("VESSEL_BLOCK_KILL_AFTER_WRITES");
	const char *t = getenv("VESSEL_BLOCK_TRACE");

	if (k && *k)
		atomic_store(&kill_countdown, strtol(k, NULL, 10));
	if (t && *t)
		trace_fd = open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* One record: tag, then up to two u64 and the payload, in one write(2)
 * sequence under the lock (the trace is for tests: failures are ignored). */
static void trace(char tag, uint64_t a, uint64_t b, const struct iovec *iov, int n)
{
	uint8_t head[17];
	ssize_t w = 0;

	head[0] = (uint8_t)tag;
	memcpy(head + 1, &a, 8);
	memcpy(head + 9, &b, 8);
	pthread_mutex_lock(&trace_lock);
	w += write(trace_fd, head, tag == 'S' ? 1 : sizeof(head));
	for (int i = 0; i < n; i++)
		w += write(trace_fd, iov[i].iov_base, iov[i].iov_len);
	pthread_mutex_unlock(&trace_lock);
	(void)w;
}

void vs_io_hook_write(const struct iovec *iov, int n, uint64_t off)
{
	uint64_t len = 0;

	pthread_once(&hooks_once, hooks_init);
	if (atomic_load(&kill_countdown) >= 0 && atomic_fetch_sub(&kill_countdown, 1) == 0)
		raise(SIGKILL);
	if (trace_fd < 0)
		return;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	trace('W', off, len, iov, n);
}

void vs_io_hook_punch(uint64_t off, uint64_t len)
{
	pthread_once(&hooks_once, hooks_init);
	if (trace_fd >= 0)
		trace('P', off, len, NULL, 0);
}

void vs_io_hook_sync(void)
{
	pthread_once(&hooks_once, hooks_init);
	if (trace_fd >= 0)
		trace('S', 0, 0, NULL, 0);
}
