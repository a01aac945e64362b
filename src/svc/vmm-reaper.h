/* The reaper of a background VMM (vmm-reaper.c): the VMM's parent, which
 * waits for it and writes how it ended to <root>/vms/<name>/vmm.exit, so a
 * VMM that could not record its own end (SIGKILL, a crash) still shows why
 * on the next `vm ls`. Plain libc: the small static vessel-vmm-reaper links
 * it as well as libvs-svc. */
#ifndef VS_SVC_VMM_REAPER_H
#define VS_SVC_VMM_REAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VS_SVC_EXIT_FILE "vmm.exit"
#define VS_SVC_REAPER_EXE "vessel-vmm-reaper"
#define VS_SVC_REAPER_LOCK_FD 3 /* in the reaper: its copy of the VM's lock */

/* Waits for vmm (our child) and writes "RUN_ID WSTATUS\n" to VS_SVC_EXIT_FILE
 * in the working directory (through a temporary file and rename, so a reader
 * sees all or nothing). Returns 0 or -errno. */
int vs_svc_vmm_reap(pid_t vmm, long long run_id);

/* Reads dir/VS_SVC_EXIT_FILE: true with *wstatus when it holds run_id's end. */
bool vs_svc_vmm_exit_read(const char *dir, long long run_id, int *wstatus);

/* What a wait status says, for the store: "was killed by signal 9
 * (SIGKILL)", "exited with status 3". *status is the exit status to record (128+N for
 * signal N, as a shell shows it). */
void vs_svc_wstatus_text(int wstatus, char *buf, size_t len, int *status);

#endif
