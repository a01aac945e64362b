/* Terminal handling for the interactive console. */
#include "vmm/console.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One saved state per process: the terminal is a process-wide resource and
 * the fatal-signal handler must reach it. */
static struct termios saved_tio;
static volatile sig_atomic_t saved_fd = -1;

static void restore_saved(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSANOW, &saved_tio);
		saved_fd = -1;
	}
}

static void fatal_signal(int sig)
{
	restore_saved();
	signal(sig, SIG_DFL);
	raise(sig);
}

int vs_console_open(struct vs_console *c, int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE };
	struct termios raw;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &saved_tio) < 0)
		return -errno;
	raw = saved_tio;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable */
	saved_fd = fd;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	if (tcsetattr(fd, TCSANOW, &raw) < 0) {
		saved_fd = -1;
		return -errno;
	}
	c->raw = true;
	return 0;
}

void vs_console_restore(struct vs_console *c)
{
	if (c->raw)
		restore_saved();
	c->raw = false;
}

size_t vs_console_filter(struct vs_console *c, uint8_t *buf, size_t len, bool *quit)
{
	size_t out = 0;

	*quit = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (c->escape) {
			c->escape = false;
			if (b == VS_CONSOLE_QUIT) {
				*quit = true;
				return out;
			}
			if (b != VS_CONSOLE_ESCAPE)
				continue; /* unknown escape: drop it */
		} else if (b == VS_CONSOLE_ESCAPE) {
			c->escape = true;
			continue;
		}
		buf[out++] = b;
	}
	return out;
}
