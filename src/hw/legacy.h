/* The small fixed-port devices of a PC that a microVM still needs:
 *  - the exit device (port 0x501, vessel's test/exit device; QEMU's
 *    isa-debug-exit sits at the same port): writing byte N ends vessel
 *    with exit status N;
 *  - the i8042 controller's reset line (port 0x64, command 0xFE): a guest
 *    reboot (the other reset port, 0xCF9, overlaps PCI config space and
 *    lives in hw/pci.c);
 *  - port 0x92 (fast A20) and port 0x80 (POST codes), which firmware-less
 *    kernels touch. */
#ifndef VS_HW_LEGACY_H
#define VS_HW_LEGACY_H

#include "hw/power.h"

#define VS_EXIT_PORT 0x501

struct vs_iobus;

/* Registers all of the above on the port-I/O bus; power must outlive the bus. */
int vs_legacy_attach(struct vs_iobus *pio, const struct vs_power *power);

#endif
