/* The I/O of a container's monitor (ctr-monitor.c): the container's
 * output (two pipes, or the master of its pty) copied to ctr.log, to a
 * foreground CLI and to attached clients; attached clients' input and
 * window sizes passed to the pty. It depends on libc only: the small
 * vessel-ctr-mon binary (the monitor's idle phase) links it too.
 *
 * ctr.log holds one record a line, in the CRI's log format:
 *   2026-12-07T04:55:01.123456789Z stdout F text
 * F: the text ended a line; P: a partial line (the record's newline is
 * framing only). A record that would take the file past log_max goes to a
 * fresh file, the old one renamed to ctr.log.1.
 *
 * Attach protocol (SOCK_SEQPACKET, client to monitor): a packet is
 * VS_MON_IN + input bytes, or VS_MON_WINSZ + struct winsize. Monitor to
 * client: each packet is output; EOF once the monitor is done. */
#ifndef VS_SVC_CTR_MON_IO_H
#define VS_SVC_CTR_MON_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_MON_MAX_CLIENTS 16
#define VS_MON_IN 'i'
#define VS_MON_WINSZ 'w'
#define VS_MON_PKT_MAX 4096
#define VS_CTR_ATTACH_SOCK "attach.sock"

struct vs_mon_io {
	int out, err; /* read ends of the container's stdout/stderr, or -1; with a tty,
		       * out is the pty's master (non-blocking) and err is -1 */
	bool tty;
	int tee_out, tee_err; /* a foreground CLI's stdout/stderr (no tty), or -1 */
	int listen; /* the attach socket (tty), or -1 */
	int clients[VS_MON_MAX_CLIENTS]; /* attached clients, -1: free */
	int log_fd;
	const char *log_path;
	uint64_t log_size, log_max;
	unsigned short ws_row, ws_col; /* the last window size a client sent */
	char *lbuf; /* log records not yet written (malloc'd on first use) */
	size_t lbuf_len;
};

/* Sets every fd to -1 (none open). */
void vs_mon_io_init(struct vs_mon_io *io);

/* Adds a connected attach client (a foreground `run -t`'s socket); false
 * when every slot is taken (fd then closed). */
bool vs_mon_io_add_client(struct vs_mon_io *io, int fd);

/* Takes a window size the client on fd sent before the start (a
 * foreground `run -t`'s), if there is one, for the pty to come. */
void vs_mon_io_early_winsize(struct vs_mon_io *io, int fd);

/* Copies until the container's output is closed (both pipes at EOF, or the
 * pty's master hung up); out and err are closed and -1 then. Clients stay. */
void vs_mon_io_pump(struct vs_mon_io *io);

/* The same, but returns at deadline_ms (vs_mon_io_now_ms's clock) at the
 * latest: true when the output was closed by then. */
bool vs_mon_io_pump_until(struct vs_mon_io *io, int64_t deadline_ms);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t vs_mon_io_now_ms(void);

/* Makes master (a pty's) the output and input, non-blocking, with the last
 * window size a client sent (a restarted container's new pty). */
void vs_mon_io_set_master(struct vs_mon_io *io, int master);

/* Closes every client: they see EOF. */
void vs_mon_io_close_clients(struct vs_mon_io *io);

/* Opens (appending) and sizes the log at io->log_path; -errno. */
int vs_mon_io_open_log(struct vs_mon_io *io);

/* The fds and numbers of io (all but log_path) as one string, for the
 * exec between the monitor's phases (ctr-monitor.c, ctr-mon-main.c), and
 * back; decode returns -EINVAL on a malformed string. */
#define VS_MON_IO_STR_MAX 512
void vs_mon_io_encode(const struct vs_mon_io *io, char *buf, size_t size);
int vs_mon_io_decode(struct vs_mon_io *io, const char *s);

/* Sets or clears FD_CLOEXEC on every fd io holds (clear: they survive an exec). */
void vs_mon_io_cloexec(const struct vs_mon_io *io, bool on);

/* The idle phase's binary, next to vessel's, and the hidden verb that
 * brings a monitor back into vessel when its container has ended. */
#define VS_MON_IDLE_EXE "vessel-ctr-mon"
#define VS_MON_RESUME_VERB "__ctr-monitor-resume"

#endif
