/* Entry point of vessel-runc-static: the OCI runtime alone, statically
 * linked, for places without vessel's shared libraries (a microVM's
 * initramfs, for the pure cgroup v2 tests). Same CLI as `vessel-runc`. */
#include "ctr/oci-cli.h"

int main(int argc, char **argv)
{
	return vs_oci_main(argc, argv);
}
