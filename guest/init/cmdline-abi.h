/*
 * The guest command-line ABI between the VMM (`vessel vm run -- CMD`) and the
 * default guest kit's init (guest/init/init.c). Documented in guest/README.md.
 *
 * The VMM appends fragments `KEY=VALUE` to the kernel command line. Each VALUE
 * is the base64url encoding (RFC 4648 §5: A-Z a-z 0-9 '-' '_', no '=' padding)
 * of a list of strings, each string followed by one NUL byte:
 *
 *   vessel.cmd=  argv of the command to run, argv[0] first (at least one entry)
 *   vessel.cwd=  the working directory (exactly one entry); optional
 *   vessel.env=  KEY=VALUE entries added to the command's environment; optional
 *
 * One more key is plain text (no list, nothing to quote):
 *
 *   vessel.ip=   IFACE,ADDR/PREFIX[,GATEWAY[,DNS]] (IPv4): the init brings
 *                IFACE up with that address, adds a default route via
 *                GATEWAY and writes DNS to /etc/resolv.conf; optional
 *   vessel.tty=  1 (default): the console is a terminal ("\n" leaves as
 *                "\r\n", input echoes); 0: raw, the command's output leaves
 *                byte for byte and input is not echoed (for a VMM whose own
 *                stdout is not a terminal)
 *   vessel.stdin= tty (default): the command's stdin is the console, as
 *                typed; pipe: the VMM's stdin is a pipe or file, so the
 *                command's stdin is a pipe, fed by the init from framed
 *                console input (below), that ends where the VMM's stdin did
 *
 * Framed console input (vessel.stdin=pipe): the init puts the console in
 * raw mode (no line editing, signals, echo, CR/LF or flow-control bytes)
 * and then raises the UART's OUT1 modem-control output; the VMM sends
 * nothing before that, so no byte meets a console still in cooked mode.
 * Every data byte is sent as is except VS_GUEST_STDIN_ESC, which is sent
 * twice; VS_GUEST_STDIN_ESC followed by VS_GUEST_STDIN_EOF is the end of
 * stdin (any other byte after the escape is reserved and dropped). All 256
 * byte values pass, and the end needs no newline before it.
 *
 * The alphabet needs no quoting on the kernel command line, and the dotted keys
 * make the kernel treat them as (unknown) module parameters, so they never
 * leak into init's argv or environment. A key given twice: the last one wins.
 *
 * The init reports the command's exit status as one byte written to
 * VS_GUEST_EXIT_PORT (the VMM's exit device; QEMU's isa-debug-exit there
 * exits with (status << 1) | 1).
 */
#ifndef VS_GUEST_CMDLINE_ABI_H
#define VS_GUEST_CMDLINE_ABI_H

#define VS_GUEST_CMD_KEY "vessel.cmd"
#define VS_GUEST_CWD_KEY "vessel.cwd"
#define VS_GUEST_ENV_KEY "vessel.env"
#define VS_GUEST_IP_KEY "vessel.ip"
#define VS_GUEST_TTY_KEY "vessel.tty"
#define VS_GUEST_STDIN_KEY "vessel.stdin"

#define VS_GUEST_STDIN_ESC 0xff /* framed input: escape, or with a second one 0xff */
#define VS_GUEST_STDIN_EOF 0x04 /* framed input, after the escape: end of stdin */

/* x86 COMMAND_LINE_SIZE of Debian's kernel: a fragment never reaches it. */
#define VS_GUEST_CMDLINE_SIZE 2048

/* I/O port of the exit device: one byte written there ends the VM with it. */
#define VS_GUEST_EXIT_PORT 0x501

/* vessel's power button (src/hw/button.h, named VMs): bit 0 reads 1 once
 * `vessel vm stop` asked the guest to power off; writing 1 acknowledges. A
 * VMM without it leaves the port unmapped: it reads 0xff. */
#define VS_GUEST_BUTTON_PORT 0x504
#define VS_GUEST_BUTTON_PRESSED 0x01

/* Statuses the init reports besides the command's own (shell conventions). */
#define VS_GUEST_EXIT_INIT_ERROR 125 /* init could not set up or decode the command */
#define VS_GUEST_EXIT_NOT_EXEC 126 /* the command exists but could not be run */
#define VS_GUEST_EXIT_NOT_FOUND 127 /* the command was not found */
#define VS_GUEST_EXIT_SIGNAL_BASE 128 /* killed by signal N: 128 + N */

#endif /* VS_GUEST_CMDLINE_ABI_H */
