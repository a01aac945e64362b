/* stderr logger. A whole line is formatted first and written with one
 * write(2), so lines from several vCPU threads do not interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum vs_log_level cur_level = VS_LOG_WARN;

void vs_log_set_level(enum vs_log_level level)
{
	cur_level = level;
}

enum vs_log_level vs_log_get_level(void)
{
	return cur_level;
}

void vs_log(enum vs_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "", "warning: ", "", "debug: " };
	char line[1024];
	va_list ap;
	int n;

	if (level > cur_level)
		return;
	n = snprintf(line, sizeof(line), "vessel: %s", prefix[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* stderr is gone; nowhere to report it */
	}
}
