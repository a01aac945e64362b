/* pvpanic (QEMU's ISA pvpanic device, docs/specs/pvpanic.txt in QEMU; the
 * Linux driver is drivers/misc/pvpanic): one I/O port, 0x505, that the
 * DSDT describes as device QEMU0001. Reading it returns the events the
 * device supports (PANICKED, CRASH_LOADED); a guest kernel that panics
 * writes PANICKED, and the machine stops as a guest crash. CRASH_LOADED
 * (a kdump kernel takes over) is acknowledged and ignored: the guest goes
 * on to dump. Debian builds the driver as a module (pvpanic-mmio), which a
 * Debian system's udev loads from the DSDT's QEMU0001. */
#ifndef VS_HW_PVPANIC_H
#define VS_HW_PVPANIC_H

#include "hw/power.h"

#define VS_PVPANIC_PORT 0x505
#define VS_PVPANIC_PANICKED 0x01
#define VS_PVPANIC_CRASH_LOADED 0x02

struct vs_iobus;

/* Registers the port; power must outlive the bus. Returns 0 or -errno. */
int vs_pvpanic_attach(struct vs_iobus *pio, const struct vs_power *power);
void vs_pvpanic_detach(struct vs_iobus *pio);

#endif
