/* 8250/16550A UART (the PC's COM1 at 0x3F8, IRQ 4): transmit goes to an
 * output fd, receive comes from vs_serial_input(), interrupts through a
 * vs_irq_line. Thread-safe: vCPU threads and the console thread share it. */
#ifndef VS_HW_SERIAL_H
#define VS_HW_SERIAL_H

#include "hw/irq.h"

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

/* Number of bytes the guest has transmitted so far (for tests/stats). */
uint64_t vs_serial_tx_count(struct vs_serial *s);

#endif
