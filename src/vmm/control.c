/* The control socket's protocol (docs/api/control.md): one JSON request per
 * line, {"execute": "<command>", "arguments": {...}}, one JSON reply per
 * line, {"return": {...}} or {"error": {"code": "<errno name>", "desc":
 * "<one line>"}}. After a successful "console" the connection carries the
 * raw console: guest output to the client, client bytes to the guest. */
#include "vmm/serve-internal.h"
#include "vmm/internal.h"
#include "vmm/pause.h"
#include "hw/serial.h"
#include "common/json.h"
#include "common/loop.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64

struct command {
	const char *name;
	/* Returns the reply's "return" object, or NULL with *code and *desc set. */
	json_t *(*fn)(struct vs_serve_client *c, const json_t *args, int *code, const char **desc);
};

static void reply(struct vs_serve_client *c, json_t *j)
{
	_cleanup_json_ json_t *owned = j;
	char *s = vs_json_dump(j);
	size_t len = strlen(s);

	s = xrealloc(s, len + 2);
	s[len] = '\n';
	/* Replies are small: a blocking-enough write into an empty socket buffer. */
	if (write(c->fd, s, len + 1) < 0) {
		/* the client went away; its hang-up closes it */
	}
	free(s);
}

static json_t *cmd_status(struct vs_serve_client *c, const json_t *args, int *code,
			  const char **desc)
{
	struct vs_serve *sv = c->sv;

	(void)args;
	(void)code;
	(void)desc;
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "state",
			 vs_vm_is_paused(sv->vm) ? "paused" : "running", "pid",
			 (json_int_t)getpid(), "cpus", (json_int_t)sv->vm->cfg.cpus, "mem",
			 (json_int_t)sv->vm->cfg.mem, "uptime_ms",
			 (json_int_t)((vs_now_ns() - sv->started_ns) / 1000000), "console_bytes",
			 (json_int_t)vs_serial_tx_count(sv->vm->serial));
}

static json_t *cmd_pause(struct vs_serve_client *c, const json_t *args, int *code,
			 const char **desc)
{
	int r = vs_vm_pause(c->sv->vm);

	(void)args;
	if (r < 0) {
		*code = r;
		*desc = r == -ETIMEDOUT ? "a vCPU did not stop within a second" :
					  "the VM is stopping";
		return NULL;
	}
	vs_serve_set_state(c->sv, "paused");
	return json_object();
}

static json_t *cmd_resume(struct vs_serve_client *c, const json_t *args, int *code,
			  const char **desc)
{
	(void)args;
	(void)code;
	(void)desc;
	if (vs_vm_is_paused(c->sv->vm)) {
		vs_vm_resume(c->sv->vm);
		vs_serve_set_state(c->sv, "running");
	}
	return json_object();
}

/* Presses both power buttons and arms the hard stop (vs_serve_soft_stop);
 * "timeout" 0 stops at once. */
static json_t *cmd_stop(struct vs_serve_client *c, const json_t *args, int *code, const char **desc)
{
	int64_t t = vs_json_int(args, "timeout", 10);

	if (t < 0 || t > 86400) {
		*code = -EINVAL;
		*desc = "timeout must be 0-86400 seconds";
		return NULL;
	}
	if (t == 0) {
		vs_serve_hard_stop(c->sv, "hard stop (vm stop -t 0)");
		return json_object();
	}
	vs_serve_soft_stop(c->sv, (uint64_t)t * 1000);
	return json_object();
}

static json_t *cmd_quit(struct vs_serve_client *c, const json_t *args, int *code, const char **desc)
{
	(void)args;
	(void)code;
	(void)desc;
	vs_serve_hard_stop(c->sv, "killed (vm kill)");
	return json_object();
}

static json_t *cmd_console(struct vs_serve_client *c, const json_t *args, int *code,
			   const char **desc)
{
	(void)code;
	(void)desc;
	c->console = true;
	reply(c, json_pack("{s:{}}", "return"));
	if (vs_json_bool(args, "replay", false))
		vs_serve_replay(c->sv, c->fd);
	return NULL; /* the reply is out; the raw stream follows */
}

/* What `GET /v1/vms/{name}/stats` reports: the VMM's own CPU time (its vCPU
 * threads run the guest, so it is the guest's too), its resident memory and
 * the guest's. */
static json_t *cmd_stats(struct vs_serve_client *c, const json_t *args, int *code,
			 const char **desc)
{
	struct vs_serve *sv = c->sv;
	struct timespec ts = { 0 };
	long long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	(void)args, (void)code, (void)desc;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	if (f) {
		if (fscanf(f, "%lld %lld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "state",
			 vs_vm_is_paused(sv->vm) ? "paused" : "running", "cpu_ns",
			 (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec, "rss",
			 (json_int_t)resident * sysconf(_SC_PAGESIZE), "mem",
			 (json_int_t)sv->vm->cfg.mem, "cpus", (json_int_t)sv->vm->cfg.cpus,
			 "uptime_ms", (json_int_t)((vs_now_ns() - sv->started_ns) / 1000000),
			 "console_bytes", (json_int_t)vs_serial_tx_count(sv->vm->serial));
}

static const struct command commands[] = {
	{ "status", cmd_status }, { "pause", cmd_pause }, { "resume", cmd_resume },
	{ "stop", cmd_stop },	  { "quit", cmd_quit },	  { "console", cmd_console },
	{ "stats", cmd_stats },
};

static json_t *error_reply(int code, const char *desc)
{
	return json_pack("{s:{s:s, s:s}}", "error", "code",
			 strerrorname_np(-code) ? strerrorname_np(-code) : "EIO", "desc", desc);
}

static void handle_line(struct vs_serve_client *c, const char *line, size_t len)
{
	_cleanup_json_ json_t *req = json_loadb(line, len, 0, NULL);
	const char *what = vs_json_str(req, "execute");
	const char *desc = "unknown command";
	int code = -EINVAL;
	json_t *ret;

	if (!what) {
		reply(c, error_reply(-EINVAL, "expected {\"execute\": \"<command>\"}"));
		return;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(commands); i++) {
		if (strcmp(what, commands[i].name) != 0)
			continue;
		ret = commands[i].fn(c, json_object_get(req, "arguments"), &code, &desc);
		if (ret)
			reply(c, json_pack("{s:o}", "return", ret));
		else if (!c->console)
			reply(c, error_reply(code, desc));
		return;
	}
	reply(c, error_reply(code, desc));
}

/* Console bytes from a client go to the UART through the pending buffer. */
static void console_input(struct vs_serve_client *c)
{
	struct vs_serve *sv = c->sv;
	size_t room = sizeof(sv->input) - sv->ninput;
	ssize_t n;

	if (room == 0)
		return;
	n = read(c->fd, sv->input + sv->ninput, room);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			vs_serve_client_close(c);
		return;
	}
	sv->ninput += n;
	vs_serve_feed_input(sv);
}

static void request_input(struct vs_serve_client *c)
{
	ssize_t n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
	char *nl;

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			vs_serve_client_close(c);
		return;
	}
	c->len += n;
	while (!c->console && (nl = memchr(c->in, '\n', c->len))) {
		size_t line = nl - c->in + 1;

		handle_line(c, c->in, line - 1);
		memmove(c->in, c->in + line, c->len - line);
		c->len -= line;
	}
	if (c->console && c->len) { /* bytes after "console" are console input */
		c->len = 0;
	} else if (c->len == sizeof(c->in)) {
		reply(c, error_reply(-E2BIG, "request line too long"));
		vs_serve_client_close(c);
	}
}

static void on_client(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_serve_client *c = ctx;

	(void)loop;
	(void)fd;
	if (c->console && (events & EPOLLIN))
		console_input(c);
	else if (events & EPOLLIN)
		request_input(c);
	else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		vs_serve_client_close(c);
}

void vs_serve_client_close(struct vs_serve_client *c)
{
	struct vs_serve *sv = c->sv;
	struct vs_serve_client **pp = &sv->clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	vs_loop_del(sv->loop, c->fd);
	close(c->fd);
	free(c);
}

void vs_serve_accept(struct vs_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct vs_serve *sv = ctx;
	struct vs_serve_client *c;
	unsigned n = 0;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (cfd < 0)
		return;
	for (c = sv->clients; c; c = c->next)
		n++;
	if (n >= MAX_CLIENTS) {
		close(cfd);
		return;
	}
	c = xzalloc(sizeof(*c));
	c->sv = sv;
	c->fd = cfd;
	if (vs_loop_add(loop, cfd, EPOLLIN | EPOLLRDHUP, on_client, c) < 0) {
		close(cfd);
		free(c);
		return;
	}
	c->next = sv->clients;
	sv->clients = c;
}
