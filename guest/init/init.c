/*
 * vessel-init: PID 1 of the default guest kit's initramfs (guest/README.md).
 *
 * Boot: mount /proc /sys /dev /dev/pts /run /tmp (+ cgroup2), load the
 * modules listed in /lib/modules/<release>/vessel-modules.load, set the
 * hostname, bring up lo and the interface vessel.ip names. Then either run
 * the command given on the kernel command line (vessel.cmd=, cmdline-abi.h)
 * or an interactive /bin/sh on the console, wait for it, and report its
 * status through the exit device (one byte to port VS_GUEST_EXIT_PORT)
 * before powering off.
 *
 * PID 1 must never exit (the kernel would panic): every path ends in
 * vm_finish(), which powers off and, should that fail, sleeps forever.
 *
 * Not PID 1 (on the host, for tests): `vessel-init --decode-cmdline TEXT`
 * prints what the init would run for the kernel command line TEXT.
 *
 * Map: messages and console; mounts; modules; network; the command (decode,
 * spawn); the session leader (its framed stdin relay: stdin-relay.c); the
 * power button; waiting; finishing (exit device, power-off); main.
 */
#include "cmd-decode.h"
#include "cmdline-abi.h"
#include "net.h"
#include "stdin-relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define INIT_HOSTNAME "vessel"
#define INIT_MODULES_LIST "vessel-modules.load"
#define INIT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define INIT_CMDLINE_MAX 4096

#define BUTTON_POLL_NS 150000000L /* a press is seen within 150 ms */
#define BUTTON_GRACE_MS 3000 /* SIGTERM to SIGKILL after a press */
#define BUTTON_WATCH_PRESSED 0 /* the watcher's exit status on a press */
#define BUTTON_WATCH_ABSENT 1 /* ... when the port is not vessel's button */

/* What the kernel command line asks for; the vectors are decoded blocks. */
struct init_cmd {
	char **argv; /* NULL: interactive shell */
	char **cwd; /* NULL or one entry */
	char **env; /* NULL or KEY=VALUE entries */
	bool raw; /* vessel.tty=0: no output translation, no echo */
	bool stdin_pipe; /* vessel.stdin=pipe: stdin from framed console input */
};

/* ---- messages and console ---- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on the console (fd 2), prefixed; errno is preserved. */
static void say(const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "vessel-init: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	if (write(2, line, strlen(line)) < 0) {
		/* nowhere else to report it */
	}
	errno = saved;
}

/*
 * Path of the console's real tty (the last of /sys/class/tty/console/active,
 * e.g. /dev/ttyS0): /dev/console itself cannot be a controlling terminal.
 */
static void console_path(char *buf, size_t size)
{
	char active[128] = "";
	char *last;
	FILE *f = fopen("/sys/class/tty/console/active", "re");

	snprintf(buf, size, "/dev/console");
	if (!f)
		return;
	if (fgets(active, sizeof(active), f)) {
		active[strcspn(active, "\n")] = '\0';
		last = strrchr(active, ' ');
		last = last ? last + 1 : active;
		if (*last)
			snprintf(buf, size, "/dev/%s", last);
	}
	fclose(f);
}

/* Makes fds 0-2 the console, whatever the kernel managed to open for us. */
static void console_attach(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* ---- mounts ---- */

static void mount_one(const char *src, const char *dir, const char *type, unsigned long flags,
		      const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		say("mount %s on %s: %s", type, dir, strerror(errno));
}

static void mount_all(void)
{
	const unsigned long nosuid = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	mount_one("proc", "/proc", "proc", nosuid, NULL);
	mount_one("sysfs", "/sys", "sysfs", nosuid, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "gid=5,mode=620,ptmxmode=666");
	mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("cgroup2", "/sys/fs/cgroup", "cgroup2", nosuid, NULL);
}

/* ---- modules ---- */

/* Loads one module file; a module already present (EEXIST) is fine. */
static void module_load(const char *dir, const char *rel)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say("module %s: %s", rel, strerror(errno));
		return;
	}
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		say("module %s: %s", rel, strerror(errno));
	close(fd);
}

/* Loads the modules in the order the kit recorded (dependencies first). */
static void modules_load_all(void)
{
	char dir[300], list[400], line[512];
	struct utsname u;
	FILE *f;

	if (uname(&u) < 0)
		return;
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	snprintf(list, sizeof(list), "%s/%s", dir, INIT_MODULES_LIST);
	f = fopen(list, "re");
	if (!f)
		return; /* a kit without modules: nothing to do */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] && line[0] != '#')
			module_load(dir, line);
	}
	fclose(f);
}

/* ---- network ---- */

/* lo up, then vessel.ip if given. Returns 0 or -EINVAL (said). */
static int net_setup(const char *cmdline)
{
	struct vs_guest_ip ip;
	const char *val, *what = "";
	size_t len = 0;
	int r;

	if ((r = vs_init_net_up("lo")) < 0)
		say("lo up: %s", strerror(-r));
	val = vs_guest_cmdline_find(cmdline, VS_GUEST_IP_KEY, &len);
	if (!val)
		return 0;
	if (vs_guest_ip_parse(val, len, &ip) < 0) {
		say("bad %s=%.*s (want IFACE,ADDR/PREFIX[,GATEWAY[,DNS]])", VS_GUEST_IP_KEY,
		    (int)len, val);
		return -EINVAL;
	}
	if ((r = vs_init_net_configure(&ip, &what)) < 0) {
		say("%s %s: %s", ip.ifname, what, strerror(-r));
		return -EINVAL;
	}
	return 0;
}

/* ---- the command ---- */

/* Reads /proc/cmdline into buf; an unreadable one reads as empty. */
static void cmdline_read(char *buf, size_t size)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/* Decodes one key's list into *out (left NULL when the key is absent). */
static int cmd_decode_key(const char *cmdline, const char *key, char ***out)
{
	size_t len = 0;
	const char *val = vs_guest_cmdline_find(cmdline, key, &len);
	int r;

	if (!val)
		return 0;
	r = vs_guest_list_decode(val, len, out);
	if (r < 0)
		say("cannot decode %s: %s", key, strerror(-r));
	return r;
}

/* vessel.tty: absent or 1 = a terminal, 0 = raw (byte-exact output). */
static int cmd_decode_tty(const char *cmdline, bool *raw)
{
	size_t len = 0;
	const char *val = vs_guest_cmdline_find(cmdline, VS_GUEST_TTY_KEY, &len);

	*raw = false;
	if (!val)
		return 0;
	if (len == 1 && (val[0] == '0' || val[0] == '1')) {
		*raw = val[0] == '0';
		return 0;
	}
	say("%s must be 0 or 1", VS_GUEST_TTY_KEY);
	return -EINVAL;
}

/* vessel.stdin: absent or "tty" = the console, "pipe" = framed input. */
static int cmd_decode_stdin(const char *cmdline, bool *pipe)
{
	size_t len = 0;
	const char *val = vs_guest_cmdline_find(cmdline, VS_GUEST_STDIN_KEY, &len);

	*pipe = false;
	if (!val || (len == 3 && !strncmp(val, "tty", 3)))
		return 0;
	if (len == 4 && !strncmp(val, "pipe", 4)) {
		*pipe = true;
		return 0;
	}
	say("%s must be tty or pipe", VS_GUEST_STDIN_KEY);
	return -EINVAL;
}

/* Fills c from the kernel command line. Returns 0 or -EINVAL (said). */
static int cmd_decode(const char *cmdline, struct init_cmd *c)
{
	if (cmd_decode_key(cmdline, VS_GUEST_CMD_KEY, &c->argv) < 0 ||
	    cmd_decode_key(cmdline, VS_GUEST_CWD_KEY, &c->cwd) < 0 ||
	    cmd_decode_key(cmdline, VS_GUEST_ENV_KEY, &c->env) < 0)
		return -EINVAL;
	if (c->argv && !c->argv[0]) {
		say("%s holds no command", VS_GUEST_CMD_KEY);
		return -EINVAL;
	}
	if (c->cwd && (!c->cwd[0] || c->cwd[1])) {
		say("%s must hold exactly one directory", VS_GUEST_CWD_KEY);
		return -EINVAL;
	}
	if (cmd_decode_stdin(cmdline, &c->stdin_pipe) < 0)
		return -EINVAL;
	return cmd_decode_tty(cmdline, &c->raw);
}

/*
 * Raw console for vessel.tty=0: no "\n" -> "\r\n" (OPOST) and no echo, so
 * what the command writes reaches the VMM byte for byte. ICANON stays, so
 * the VMM can still signal end of input with ^D.
 */
static void tty_make_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return;
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE);
	tcsetattr(fd, TCSANOW, &t);
}

/* In the session leader: own session, the console as controlling tty and stdio. */
static void child_console(const char *tty, bool raw)
{
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	fd = open(tty, O_RDWR);
	if (fd < 0)
		return; /* keep the fds inherited from init */
	ioctl(fd, TIOCSCTTY, 1);
	if (raw)
		tty_make_raw(fd);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* In the command's process: environment, directory, exec. Never returns. */
static void child_exec(const struct init_cmd *c)
{
	static char sh[] = "sh";
	char *const shell[] = { sh, NULL };
	char *const *argv = c->argv ? c->argv : shell;

	clearenv();
	setenv("PATH", INIT_PATH, 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "linux", 1);
	if (!c->argv)
		setenv("PS1", "\\h:\\w# ", 1);
	for (size_t i = 0; c->env && c->env[i]; i++)
		putenv(c->env[i]);
	if (chdir(c->cwd ? c->cwd[0] : "/root") < 0 && c->cwd) {
		say("cd %s: %s", c->cwd[0], strerror(errno));
		_exit(VS_GUEST_EXIT_INIT_ERROR);
	}
	if (c->argv)
		execvp(argv[0], argv);
	else
		execv("/bin/sh", argv);
	say("%s: %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? VS_GUEST_EXIT_NOT_FOUND : VS_GUEST_EXIT_NOT_EXEC);
}

/* ---- the session leader ---- */

/*
 * Signals the session leader ignores: the terminal's (the command's
 * foreground group gets them, not the leader), and SIGTERM from a power
 * button press, so that the leader outlives the command and reports it.
 */
static const int session_ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGTERM };

static void session_signals(void (*handler)(int))
{
	for (size_t i = 0; i < sizeof(session_ignored) / sizeof(session_ignored[0]); i++)
		signal(session_ignored[i], handler);
}

/*
 * Waits for the command; returns its shell-style status. A stopped command
 * is continued at once: there is no job control above it to do so (as when
 * it led the session itself and the kernel discarded the terminal's stop
 * signals for its orphaned process group).
 */
static int session_wait(pid_t pid)
{
	int st;

	for (;;) {
		if (waitpid(pid, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			say("wait: %s", strerror(errno));
			return VS_GUEST_EXIT_INIT_ERROR;
		}
		if (WIFSTOPPED(st)) {
			if (kill(-pid, SIGCONT) < 0)
				kill(pid, SIGCONT); /* it left its group */
			continue;
		}
		if (WIFSIGNALED(st))
			return VS_GUEST_EXIT_SIGNAL_BASE + WTERMSIG(st);
		return WEXITSTATUS(st);
	}
}

/*
 * In init's child: the session leader that owns the console as controlling
 * tty. It runs the command in a process group of its own, made the
 * terminal's foreground group (Ctrl-C and job control reach the command),
 * waits for it, drains the console and exits with the command's status.
 *
 * With vessel.stdin=pipe the command's stdin is the relay's pipe instead,
 * and the command stays in the leader's group, the foreground one: the
 * relay, in that group too, must read the console without SIGTTIN, and
 * nobody types signals on a console whose input is a file.
 *
 * The leader must outlive the command's output: when a session leader
 * exits, the kernel hangs its controlling tty up (disassociate_ctty), which
 * flushes what the UART driver has not yet written to the THR
 * (uart_flush_buffer) -- the command's last bytes, when the THR-empty
 * interrupt lags behind its exit. Never returns.
 */
static void __attribute__((noreturn)) session_lead(const struct init_cmd *c, const char *tty)
{
	pid_t pid, relay = -1;
	int status, in = -1;

	child_console(tty, c->raw);
	session_signals(SIG_IGN);
	if (c->stdin_pipe && (in = vs_init_stdin_relay_start(&relay)) < 0) {
		say("stdin: %s", strerror(-in));
		in = -1; /* the command reads the console */
	}
	pid = fork();
	if (pid == 0) {
		if (in >= 0) {
			dup2(in, STDIN_FILENO);
		} else {
			setpgid(0, 0);
			tcsetpgrp(STDIN_FILENO, getpid()); /* SIGTTOU is ignored still */
		}
		session_signals(SIG_DFL);
		child_exec(c);
	}
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		_exit(VS_GUEST_EXIT_INIT_ERROR);
	}
	if (in >= 0)
		close(in);
	else
		setpgid(pid, pid); /* as the child does: whichever runs first */
	status = session_wait(pid);
	if (relay > 0) {
		kill(relay, SIGKILL);
		waitpid(relay, NULL, 0);
	}
	tcdrain(STDOUT_FILENO);
	_exit(status);
}

/* ---- the power button ---- */

/*
 * In the watcher child: polls vessel's power button every BUTTON_POLL_NS and
 * exits BUTTON_WATCH_PRESSED once it reads as pressed (acknowledging it).
 * A port that reads with any bit but bit 0 set (0xff: nothing there) is not
 * vessel's button: exits BUTTON_WATCH_ABSENT at once. Never returns.
 */
static void __attribute__((noreturn)) button_watch(void)
{
	const struct timespec period = { 0, BUTTON_POLL_NS };
	unsigned char v;

	if (ioperm(VS_GUEST_BUTTON_PORT, 1, 1) < 0)
		_exit(BUTTON_WATCH_ABSENT);
	for (;;) {
		v = inb(VS_GUEST_BUTTON_PORT);
		if (v & (unsigned char)~VS_GUEST_BUTTON_PRESSED)
			_exit(BUTTON_WATCH_ABSENT);
		if (v == VS_GUEST_BUTTON_PRESSED) {
			outb(VS_GUEST_BUTTON_PRESSED, VS_GUEST_BUTTON_PORT);
			_exit(BUTTON_WATCH_PRESSED);
		}
		nanosleep(&period, NULL);
	}
}

/* Forks the watcher; returns its pid, or -1 (said) when it cannot. */
static pid_t button_watch_start(void)
{
	pid_t pid = fork();

	if (pid == 0)
		button_watch();
	if (pid < 0)
		say("power button: fork: %s", strerror(errno));
	return pid;
}

/*
 * The button was pressed: SIGTERM to every process, then up to
 * BUTTON_GRACE_MS for them to exit (an interactive shell ignores SIGTERM;
 * vm_finish's SIGKILL ends what is left). Returns the status to report: 0,
 * a clean shutdown asked by the host.
 */
static int button_shutdown(void)
{
	const struct timespec tick = { 0, 50000000L };

	say("power button pressed: stopping");
	kill(-1, SIGTERM);
	for (int ms = 0; ms < BUTTON_GRACE_MS; ms += 50) {
		pid_t got;

		while ((got = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (got < 0 && errno == ECHILD)
			break; /* all gone */
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* True when the watcher's wait status says the button was pressed. */
static bool button_was_pressed(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == BUTTON_WATCH_PRESSED;
}

/* ---- waiting ---- */

/*
 * Waits for pid, reaping any orphan on the way; returns its shell-style
 * status. When the watcher reports a press, shuts down instead.
 */
static int child_wait(pid_t pid, pid_t watcher)
{
	int st;

	for (;;) {
		pid_t got = wait(&st);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			say("wait: %s", strerror(errno));
			return VS_GUEST_EXIT_INIT_ERROR;
		}
		if (got == watcher && button_was_pressed(st))
			return button_shutdown();
		if (got != pid)
			continue;
		if (WIFSIGNALED(st))
			return VS_GUEST_EXIT_SIGNAL_BASE + WTERMSIG(st);
		return WEXITSTATUS(st);
	}
}

/* Runs the command (or the shell) on the console under its session leader,
 * with the power button watched meanwhile; returns its status. */
static int cmd_run(const struct init_cmd *c, const char *tty)
{
	pid_t pid = fork();

	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return VS_GUEST_EXIT_INIT_ERROR;
	}
	if (pid == 0)
		session_lead(c, tty);
	return child_wait(pid, button_watch_start());
}

/* ---- finishing ---- */

/*
 * Reports status through the exit device, then powers off. The console is
 * drained first so the command's last bytes leave the UART before the VMM
 * stops the VM. Never returns.
 */
static void __attribute__((noreturn)) vm_finish(int status, const char *tty)
{
	int fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	kill(-1, SIGKILL);
	sync();
	if (fd >= 0)
		tcdrain(fd);
	if (ioperm(VS_GUEST_EXIT_PORT, 1, 1) == 0)
		outb((unsigned char)status, VS_GUEST_EXIT_PORT);
	reboot(RB_POWER_OFF);
	say("power-off failed: %s", strerror(errno));
	for (;;)
		pause();
}

/* ---- main ---- */

/* Prints s as a JSON string (bytes >= 0x80 pass through: UTF-8 stays UTF-8). */
static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_list(const char *name, char **list, const char *sep)
{
	printf("\"%s\": ", name);
	if (!list) {
		printf("null%s", sep);
		return;
	}
	putchar('[');
	for (size_t i = 0; list[i]; i++) {
		if (i)
			printf(", ");
		json_str(list[i]);
	}
	printf("]%s", sep);
}

/* Prints the vessel.ip of cmdline as JSON (null when absent); -EINVAL if bad. */
static int json_ip(const char *cmdline)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN] = "", d[INET_ADDRSTRLEN] = "";
	const char *val;
	struct vs_guest_ip ip;
	size_t len = 0;

	val = vs_guest_cmdline_find(cmdline, VS_GUEST_IP_KEY, &len);
	if (!val) {
		printf("\"ip\": null");
		return 0;
	}
	if (vs_guest_ip_parse(val, len, &ip) < 0) {
		say("bad %s=%.*s", VS_GUEST_IP_KEY, (int)len, val);
		return -EINVAL;
	}
	inet_ntop(AF_INET, &ip.addr, a, sizeof(a));
	if (ip.has_gateway)
		inet_ntop(AF_INET, &ip.gateway, g, sizeof(g));
	if (ip.has_dns)
		inet_ntop(AF_INET, &ip.dns, d, sizeof(d));
	printf("\"ip\": {\"ifname\": \"%s\", \"addr\": \"%s/%u\", \"gateway\": \"%s\", "
	       "\"dns\": \"%s\"}",
	       ip.ifname, a, ip.prefix, g, d);
	return 0;
}

/* Host mode: `--decode-cmdline TEXT` prints the decoded command as JSON. */
static int host_main(int argc, char **argv)
{
	struct init_cmd c = { 0 };
	int r;

	if (argc != 3 || strcmp(argv[1], "--decode-cmdline")) {
		fprintf(stderr, "usage: vessel-init --decode-cmdline 'KERNEL CMDLINE'\n"
				"(as PID 1, vessel-init boots the guest kit)\n");
		return 2;
	}
	if (cmd_decode(argv[2], &c) < 0)
		return VS_GUEST_EXIT_INIT_ERROR;
	putchar('{');
	json_list("argv", c.argv, ", ");
	json_list("cwd", c.cwd, ", ");
	json_list("env", c.env, ", ");
	printf("\"tty\": %s, ", c.raw ? "false" : "true");
	printf("\"stdin\": \"%s\", ", c.stdin_pipe ? "pipe" : "tty");
	r = json_ip(argv[2]);
	printf("}\n");
	free(c.argv);
	free(c.cwd);
	free(c.env);
	return r < 0 ? VS_GUEST_EXIT_INIT_ERROR : 0;
}

int main(int argc, char **argv)
{
	static char cmdline[INIT_CMDLINE_MAX];
	struct init_cmd c = { 0 };
	char tty[64];

	if (getpid() != 1)
		return host_main(argc, argv);
	mount_all();
	console_attach("/dev/console");
	console_path(tty, sizeof(tty));
	umask(022);
	modules_load_all();
	if (sethostname(INIT_HOSTNAME, strlen(INIT_HOSTNAME)) < 0)
		say("hostname: %s", strerror(errno));
	cmdline_read(cmdline, sizeof(cmdline));
	if (net_setup(cmdline) < 0 || cmd_decode(cmdline, &c) < 0)
		vm_finish(VS_GUEST_EXIT_INIT_ERROR, tty);
	vm_finish(cmd_run(&c, tty), tty);
}
