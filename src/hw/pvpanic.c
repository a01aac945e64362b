/* The pvpanic port (pvpanic.h). */
#include "hw/pvpanic.h"
#include "hw/iobus.h"

#include <stdint.h>
#include <string.h>

static void pvpanic_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	memset(data, 0, len);
	if (off == 0)
		*(uint8_t *)data = VS_PVPANIC_PANICKED | VS_PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)len;
	if (off == 0 && (*(const uint8_t *)data & VS_PVPANIC_PANICKED))
		vs_power_request(opaque, VS_POWER_PANIC, 0);
}

static const struct vs_io_ops pvpanic_ops = { .read = pvpanic_read, .write = pvpanic_write };

int vs_pvpanic_attach(struct vs_iobus *pio, const struct vs_power *power)
{
	return vs_iobus_register(pio, VS_PVPANIC_PORT, 1, &pvpanic_ops, (void *)power);
}

void vs_pvpanic_detach(struct vs_iobus *pio)
{
	vs_iobus_remove(pio, VS_PVPANIC_PORT);
}
