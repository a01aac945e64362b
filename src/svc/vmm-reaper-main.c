/* vessel-vmm-reaper: the parent of a background VMM (vm-start.c execs it in
 * the process that forked the VMM, so that an idle reaper maps a small
 * static binary, not vessel with its libraries). It holds its copy of the
 * VM's lock on fd 3, runs in the VM's directory, waits for the VMM and
 * writes how it ended (vmm-reaper.c). argv: PID RUN_ID. Not for people. */
#include "svc/vmm-reaper.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	pid_t pid = argc == 3 ? (pid_t)atoi(argv[1]) : 0;

	if (pid <= 0) {
		fprintf(stderr, "vessel-vmm-reaper: only vessel's vm start runs this\n");
		return 2;
	}
	prctl(PR_SET_NAME, "vessel-reaper");
	return vs_svc_vmm_reap(pid, atoll(argv[2])) < 0 ? 1 : 0;
}
