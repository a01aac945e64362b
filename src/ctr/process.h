/* The last steps of a container process before execve: rlimits, user and
 * groups, capabilities, no_new_privs, seccomp, cwd, environment, and the
 * lookup of the executable. Shared by the container init and exec. */
#ifndef VS_CTR_PROCESS_H
#define VS_CTR_PROCESS_H

#include <stdbool.h>

struct vs_err;
struct vs_spec_process;
struct vs_spec_seccomp;

/* Applies rlimits (before the pid joins anything that could limit it). */
int vs_process_rlimits(const struct vs_spec_process *p, struct vs_err **err);

/* Switches to the process's uid/gid/groups keeping the listed capabilities,
 * then sets the capability sets. setgroups_ok is false in a user namespace
 * whose setgroups is denied. */
int vs_process_identity(const struct vs_spec_process *p, bool setgroups_ok, struct vs_err **err);

/* chdir to cwd, umask. */
int vs_process_cwd(const struct vs_spec_process *p, struct vs_err **err);

/* Finds args[0] in the PATH of the process env (not ours), as execvpe would,
 * inside the current root. Returns 0 with *out allocated, or -ENOENT with
 * runc's message. */
int vs_process_find_exec(const struct vs_spec_process *p, char **out, struct vs_err **err);

/* The environment to exec with: process.env plus HOME when absent. The
 * array is allocated; its strings are borrowed from p (or leaked: exec follows). */
char **vs_process_env(const struct vs_spec_process *p);

/* Marks every fd >= 3 + preserve_fds close-on-exec (no host fd reaches the
 * container: CVE-2024-21626). */
int vs_process_cloexec_fds(int preserve_fds);

/* CVE-2019-5736 (cloned-exe.c): true when /proc/self/exe is a sealed memfd;
 * otherwise vs_exec_sealed_copy re-executes argv from one (no return on
 * success) and returns -errno with *err if that is impossible. */
bool vs_exe_is_sealed(void);
int vs_exec_sealed_copy(char **argv, struct vs_err **err);

/* trampoline.c: a sealed memfd holding a tiny static execve trampoline
 * (returns the fd or -errno), and the exec through it; vs_trampoline_exec
 * returns only if neither execveat nor the /proc path worked. */
int vs_trampoline_create(void);
void vs_trampoline_exec(int fd, const char *exe, char *const argv[], char *const envp[]);

/* Loads the seccomp filter (NULL: none). */
int vs_seccomp_load(const struct vs_spec_seccomp *sc, struct vs_err **err);

#endif
