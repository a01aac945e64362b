/* The CLI's verbs: each cmd_<verb>() parses its own arguments and calls the
 * libraries. Each returns the process exit status. */
#ifndef VS_CLI_CMDS_H
#define VS_CLI_CMDS_H

struct vs_cli_global {
	const char *root; /* --root / VESSEL_ROOT: state directory */
};

int cmd_vm(const struct vs_cli_global *g, int argc, char **argv);
int cmd_img(const struct vs_cli_global *g, int argc, char **argv);
int cmd_oci(const struct vs_cli_global *g, int argc, char **argv);
int cmd_image(const struct vs_cli_global *g, int argc, char **argv);
int cmd_network(const struct vs_cli_global *g, int argc, char **argv);
int cmd_ps(const struct vs_cli_global *g, int argc, char **argv);
int cmd_serve(const struct vs_cli_global *g, int argc, char **argv);

/* The whole command line (cli.c); main() and test binaries call it. */
int vs_cli_main(int argc, char **argv);

#endif
