/* The relay of framed stdin (stdin-relay.h). */
#include "stdin-relay.h"
#include "stdin-frame.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* The 8250's OUT1 modem-control output for TIOCMBIS: the kernel's
 * asm-generic/termios.h value, which glibc's headers do not carry. */
#define RELAY_TIOCM_OUT1 0x2000
#define RELAY_BUF 4096 /* bytes read from the console at once */

/*
 * Raw console input for vessel.stdin=pipe: each byte the VMM sends reaches
 * the reader as sent -- no line editing, no signal, flow-control or
 * CR/LF mapping, no echo. Output processing stays as vessel.tty set it.
 * CRTSCTS: the UART drops RTS while the tty's buffer is full, and the VMM
 * waits (a command reading slower than its input would lose bytes).
 */
static void tty_input_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | IGNPAR | PARMRK | INPCK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON | IXOFF | IXANY | IMAXBEL | IUTF8);
	t.c_lflag &= ~(tcflag_t)(ICANON | ISIG | IEXTEN | ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL |
				 ECHOKE);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8 | CREAD | CRTSCTS;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(fd, TCSANOW, &t);
}

/* Writes all of buf to fd; false once the reader has gone. */
static bool write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * In the relay child: raises OUT1, then reads framed input from the console
 * (fd 0, raw) and writes its data to out, the command's stdin. Exits at the
 * end marker, which closes that stdin, or once the command has closed it.
 * Without OUT1 the VMM would send nothing: the relay exits at once, and the
 * command reads an empty stdin rather than waiting forever. Never returns.
 */
static void __attribute__((noreturn)) relay_run(int out)
{
	const int out1 = RELAY_TIOCM_OUT1;
	unsigned char in[RELAY_BUF], data[RELAY_BUF];
	struct vs_guest_stdin_decoder d = { 0 };

	signal(SIGPIPE, SIG_IGN);
	if (ioctl(STDIN_FILENO, TIOCMBIS, &out1) < 0) {
		dprintf(STDERR_FILENO, "vessel-init: stdin: cannot raise the console's OUT1: %s\n",
			strerror(errno));
		_exit(1);
	}
	while (!d.end) {
		ssize_t n = read(STDIN_FILENO, in, sizeof(in));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!write_all(out, data, vs_guest_stdin_decode(&d, in, (size_t)n, data)))
			break;
	}
	_exit(0);
}

int vs_init_stdin_relay_start(pid_t *relay)
{
	int p[2], e;

	tty_input_raw(STDIN_FILENO);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*relay = fork();
	if (*relay == 0) {
		close(p[0]);
		relay_run(p[1]);
	}
	e = errno;
	close(p[1]);
	if (*relay < 0) {
		close(p[0]);
		return -e;
	}
	return p[0];
}
