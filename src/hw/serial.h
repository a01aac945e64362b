/* 8250/16550A UART (the PC's COM1 at 0x3F8, IRQ 4): transmit goes to an
 * output fd, receive comes from vs_serial_input(), interrupts through a
 * vs_irq_line. Thread-safe: vCPU threads and the console thread share it. */
#ifndef VS_HW_SERIAL_H
#define VS_HW_SERIAL_H

#include "hw/irq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_SERIAL_COM1_BASE 0x3f8
#define VS_SERIAL_COM1_IRQ 4
#define VS_SERIAL_NREGS 8

struct vs_serial;
struct vs_iobus;

/* out_fd receives every transmitted byte (not owned). Returns 0 or -errno. */
int vs_serial_new(int out_fd, const struct vs_irq_line *irq, struct vs_serial **out);
void vs_serial_free(struct vs_serial *s);

/* Registers the 8 ports at base on the port-I/O bus. */
int vs_serial_attach(struct vs_serial *s, struct vs_iobus *pio, uint16_t base);

/* Queues received bytes; returns how many fit in the receive FIFO. */
size_t vs_serial_input(struct vs_serial *s, const uint8_t *buf, size_t len);

/* fd (an eventfd, not owned; -1: none) gets a count added whenever input
 * may move on: the guest emptied the receive FIFO, or changed OUT1 or RTS. The
 * feeder then calls vs_serial_input() again at once instead of polling. */
void vs_serial_set_notify(struct vs_serial *s, int fd);

/* True while the guest drives the OUT1 modem-control output (MCR bit 2,
 * outside loopback). The pin goes nowhere on a PC, so software may give it
 * a meaning: vessel's guest-kit init raises it once its framed stdin reader
 * is ready (guest/init/cmdline-abi.h, vessel.stdin=pipe). */
bool vs_serial_out1(struct vs_serial *s);

/* True while the guest asserts RTS (MCR bit 1, outside loopback). With
 * hardware flow control on (CRTSCTS), Linux drops it while the tty's input
 * buffer is full (serial_core's uart_throttle): input sent then is lost. It
 * is not checked by vs_serial_input(): a guest that never asserts RTS would
 * get no input at all. */
bool vs_serial_rts(struct vs_serial *s);

/* Number of bytes the guest has transmitted so far (for tests/stats). */
uint64_t vs_serial_tx_count(struct vs_serial *s);

#endif
