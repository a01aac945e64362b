/* The VM's console on the VMM's terminal: stdin in raw mode (when it is a
 * terminal), input forwarded to the serial port, Ctrl-A x to quit, Ctrl-A
 * Ctrl-A for a literal Ctrl-A. The terminal is restored on every exit path,
 * including fatal signals. */
#ifndef VS_VMM_CONSOLE_H
#define VS_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define VS_CONSOLE_QUIT 'x'

struct vs_console {
	int fd; /* input fd, usually 0 */
	bool raw; /* we put the terminal in raw mode */
	bool escape; /* saw Ctrl-A, waiting for the next byte */
	bool eof;
};

/* Takes over fd (raw mode if it is a terminal). Returns 0 or -errno. */
int vs_console_open(struct vs_console *c, int fd);

/* Restores the terminal. Idempotent and async-signal-safe. */
void vs_console_restore(struct vs_console *c);

/* Filters raw input in place: handles the escape sequence and returns the
 * number of bytes to forward; sets *quit when Ctrl-A x was typed. */
size_t vs_console_filter(struct vs_console *c, uint8_t *buf, size_t len, bool *quit);

#endif
