/* vessel-ctr-mon: the idle phase of a container's monitor (ctr-monitor.c).
 * Once the container has run for a second, the monitor (vessel, with
 * SQLite, jansson and the rest mapped: ~5 MiB resident) execs this small
 * static binary, which
 * keeps the monitor's pid (so the container's init stays its child), its
 * lock, its status pipe and the container's stdio, and does only what an
 * idle monitor does: copy the output to the log and the attached clients
 * (ctr-mon-io.c) and wait for the init. Then it execs vessel again (the
 * hidden verb VS_MON_RESUME_VERB) with the init's wait status, to record
 * the end or restart the container.
 *
 * argv: VESSEL ROOT ID LOG_PATH IO INIT RESTARTS DELAY_MS RUN_START_MS
 * (IO: vs_mon_io_encode). Not for people: one line and 2 otherwise. */
#include "svc/ctr-mon-io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	ARG_VESSEL = 1,
	ARG_ROOT,
	ARG_ID,
	ARG_LOG,
	ARG_IO,
	ARG_INIT,
	ARG_RESTARTS,
	ARG_DELAY,
	ARG_START,
	N_ARGS
};

int main(int argc, char **argv)
{
	struct vs_mon_io io;
	char status[16], enc[VS_MON_IO_STR_MAX];
	pid_t init;
	int ws = 0;

	vs_mon_io_init(&io);
	if (argc != N_ARGS || vs_mon_io_decode(&io, argv[ARG_IO]) < 0 ||
	    (init = (pid_t)atoi(argv[ARG_INIT])) <= 0) {
		fprintf(stderr, "vessel-ctr-mon: only vessel's container monitor runs this\n");
		return 2;
	}
	prctl(PR_SET_NAME, "vessel-ctr-mon");
	io.log_path = argv[ARG_LOG];
	vs_mon_io_pump(&io);
	while (waitpid(init, &ws, 0) < 0 && errno == EINTR)
		;
	snprintf(status, sizeof(status), "%d", ws);
	vs_mon_io_encode(&io, enc, sizeof(enc)); /* a rotation changed the log's fd */
	vs_mon_io_cloexec(&io, false);
	char *args[] = { argv[ARG_VESSEL],
			 (char *)VS_MON_RESUME_VERB,
			 argv[ARG_ROOT],
			 argv[ARG_ID],
			 argv[ARG_LOG],
			 enc,
			 status,
			 argv[ARG_RESTARTS],
			 argv[ARG_DELAY],
			 argv[ARG_START],
			 NULL };
	execv(argv[ARG_VESSEL], args);
	/* nobody records the end: our lock goes with us, and the next look at
	 * the container records it exited ("monitor died") */
	fprintf(stderr, "vessel-ctr-mon: cannot exec %s: %m\n", argv[ARG_VESSEL]);
	return 1;
}
