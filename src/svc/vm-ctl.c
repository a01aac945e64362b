/* Talking to a running VM's VMM over <root>/vms/<name>/control.sock
 * (docs/api/control.md), and the verbs that do: stop, kill, pause, resume,
 * console. The socket path is reached through /proc/self/fd/N of the VM's
 * directory, so a long --root does not hit sun_path's 108 bytes. */
#include "svc/internal.h"
#include "store/vms.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 5000
#define KILL_WAIT_MS 10000
#define STOP_SLACK_MS 5000 /* beyond the stop timeout, for the hard stop itself */

static int ctl_connect(struct vs_svc *svc, const char *name, int *out)
{
	_cleanup_free_ char *dir = vs_svc_vm_dir(svc, name);
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (dfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, VS_SVC_SOCK_FILE);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*out = steal_fd(fd);
	return 0;
}

/* Reads one reply line (up to 4 KiB) within the timeout. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t have = 0;

	while (have < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + have, 1); /* byte by byte: the console stream may follow */
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		if (buf[have] == '\n') {
			buf[have] = 0;
			return 0;
		}
		have++;
	}
	return -E2BIG;
}

static int parse_reply(const char *name, const char *command, const char *line, json_t **reply,
		       struct vs_err **err)
{
	_cleanup_json_ json_t *j = json_loads(line, 0, NULL);
	json_t *ret = json_object_get(j, "return"), *e = json_object_get(j, "error");

	if (ret) {
		if (reply)
			*reply = json_incref(ret);
		return 0;
	}
	if (e)
		return vs_err_set(err, -EIO, "VM '%s': %s: %s", name, command,
				  vs_json_str(e, "desc") ? vs_json_str(e, "desc") : "failed");
	return vs_err_set(err, -EPROTO, "VM '%s': %s: bad reply from the VMM", name, command);
}

static int ctl_send(int fd, const char *command, json_t *args)
{
	_cleanup_json_ json_t *req = json_pack("{s:s}", "execute", command);
	_cleanup_free_ char *text = NULL;
	char *line;
	size_t len;
	int r = 0;

	if (args)
		json_object_set(req, "arguments", args);
	text = vs_json_dump(req);
	len = strlen(text);
	line = xasprintf("%s\n", text);
	/* MSG_NOSIGNAL: a VMM that just exited must not kill us with SIGPIPE. */
	if (send(fd, line, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1))
		r = errno ? -errno : -EIO;
	free(line);
	return r;
}

static int ctl_request(struct vs_svc *svc, const char *name, const char *command, json_t *args,
		       json_t **reply, int *keep_fd, struct vs_err **err)
{
	_cleanup_close_ int fd = -1;
	char line[4096];
	int r;

	if ((r = ctl_connect(svc, name, &fd)) < 0)
		return vs_err_setsys(err, r, "VM '%s': cannot reach its VMM's control socket",
				     name);
	if ((r = ctl_send(fd, command, args)) < 0 || (r = read_line(fd, line, sizeof(line))) < 0)
		return vs_err_setsys(err, r, "VM '%s': %s", name, command);
	if ((r = parse_reply(name, command, line, reply, err)) < 0)
		return r;
	if (keep_fd)
		*keep_fd = steal_fd(fd);
	return 0;
}

int vs_svc_ctl_call(struct vs_svc *svc, const char *name, const char *command, json_t *args,
		    json_t **reply, struct vs_err **err)
{
	return ctl_request(svc, name, command, args, reply, NULL, err);
}

/* Loads the row and requires a running (or paused) VM with a control socket. */
static int need_running(struct vs_svc *svc, const char *name, struct vs_store_vm **row,
			struct vs_err **err)
{
	int r = vs_svc_get_row(svc, name, row, err);
	enum vs_vm_state st;

	if (r < 0)
		return r;
	st = vs_svc_state_parse((*row)->state);
	if (st != VS_VM_RUNNING && st != VS_VM_PAUSED && st != VS_VM_STARTING) {
		vs_store_vm_free(*row);
		*row = NULL;
		return vs_err_set(err, -ESRCH, "VM '%s' is not running", name);
	}
	return 0;
}

/* Signals the recorded pid, but only if it is still the process that was
 * recorded (same start time), never a recycled pid. */
static int signal_vmm(const struct vs_store_vm *row, int sig)
{
	if (row->pid <= 0 || vs_svc_pid_start((pid_t)row->pid) != row->pid_start)
		return -ESRCH;
	return kill((pid_t)row->pid, sig) < 0 ? -errno : 0;
}

static int wait_gone(struct vs_svc *svc, const struct vs_store_vm *row, unsigned ms,
		     struct vs_err **err)
{
	_cleanup_free_ char *lock = vs_svc_vm_file(svc, row->name, VS_SVC_LOCK_FILE);
	struct vs_store_vm *now = NULL;

	if (vs_svc_lock_wait_free(lock, ms) < 0) {
		signal_vmm(row, SIGKILL);
		if (vs_svc_lock_wait_free(lock, KILL_WAIT_MS) < 0)
			return vs_err_set(err, -ETIMEDOUT,
					  "VM '%s': its VMM (pid %lld) does not exit", row->name,
					  (long long)row->pid);
	}
	/* records a VMM that died without a word */
	if (vs_store_vm_get(svc->store, row->name, &now, NULL) == 0) {
		vs_svc_check_live(svc, now);
		vs_store_vm_free(now);
	}
	return 0;
}

int vs_svc_vm_stop(struct vs_svc *svc, const char *name, const struct vs_vm_stop_opts *opts,
		   struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	unsigned t = opts ? opts->timeout_s : 10;
	_cleanup_json_ json_t *args = json_pack("{s:I}", "timeout", (json_int_t)t);
	int r = need_running(svc, name, &row, err);

	if (r < 0)
		return r;
	if (vs_svc_ctl_call(svc, name, "stop", args, NULL, NULL) < 0)
		signal_vmm(row, SIGTERM); /* `vm run --name`, or a VMM that does not answer */
	r = wait_gone(svc, row, t * 1000 + STOP_SLACK_MS, err);
	vs_store_vm_free(row);
	return r;
}

int vs_svc_vm_kill(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	int r = need_running(svc, name, &row, err);

	if (r < 0)
		return r;
	if (vs_svc_ctl_call(svc, name, "quit", NULL, NULL, NULL) < 0)
		signal_vmm(row, SIGKILL);
	r = wait_gone(svc, row, STOP_SLACK_MS, err);
	vs_store_vm_free(row);
	return r;
}

static int simple(struct vs_svc *svc, const char *name, const char *command, struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	_cleanup_free_ char *sock = NULL;
	int r = need_running(svc, name, &row, err);

	if (r < 0)
		return r;
	vs_store_vm_free(row);
	sock = vs_svc_vm_file(svc, name, VS_SVC_SOCK_FILE);
	if (access(sock, F_OK) != 0)
		return vs_err_set(err, -EOPNOTSUPP,
				  "VM '%s' runs in the foreground of a `vessel vm run --name` and "
				  "has no control socket: %s it there",
				  name, command);
	return vs_svc_ctl_call(svc, name, command, NULL, NULL, err);
}

int vs_svc_vm_pause(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	return simple(svc, name, "pause", err);
}

int vs_svc_vm_resume(struct vs_svc *svc, const char *name, struct vs_err **err)
{
	return simple(svc, name, "resume", err);
}

int vs_svc_vm_console(struct vs_svc *svc, const char *name, bool replay, int *fd,
		      struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	_cleanup_json_ json_t *args = json_pack("{s:b}", "replay", replay);
	int r = need_running(svc, name, &row, err);

	if (r < 0)
		return r;
	vs_store_vm_free(row);
	return ctl_request(svc, name, "console", args, NULL, fd, err);
}

int vs_svc_vm_log_path(struct vs_svc *svc, const char *name, char **out, struct vs_err **err)
{
	struct vs_store_vm *row = NULL;
	int r = vs_svc_get_row(svc, name, &row, err);

	if (r < 0)
		return r;
	vs_store_vm_free(row);
	*out = vs_svc_vm_file(svc, name, VS_SVC_LOG_FILE);
	return 0;
}
