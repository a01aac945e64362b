/* vessel-fault: the vessel CLI with the service layer's step hook set
 * (svc/svc.h), for the crash-consistency tests: with VESSEL_FAULT_STEP=S in
 * its environment it kills itself with SIGKILL when the service layer
 * reaches step S ("create:dir", "create:row", ...). The environment is read
 * here, in the test binary only; vessel itself has no such switch.
 * VESSEL_FAULT_LIST=1 prints each step reached instead, on stderr. */
#include "cli/cmds.h"
#include "svc/svc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kill_at;
static int list_steps;

static void step(const char *name)
{
	if (list_steps)
		fprintf(stderr, "vessel-fault: step %s\n", name);
	if (kill_at && strcmp(kill_at, name) == 0)
		raise(SIGKILL);
}

int main(int argc, char **argv)
{
	kill_at = getenv("VESSEL_FAULT_STEP");
	list_steps = getenv("VESSEL_FAULT_LIST") != NULL;
	vs_svc_step_hook = step;
	return vs_cli_main(argc, argv);
}
