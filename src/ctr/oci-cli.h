/* runc's command line: `vessel-runc [global flags] COMMAND [flags] ARGS`
 * (also `vessel oci ...`). Flags may be written -flag, --flag, --flag=value,
 * as runc's CLI library accepts them. Returns the process exit status:
 * 0, 1 on an error (printed to stderr and to --log), or the container's
 * status for `run` and `exec`. */
#ifndef VS_CTR_OCI_CLI_H
#define VS_CTR_OCI_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct vs_err;

int vs_oci_main(int argc, char **argv);

/* Shared by the command files (oci-*.c). */
struct vs_oci_global {
	const char *root;
	const char *log;
	bool log_json;
	bool debug;
	char **argv; /* the whole command line, to re-execute it */
};

struct vs_oci_flag {
	const char *name; /* without dashes; aliases separated by '|': "force|f" */
	bool has_arg;
	const char **value; /* set to the argument, or to "true" for a boolean */
};

/* Parses argv[0..argc) against flags; positional arguments go to pos (at
 * most max_pos) and their count to *npos. Returns 0 or -EINVAL with *err. */
int vs_oci_parse(int argc, char **argv, const struct vs_oci_flag *flags, char **pos, int max_pos,
		 int *npos, struct vs_err **err);

/* Reports err (stderr, and the --log file) and returns 1. */
int vs_oci_fail(const struct vs_oci_global *g, struct vs_err *err);

int vs_oci_cmd_spec(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_features(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_list(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_state(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_ps(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_exec(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_update(const struct vs_oci_global *g, int argc, char **argv);
int vs_oci_cmd_events(const struct vs_oci_global *g, int argc, char **argv);
void vs_oci_print_version(FILE *f);

/* oci-console.c: receives a pty master sent with SCM_RIGHTS on sock, if one
 * is already there (returns the fd or -1); proxies our stdio to it (stdin
 * in raw mode when it is a terminal) until the container side closes. */
int vs_oci_recv_master(int sock);
void vs_oci_console_proxy(int master);

#endif
