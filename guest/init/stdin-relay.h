/* vessel.stdin=pipe for vessel-init: the command's stdin is a pipe fed by a
 * relay child from framed console input (cmdline-abi.h, guest/README.md
 * "Framed stdin"). */
#ifndef VS_GUEST_STDIN_RELAY_H
#define VS_GUEST_STDIN_RELAY_H

#include <sys/types.h>

/*
 * In the session leader, whose fds 0-2 are the console and its controlling
 * tty: makes the console's input raw and forks the relay, which raises the
 * UART's OUT1 (the VMM sends from then on) and copies the decoded input
 * into the pipe until the end marker (or until the command closes its
 * end). Returns the pipe's read end (close-on-exec), for the command's
 * stdin, with the relay's pid in *relay; or -errno.
 */
int vs_init_stdin_relay_start(pid_t *relay);

#endif /* VS_GUEST_STDIN_RELAY_H */
