/* `vessel oci`: placeholder until its issue lands; says so and fails. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_oci(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: 'oci' is not available in this build\n");
	return 2;
}
