/* 8250/16550A UART model.
 *
 * Transmission completes instantly: a THR write goes straight to the output
 * fd and the transmitter is empty again, so THRE/TEMT always read as set and
 * a THR-empty interrupt is pending after every write (16550 datasheet,
 * "IIR"). The receive side is a 16-byte FIFO fed by the console thread. The
 * IRQ line follows the "interrupt pending" state; the IOAPIC/PIC pins are
 * edge-triggered for ISA, so each 0→1 transition is one interrupt. */
#include "hw/serial.h"
#include "hw/iobus.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

enum {
	REG_RBR_THR = 0, /* DLL when DLAB */
	REG_IER = 1, /* DLM when DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI 0x01 /* receive data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08 /* modem status */

#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define MCR_OUT1 0x04
#define MCR_RTS 0x02

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCD 0x80
#define MSR_DSR 0x20
#define MSR_CTS 0x10

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define RX_FIFO_SIZE 16

struct vs_serial {
	pthread_mutex_t lock;
	int out_fd;
	struct vs_irq_line irq;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending; /* THR-empty interrupt latched until IIR read or THR write */
	int irq_level;
	uint8_t rx[RX_FIFO_SIZE];
	unsigned rx_head, rx_len;
	uint64_t tx_count;
	int notify_fd; /* eventfd written when input may move on, or -1 */
};

int vs_serial_new(int out_fd, const struct vs_irq_line *irq, struct vs_serial **out)
{
	struct vs_serial *s = xzalloc(sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->irq = *irq;
	s->dll = 0x0c; /* 9600 baud, as firmware would leave it */
	s->notify_fd = -1;
	*out = s;
	return 0;
}

void vs_serial_free(struct vs_serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Caller holds the lock. */
static uint8_t pending_iir(const struct vs_serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

static void update_irq(struct vs_serial *s)
{
	int level = pending_iir(s) != IIR_NO_INT;

	if (level != s->irq_level) {
		s->irq_level = level;
		vs_irq_set(&s->irq, level);
	}
}

/* Tells the input side to go on (vs_serial_set_notify). Caller holds the lock. */
static void notify(struct vs_serial *s)
{
	uint64_t one = 1;

	if (s->notify_fd >= 0 && write(s->notify_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the reader is due anyway */
	}
}

static void transmit(struct vs_serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		if (s->rx_len < RX_FIFO_SIZE)
			s->rx[(s->rx_head + s->rx_len++) % RX_FIFO_SIZE] = c;
	} else {
		/* Best effort: a closed stdout must not stop the guest. */
		while (write(s->out_fd, &c, 1) < 0 && errno == EINTR)
			;
	}
	s->tx_count++;
	s->thri_pending = true;
}

static uint8_t read_reg(struct vs_serial *s, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_len)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
		if (--s->rx_len == 0)
			notify(s);
		return v;
	case REG_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case REG_IIR_FCR:
		v = pending_iir(s);
		if (v == IIR_THRI)
			s->thri_pending = false;
		return v | ((s->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case REG_MSR:
		if (s->mcr & MCR_LOOP)
			return (uint8_t)((s->mcr & 0x0c) << 4 | (s->mcr & 0x03) << 4);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return s->scr;
	}
}

static void write_reg(struct vs_serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with the transmitter empty raises it at once. */
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_len = 0;
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		if ((s->mcr ^ v) & (MCR_OUT1 | MCR_RTS | MCR_LOOP))
			notify(s); /* vs_serial_out1() or _rts() may have changed */
		s->mcr = v & 0x1f;
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		break; /* LSR/MSR are read-only */
	}
}

static void serial_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_serial *s = opaque;
	uint8_t *d = data;

	memset(data, 0, len);
	pthread_mutex_lock(&s->lock);
	d[0] = read_reg(s, off);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_serial *s = opaque;

	(void)len;
	pthread_mutex_lock(&s->lock);
	write_reg(s, off, *(const uint8_t *)data);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct vs_io_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

int vs_serial_attach(struct vs_serial *s, struct vs_iobus *pio, uint16_t base)
{
	return vs_iobus_register(pio, base, VS_SERIAL_NREGS, &serial_ops, s);
}

size_t vs_serial_input(struct vs_serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_len < RX_FIFO_SIZE) {
		s->rx[(s->rx_head + s->rx_len++) % RX_FIFO_SIZE] = buf[n++];
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void vs_serial_set_notify(struct vs_serial *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	s->notify_fd = fd;
	pthread_mutex_unlock(&s->lock);
}

bool vs_serial_out1(struct vs_serial *s)
{
	bool on;

	pthread_mutex_lock(&s->lock);
	on = (s->mcr & (MCR_OUT1 | MCR_LOOP)) == MCR_OUT1;
	pthread_mutex_unlock(&s->lock);
	return on;
}

bool vs_serial_rts(struct vs_serial *s)
{
	bool on;

	pthread_mutex_lock(&s->lock);
	on = (s->mcr & (MCR_RTS | MCR_LOOP)) == MCR_RTS;
	pthread_mutex_unlock(&s->lock);
	return on;
}

uint64_t vs_serial_tx_count(struct vs_serial *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->tx_count;
	pthread_mutex_unlock(&s->lock);
	return n;
}
