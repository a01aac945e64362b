/* `exec`: not yet implemented. */
#include "ctr/oci-cli.h"
#include "common/err.h"

#include <errno.h>

int vs_oci_cmd_exec(const struct vs_oci_global *g, int argc, char **argv)
{
	struct vs_err *err = NULL;

	(void)argc;
	(void)argv;
	vs_err_set(&err, -ENOSYS, "exec is not implemented yet");
	return vs_oci_fail(g, err);
}
