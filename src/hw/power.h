/* How devices ask the VM to stop: the exit device, the i8042 reset line and
 * (later) ACPI power-off all end in vs_power_request(). */
#ifndef VS_HW_POWER_H
#define VS_HW_POWER_H

enum vs_stop_reason {
	VS_STOP_NONE = 0,
	VS_STOP_EXIT_DEVICE, /* guest wrote its status to the exit port */
	VS_STOP_RESET,	     /* guest asked for a reset (reboot) */
	VS_STOP_POWEROFF,    /* guest powered off */
	VS_STOP_CRASH,	     /* triple fault, emulation failure, internal error */
	VS_STOP_SIGNAL,	     /* SIGTERM/SIGINT on the VMM */
	VS_STOP_ERROR,	     /* the VMM itself failed */
	VS_STOP_USER,	     /* console escape (Ctrl-A x) */
};

struct vs_power {
	void (*request)(void *ctx, enum vs_stop_reason why, int status);
	void *ctx;
};

static inline void vs_power_request(const struct vs_power *p, enum vs_stop_reason why, int status)
{
	p->request(p->ctx, why, status);
}

#endif
