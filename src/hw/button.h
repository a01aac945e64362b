/* vessel's power button: one port (0x504) a guest polls to learn that the
 * host asks it to power off (`vessel vm stop`). Reading returns bit 0 set
 * while a press is pending; writing 1 acknowledges it. No stock Linux
 * listens to it: the guest init and the test guest (docs/testkernel.md,
 * `counter`) do; `vm stop` presses the ACPI power button (hw/acpi-pm.h)
 * at the same time for every other guest. */
#ifndef VS_HW_BUTTON_H
#define VS_HW_BUTTON_H

#include <stdatomic.h>
#include <stdbool.h>

#define VS_BUTTON_PORT 0x504
#define VS_BUTTON_PRESSED 0x01

struct vs_iobus;

struct vs_button {
	atomic_bool pressed;
};

/* Registers the port; b must outlive the bus. Returns 0 or -errno. */
int vs_button_attach(struct vs_button *b, struct vs_iobus *pio);

/* Any thread. */
void vs_button_press(struct vs_button *b);

#endif
