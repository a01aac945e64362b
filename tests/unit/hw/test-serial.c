/* Unit tests for the 8250 model: transmit to the fd, THR-empty interrupt
 * semantics (what the test guest's irq test and Linux's 8250 driver rely
 * on), receive FIFO and RDI, divisor latch, loopback, the OUT1/RTS outputs
 * and the input notification that framed stdin relies on. */
#include "hw/iobus.h"
#include "hw/serial.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

struct irq_log {
	int level;
	int rises;
};

static void set_level(void *ctx, unsigned gsi, int level)
{
	struct irq_log *l = ctx;

	assert_int_equal(gsi, 4);
	if (level && !l->level)
		l->rises++;
	l->level = level;
}

struct fixture {
	int pipe[2];
	struct irq_log irq;
	struct vs_iobus bus;
	struct vs_serial *s;
};

static void out(struct fixture *f, unsigned reg, uint8_t v)
{
	assert_true(vs_iobus_access(&f->bus, 0x3f8 + reg, true, &v, 1));
}

static uint8_t in(struct fixture *f, unsigned reg)
{
	uint8_t v;

	assert_true(vs_iobus_access(&f->bus, 0x3f8 + reg, false, &v, 1));
	return v;
}

static int setup(void **state)
{
	static struct fixture f;
	struct vs_irq_line line = { set_level, &f.irq, 4 };

	memset(&f, 0, sizeof(f));
	assert_int_equal(pipe(f.pipe), 0);
	vs_iobus_init(&f.bus, "pio");
	assert_int_equal(vs_serial_new(f.pipe[1], &line, &f.s), 0);
	assert_int_equal(vs_serial_attach(f.s, &f.bus, 0x3f8), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vs_serial_free(f->s);
	close(f->pipe[0]);
	close(f->pipe[1]);
	return 0;
}

static void test_transmit(void **state)
{
	struct fixture *f = *state;
	char buf[8] = { 0 };

	out(f, 0, 'h');
	out(f, 0, 'i');
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(vs_serial_tx_count(f->s), 2);
	assert_int_equal(in(f, 5) & 0x60, 0x60); /* THRE | TEMT */
	assert_int_equal(f->irq.rises, 0); /* IER is 0: no interrupt */
}

static void test_thri(void **state)
{
	struct fixture *f = *state;
	char c;

	out(f, 1, 0x02); /* enable THRI with the transmitter empty */
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(in(f, 2) & 0x0f, 0x02); /* IIR: THRI; reading clears it */
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(in(f, 2) & 0x01, 0x01); /* no interrupt pending */
	out(f, 0, 'x'); /* each write re-arms it */
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(f->irq.rises, 2);
	assert_int_equal(read(f->pipe[0], &c, 1), 1);
	out(f, 1, 0);
	assert_int_equal(f->irq.level, 0);
}

static void test_receive(void **state)
{
	struct fixture *f = *state;
	uint8_t data[20];

	memset(data, 'a', sizeof(data));
	data[0] = 'q';
	out(f, 1, 0x01); /* RDI */
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(vs_serial_input(f->s, data, sizeof(data)), 16);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(in(f, 2) & 0x0f, 0x04);
	assert_int_equal(in(f, 5) & 1, 1);
	assert_int_equal(in(f, 0), 'q');
	for (int i = 1; i < 16; i++)
		assert_int_equal(in(f, 0), 'a');
	assert_int_equal(in(f, 5) & 1, 0);
	assert_int_equal(f->irq.level, 0);
}

static void test_divisor_and_loopback(void **state)
{
	struct fixture *f = *state;

	out(f, 3, 0x80); /* DLAB */
	out(f, 0, 0x01);
	out(f, 1, 0x00);
	assert_int_equal(in(f, 0), 0x01);
	out(f, 3, 0x03); /* 8N1 */
	out(f, 4, 0x10); /* loopback */
	out(f, 0, 0x5a);
	assert_int_equal(in(f, 5) & 1, 1);
	assert_int_equal(in(f, 0), 0x5a);
	out(f, 7, 0x33);
	assert_int_equal(in(f, 7), 0x33);
}

/* OUT1 and RTS as the guest drives them; loopback takes them off the line. */
static void test_out1_rts(void **state)
{
	struct fixture *f = *state;

	assert_false(vs_serial_out1(f->s));
	assert_false(vs_serial_rts(f->s));
	out(f, 4, 0x0b); /* DTR | RTS | OUT2, as Linux opens the port */
	assert_false(vs_serial_out1(f->s));
	assert_true(vs_serial_rts(f->s));
	out(f, 4, 0x0f); /* + OUT1 */
	assert_true(vs_serial_out1(f->s));
	out(f, 4, 0x1f); /* loopback */
	assert_false(vs_serial_out1(f->s));
	assert_false(vs_serial_rts(f->s));
	out(f, 4, 0x0d); /* RTS down (throttled), OUT1 up */
	assert_true(vs_serial_out1(f->s));
	assert_false(vs_serial_rts(f->s));
}

static uint64_t notified(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* The notify eventfd: counted when the guest empties the receive FIFO or
 * changes OUT1/RTS, not for other reads or MCR bits. */
static void test_notify(void **state)
{
	struct fixture *f = *state;
	int fd = eventfd(0, EFD_NONBLOCK);
	uint8_t data[2] = { 'a', 'b' };

	assert_true(fd >= 0);
	vs_serial_set_notify(f->s, fd);
	assert_int_equal(vs_serial_input(f->s, data, 2), 2);
	assert_int_equal(in(f, 0), 'a');
	assert_int_equal(notified(fd), 0); /* one byte left */
	assert_int_equal(in(f, 0), 'b');
	assert_int_equal(notified(fd), 1);
	assert_int_equal(in(f, 0), 0); /* empty already: no news */
	assert_int_equal(notified(fd), 0);
	out(f, 4, 0x08); /* OUT2: not a flow bit */
	assert_int_equal(notified(fd), 0);
	out(f, 4, 0x0a); /* RTS */
	assert_int_equal(notified(fd), 1);
	out(f, 4, 0x0e); /* OUT1 */
	assert_int_equal(notified(fd), 1);
	vs_serial_set_notify(f->s, -1);
	out(f, 4, 0x08);
	assert_int_equal(notified(fd), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divisor_and_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out1_rts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
