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
/* The trampoline's argv for exe and argv, built before the filter. */
char **vs_trampoline_argv(const char *exe, char *const argv[]);
void vs_trampoline_exec(int fd, char *const targv[], char *const envp[]);

/* seccomp.c: compiles the profile into out->filter (allocated). 0 or
 * -errno with *err. vs_seccomp_install loads it: 0 or -errno; it needs
 * no_new_privs or CAP_SYS_ADMIN. */
struct sock_fprog;
int vs_seccomp_compile(const struct vs_spec_seccomp *sc, struct sock_fprog *out,
		       struct vs_err **err);
int vs_seccomp_install(const struct sock_fprog *prog);

/* The container process's last steps, split around the seccomp filter so
 * that nothing of the runtime runs under the container's filter (issue 10:
 * a profile that denies close_range, or anything else we use, must not
 * break the container). vs_process_prepare does everything that can come
 * first: identity (unless deferred), cwd, the executable lookup,
 * no_new_privs, the compiled filter, close-on-exec of inherited fds.
 * vs_process_finish sets every signal's disposition to the default and
 * unblocks all (nothing ignored or blocked by whoever started the runtime
 * reaches the container), installs the filter and, without no_new_privs (where
 * loading a filter needs CAP_SYS_ADMIN, as in runc), then switches identity:
 * setgroups, setresgid, setresuid, capset and the ambient prctls are then
 * the only system calls under the filter before execve. */
struct vs_process_final {
	const struct vs_spec_process *p;
	bool has_filter;
	bool identity_after_filter;
	bool setgroups_ok;
	struct sock_fprog *filter; /* owned when has_filter */
};
int vs_process_prepare(const struct vs_spec_process *p, const struct vs_spec_seccomp *sc,
		       int preserve_fds, struct vs_process_final *f, char **exe,
		       struct vs_err **err);
/* Returns 0 or -errno with *err (only the failure path allocates). */
int vs_process_finish(const struct vs_process_final *f, struct vs_err **err);

#endif
