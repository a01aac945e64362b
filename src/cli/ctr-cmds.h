/* The container verbs (cmd-run.c, cmd-ctr.c), each parsing its arguments
 * and calling the service layer (svc/ctr.h). */
#ifndef VS_CLI_CTR_CMDS_H
#define VS_CLI_CTR_CMDS_H

#include <stdbool.h>

struct vs_cli_global;
struct vs_svc;

int cmd_run(const struct vs_cli_global *g, int argc, char **argv);
int cmd_create(const struct vs_cli_global *g, int argc, char **argv);
int cmd_start(const struct vs_cli_global *g, int argc, char **argv);
int cmd_stop(const struct vs_cli_global *g, int argc, char **argv);
int cmd_kill(const struct vs_cli_global *g, int argc, char **argv);
int cmd_rm(const struct vs_cli_global *g, int argc, char **argv);
int cmd_logs(const struct vs_cli_global *g, int argc, char **argv);
int cmd_inspect(const struct vs_cli_global *g, int argc, char **argv);
int cmd_wait(const struct vs_cli_global *g, int argc, char **argv);
int cmd_stats(const struct vs_cli_global *g, int argc, char **argv);
int cmd_exec(const struct vs_cli_global *g, int argc, char **argv);
int cmd_attach(const struct vs_cli_global *g, int argc, char **argv);
int cmd_top(const struct vs_cli_global *g, int argc, char **argv);
int cmd_restart(const struct vs_cli_global *g, int argc, char **argv);

/* ctr-attach.c: the client of a container's pty on sock until the monitor
 * closes it (returns 0) or Ctrl-P Ctrl-Q (returns 1); with_input: our
 * stdin (raw when a terminal) goes to the container. fwd, if not NULL,
 * gets INT/TERM/HUP/QUIT. */
int ctr_attach_loop(int sock, bool with_input, void (*fwd)(int sig, void *ctx), void *ctx);
/* Sends our terminal's window size on sock (if we have a terminal). */
void ctr_attach_send_winsize(int sock);

/* `vessel ps` rows for containers (cmd-ctr.c): appended to a JSON array,
 * or printed in ps's table. all: exited and created ones too. */
struct json_t;
int ctr_ps_rows(struct vs_svc *svc, bool all, struct json_t *json);

#endif
