/* Pausing a running VM: every vCPU leaves guest mode and parks until
 * vs_vm_resume(). Devices stay as they are; guest time (the TSC) keeps
 * running on the host, as with QEMU's stop/cont. Called from the VMM's main
 * thread while the vCPU threads run (vs_vm_serve). */
#ifndef VS_VMM_PAUSE_H
#define VS_VMM_PAUSE_H

#include <stdbool.h>

struct vs_vm;

/* Returns 0 once every started vCPU is parked (at once if already paused),
 * -ETIMEDOUT if one did not park within a second (the VM is then resumed),
 * or -ESHUTDOWN when the VM is stopping. */
int vs_vm_pause(struct vs_vm *vm);

/* Lets the parked vCPUs run again. No-op when not paused. */
void vs_vm_resume(struct vs_vm *vm);

bool vs_vm_is_paused(const struct vs_vm *vm);

/* Frees the pause state; only after the vCPU threads are joined. */
void vs_vm_pause_free(struct vs_vm *vm);

#endif
