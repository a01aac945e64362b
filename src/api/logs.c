/* Logs as replies (GET .../logs of containers and VMs): a log file and its
 * rotated predecessor, at most their last MiB, optionally the last N lines,
 * as text/plain. */
#include "api/internal.h"
#include "svc/ctr.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_REPLY_MAX (1u << 20) /* at most the last MiB */
#define LOG_TAIL_MAX 1000000

/* Appends the file's last (at most) max bytes to *buf. */
static void append_tail(const char *path, size_t max, char **buf, size_t *len)
{
	_cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	off_t from = end > (off_t)max ? end - (off_t)max : 0;
	ssize_t n;

	if (end <= 0 || lseek(fd, from, SEEK_SET) < 0)
		return;
	*buf = xrealloc(*buf, *len + (size_t)(end - from) + 1);
	while ((n = pread(fd, *buf + *len, (size_t)(end - from), from)) > 0) {
		*len += (size_t)n;
		from += n;
	}
}

/* The start of the last tail lines of buf (len bytes). */
static size_t tail_start(const char *buf, size_t len, uint64_t tail)
{
	size_t i = len;

	if (i && buf[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (buf[i - 1] == '\n' && tail-- <= 1)
			return i;
		i--;
	}
	return 0;
}

bool api_log_args(const struct vs_api_req *req, uint64_t *tail, bool *has_tail, bool *follow,
		  struct vs_api_resp *resp)
{
	static const char *const known[] = { "tail", "follow", NULL };
	static const char *const no_follow[] = { "tail", NULL };

	*tail = 0;
	*has_tail = api_arg(req, "tail") != NULL;
	return api_args_check(req, follow ? known : no_follow, resp) &&
	       api_arg_uint(req, "tail", LOG_TAIL_MAX, tail, resp) &&
	       (!follow || api_arg_bool(req, "follow", follow, resp));
}

void api_reply_log(struct vs_api_resp *resp, const char *old, const char *path,
		   const uint64_t *tail, bool records)
{
	char *buf = xstrdup(""); /* never NULL: no log yet is an empty one */
	size_t len = 0, from;

	append_tail(old, LOG_REPLY_MAX, &buf, &len);
	append_tail(path, LOG_REPLY_MAX, &buf, &len);
	from = len > LOG_REPLY_MAX ? len - LOG_REPLY_MAX : 0;
	if (records) { /* a container's CRI records (ctr-logs.c) as its output */
		const char *nl = from ? memchr(buf + from, '\n', len - from) : NULL;
		size_t skip = nl ? (size_t)(nl - buf) + 1 : from, used;
		char *text = vs_svc_ctr_log_decode(buf + skip, len - skip, &used);

		free(buf);
		buf = text;
		len = strlen(text);
		from = 0;
	}
	if (tail && *tail)
		from += tail_start(buf + from, len - from, *tail);
	else if (tail) /* tail=0: nothing */
		from = len;
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = xmalloc(len - from + 1);
	memcpy(resp->body, buf + from, len - from);
	resp->body[len - from] = 0;
	free(buf);
}
