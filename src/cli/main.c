/* vessel's entry point (cli.c holds the command line). */
#include "cli/cmds.h"

int main(int argc, char **argv)
{
	return vs_cli_main(argc, argv);
}
