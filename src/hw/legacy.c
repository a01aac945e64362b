/* Exit device, i8042 reset, reset control, fast A20 and POST ports. */
#include "hw/legacy.h"
#include "hw/iobus.h"

#include <stdint.h>
#include <string.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_CMD_RESET 0xfe
#define A20_PORT 0x92
#define A20_ENABLED 0x02
#define POST_PORT 0x80

static void exit_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)off;
	(void)len;
	vs_power_request(opaque, VS_POWER_EXIT, *(const uint8_t *)data);
}

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	/* There is no keyboard controller behind the reset command: both ports
	 * read as an empty ISA bus does (0xff), so a guest's probe finds no
	 * controller at once (Linux: "i8042: No controller found") instead of
	 * waiting out its timeouts for a reply that never comes. */
	memset(data, 0xff, len);
}

static void zero_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)off;
	(void)len;
	if (*(const uint8_t *)data == I8042_CMD_RESET)
		vs_power_request(opaque, VS_POWER_RESET, 0);
}

static void a20_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	memset(data, 0, len);
	*(uint8_t *)data = A20_ENABLED;
}

static void ignore_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static const struct vs_io_ops exit_ops = { .write = exit_write };
static const struct vs_io_ops i8042_ops = { .read = i8042_read, .write = i8042_write };
static const struct vs_io_ops i8042_data_ops = { .read = i8042_read, .write = ignore_write };
static const struct vs_io_ops a20_ops = { .read = a20_read, .write = ignore_write };
static const struct vs_io_ops post_ops = { .read = zero_read, .write = ignore_write };

int vs_legacy_attach(struct vs_iobus *pio, const struct vs_power *power)
{
	/* power is only read by the callbacks; the cast drops const for the opaque slot. */
	void *p = (void *)power;
	int r;

	if ((r = vs_iobus_register(pio, VS_EXIT_PORT, 1, &exit_ops, p)) < 0)
		return r;
	/* 0x61 (PIT/speaker control) lies between the two i8042 ports. */
	if ((r = vs_iobus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, p)) < 0)
		return r;
	if ((r = vs_iobus_register(pio, I8042_CMD_PORT, 1, &i8042_ops, p)) < 0)
		return r;
	if ((r = vs_iobus_register(pio, A20_PORT, 1, &a20_ops, p)) < 0)
		return r;
	return vs_iobus_register(pio, POST_PORT, 1, &post_ops, p);
}
