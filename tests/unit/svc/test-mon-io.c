/* Unit tests for svc/ctr-mon-io: the log's records (F and P, stdout and
 * stderr, one file past log_max rotated to .1, nothing lost or split), the
 * attach protocol on a real pty (input, window size, output to clients,
 * the end when the slave closes), and the encoding that carries the state
 * across the monitor's execs. */
#include "svc/ctr-mon-io.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[] = "/tmp/vessel-test-mon-io-XXXXXX";
static char log_path[128], old_path[140];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/ctr.log", dir);
	snprintf(old_path, sizeof(old_path), "%s.1", log_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(log_path);
	unlink(old_path);
	rmdir(dir);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The text of a log (records "TIME STREAM F|P TEXT") as `logs` prints it,
 * checking every record's form; stream: "stdout" or "stderr". */
static void unrecord(const char *log, const char *stream, char *out)
{
	for (const char *l = log; *l;) {
		const char *nl = strchr(l, '\n'), *sp1 = strchr(l, ' ');
		const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		char ts[64], st[8], tag;
		int n;

		assert_true(nl && sp2 && sp2 + 3 <= nl && sp2[2] == ' ');
		assert_int_equal(sscanf(l, "%63s %7s %c", ts, st, &tag), 3);
		n = (int)(sp2 + 3 - l);
		assert_int_equal(strlen(ts), 30); /* 2026-12-07T04:55:01.123456789Z */
		assert_true(ts[10] == 'T' && ts[29] == 'Z' && (tag == 'F' || tag == 'P'));
		if (!strcmp(st, stream)) {
			strncat(out, l + n, (size_t)(nl - l - n));
			if (tag == 'F')
				strcat(out, "\n");
		}
		l = nl + 1;
	}
}

static void write_all(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_records(void **state)
{
	struct vs_mon_io io;
	int o[2], e[2];
	char *log, text[256] = "";

	(void)state;
	vs_mon_io_init(&io);
	io.log_path = log_path;
	io.log_max = 1 << 20;
	assert_int_equal(vs_mon_io_open_log(&io), 0);
	assert_int_equal(pipe(o), 0);
	assert_int_equal(pipe(e), 0);
	write_all(o[1], "one\ntw");
	write_all(e[1], "err\n");
	write_all(o[1], "o\n\nlast");
	close(o[1]);
	close(e[1]);
	io.out = o[0];
	io.err = e[0];
	vs_mon_io_pump(&io);
	assert_int_equal(io.out, -1);
	assert_int_equal(io.err, -1);
	log = slurp(log_path);
	unrecord(log, "stdout", text);
	assert_string_equal(text, "one\ntwo\n\nlast");
	text[0] = 0;
	unrecord(log, "stderr", text);
	assert_string_equal(text, "err\n");
	free(log);
	close(io.log_fd);
}

static void test_rotation(void **state)
{
	struct vs_mon_io io;
	char line[32], *all = calloc(1, 1 << 16), *got = calloc(1, 1 << 16), *a, *b;
	struct stat st;
	int o[2];

	(void)state;
	unlink(log_path);
	vs_mon_io_init(&io);
	io.log_path = log_path;
	io.log_max = 1000;
	assert_int_equal(vs_mon_io_open_log(&io), 0);
	assert_int_equal(pipe(o), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		strcat(all, line);
	}
	write_all(o[1], all);
	close(o[1]);
	io.out = o[0];
	vs_mon_io_pump(&io);
	close(io.log_fd);
	assert_int_equal(stat(log_path, &st), 0);
	assert_true(st.st_size <= 1000);
	assert_int_equal(stat(old_path, &st), 0);
	assert_true(st.st_size <= 1000 && st.st_size > 1000 - 60); /* full when rotated */
	a = slurp(old_path);
	b = slurp(log_path);
	unrecord(a, "stdout", got);
	unrecord(b, "stdout", got);
	/* the newest lines, whole, the oldest rotated away */
	assert_true(strlen(got) > 0 && strlen(got) < strlen(all));
	assert_string_equal(all + strlen(all) - strlen(got), got);
	assert_true(got[0] == 'l');
	free(a);
	free(b);
	free(all);
	free(got);
}

/* The container's side: reads 5 bytes of input, answers with its window
 * size and them, exits (closing the slave: the master hangs up). */
static void container(int slave)
{
	struct winsize ws = { 0 };
	char in[6] = "", msg[64];
	size_t n = 0;

	while (n < 5) {
		ssize_t r = read(slave, in + n, 5 - n);

		if (r <= 0)
			_exit(1);
		n += (size_t)r;
	}
	ioctl(slave, TIOCGWINSZ, &ws);
	snprintf(msg, sizeof(msg), "%ux%u got %s\n", ws.ws_row, ws.ws_col, in);
	_exit(write(slave, msg, strlen(msg)) > 0 ? 0 : 1);
}

static void test_attach_on_a_pty(void **state)
{
	struct vs_mon_io io;
	struct winsize ws = { .ws_row = 41, .ws_col = 97 };
	char pkt[1 + sizeof(ws)] = { VS_MON_WINSZ }, out[64] = "";
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave, sv[2];
	struct termios t;
	pid_t pid;

	(void)state;
	unlink(log_path);
	assert_true(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	tcgetattr(slave, &t);
	cfmakeraw(&t);
	tcsetattr(slave, TCSANOW, &t);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	vs_mon_io_init(&io);
	io.tty = true;
	io.log_path = log_path;
	io.log_max = 1 << 20;
	assert_int_equal(vs_mon_io_open_log(&io), 0);
	memcpy(pkt + 1, &ws, sizeof(ws));
	/* sent before the pty exists: taken early, applied by set_master */
	assert_int_equal(send(sv[0], pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	vs_mon_io_early_winsize(&io, sv[1]);
	assert_true(vs_mon_io_add_client(&io, sv[1]));
	vs_mon_io_set_master(&io, master);
	assert_int_equal(send(sv[0], "ihel", 4, 0), 4);
	assert_int_equal(send(sv[0], "ilo", 3, 0), 3);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		container(slave);
	close(slave);
	vs_mon_io_pump(&io); /* until the container closed its side */
	assert_int_equal(io.out, -1);
	assert_true(recv(sv[0], out, sizeof(out) - 1, MSG_DONTWAIT) > 0);
	assert_string_equal(out, "41x97 got hello\n");
	waitpid(pid, NULL, 0);
	vs_mon_io_close_clients(&io);
	assert_int_equal(recv(sv[0], out, sizeof(out), 0), 0); /* EOF */
	close(sv[0]);
	close(io.log_fd);
	out[0] = 0;
	{
		char *log = slurp(log_path);

		unrecord(log, "stdout", out);
		free(log);
	}
	assert_string_equal(out, "41x97 got hello\n");
}

static void test_encode_decode(void **state)
{
	struct vs_mon_io a, b;
	char s[VS_MON_IO_STR_MAX];

	(void)state;
	vs_mon_io_init(&a);
	vs_mon_io_init(&b);
	a = (struct vs_mon_io){ .out = 12,
				.err = 14,
				.tty = false,
				.tee_out = 5,
				.tee_err = 6,
				.listen = 9,
				.log_fd = -1,
				.log_max = 1ULL << 33,
				.ws_row = 7,
				.ws_col = 300 };
	for (int i = 0; i < VS_MON_MAX_CLIENTS; i++)
		a.clients[i] = i == 2 ? 20 : i == 5 ? 21 : -1;
	vs_mon_io_encode(&a, s, sizeof(s));
	assert_int_equal(vs_mon_io_decode(&b, s), 0);
	assert_int_equal(b.out, 12);
	assert_int_equal(b.err, 14);
	assert_int_equal(b.tee_out, 5);
	assert_int_equal(b.listen, 9);
	assert_true(b.log_max == 1ULL << 33 && b.ws_row == 7 && b.ws_col == 300 && !b.tty);
	assert_int_equal(b.clients[0], 20);
	assert_int_equal(b.clients[1], 21);
	assert_int_equal(b.clients[2], -1);
	assert_int_equal(vs_mon_io_decode(&b, "1,2,3"), -EINVAL);
	assert_int_equal(vs_mon_io_decode(&b, "1,2,0,3,4,5,6,7,8,9,x"), -EINVAL);
	assert_int_equal(vs_mon_io_decode(&b, "1,2,0,3,4,5,6,7,8,9junk"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_attach_on_a_pty),
		cmocka_unit_test(test_encode_decode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
