/* The named-VM verbs of `vessel vm` (cmd-vm-ctl.c, cmd-vm-list.c), each
 * parsing its arguments and calling the service layer (svc/vm.h). */
#ifndef VS_CLI_VM_CMDS_H
#define VS_CLI_VM_CMDS_H

struct vs_cli_global;

int vm_create(const struct vs_cli_global *g, int argc, char **argv);
int vm_start(const struct vs_cli_global *g, int argc, char **argv);
int vm_stop(const struct vs_cli_global *g, int argc, char **argv);
int vm_kill(const struct vs_cli_global *g, int argc, char **argv);
int vm_restart(const struct vs_cli_global *g, int argc, char **argv);
int vm_pause(const struct vs_cli_global *g, int argc, char **argv);
int vm_resume(const struct vs_cli_global *g, int argc, char **argv);
int vm_rm(const struct vs_cli_global *g, int argc, char **argv);
int vm_ls(const struct vs_cli_global *g, int argc, char **argv);
int vm_inspect(const struct vs_cli_global *g, int argc, char **argv);
int vm_console(const struct vs_cli_global *g, int argc, char **argv);
int vm_logs(const struct vs_cli_global *g, int argc, char **argv);
int vm_snapshot(const struct vs_cli_global *g, int argc, char **argv);

/* console-attach.c: shuttles bytes between this terminal and a console
 * socket until Ctrl-A d (returns 0) or the VM stops (returns 0, says so). */
int vm_console_attach(int sock, const char *name);

#endif
