/* The power button port (button.h). */
#include "hw/button.h"
#include "hw/iobus.h"

#include <stdint.h>
#include <string.h>

static void button_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_button *b = opaque;

	(void)off;
	memset(data, 0, len);
	*(uint8_t *)data = atomic_load(&b->pressed) ? VS_BUTTON_PRESSED : 0;
}

static void button_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_button *b = opaque;

	(void)off;
	(void)len;
	if (*(const uint8_t *)data & VS_BUTTON_PRESSED)
		atomic_store(&b->pressed, false);
}

static const struct vs_io_ops button_ops = { .read = button_read, .write = button_write };

int vs_button_attach(struct vs_button *b, struct vs_iobus *pio)
{
	return vs_iobus_register(pio, VS_BUTTON_PORT, 1, &button_ops, b);
}

void vs_button_press(struct vs_button *b)
{
	atomic_store(&b->pressed, true);
}
