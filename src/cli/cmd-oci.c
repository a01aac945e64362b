/* `vessel oci ARGS` and `vessel-runc ARGS`: runc's command line, parsed by
 * src/ctr/oci-cli.c. argv[0] is "oci" or the program path; either way the
 * runc-style arguments follow. vessel's own --root (the store) does not
 * apply: the runtime state root is runc's --root (default /run/vessel-runc). */
#include "cli/cmds.h"
#include "ctr/oci-cli.h"

int cmd_oci(const struct vs_cli_global *g, int argc, char **argv)
{
	(void)g;
	return vs_oci_main(argc, argv);
}
