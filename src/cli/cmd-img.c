/* `vessel img`: placeholder until its issue lands; says so and fails. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_img(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: 'img' is not available in this build\n");
	return 2;
}
