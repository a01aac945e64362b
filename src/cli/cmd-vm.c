/* `vessel vm`: placeholder replaced by the VMM. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_vm(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: 'vm' is not available in this build\n");
	return 2;
}
