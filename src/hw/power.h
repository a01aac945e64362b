/* How devices ask the machine to stop: the exit device, the i8042 reset
 * line, the reset control register and (later) ACPI power-off all end in
 * vs_power_request(). Only what a device can ask for lives here; why a VM
 * stopped as a whole (signals, crashes, the console escape) is the VMM's
 * (vmm/vm.h enum vs_stop_reason). */
#ifndef VS_HW_POWER_H
#define VS_HW_POWER_H

enum vs_power_event {
	VS_POWER_EXIT = 1, /* guest wrote its status to the exit port */
	VS_POWER_RESET, /* guest asked for a reset (reboot) */
	VS_POWER_OFF, /* guest powered off */
	VS_POWER_PANIC, /* the guest kernel panicked (pvpanic.h) */
};

struct vs_power {
	void (*request)(void *ctx, enum vs_power_event ev, int status);
	void *ctx;
};

static inline void vs_power_request(const struct vs_power *p, enum vs_power_event ev, int status)
{
	p->request(p->ctx, ev, status);
}

#endif
