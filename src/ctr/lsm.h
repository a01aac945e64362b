/* Linux security modules: process.apparmorProfile, process.selinuxLabel and
 * linux.mountLabel. Applied where the host has the LSM; otherwise refused
 * in one line (as runc), never silently ignored. */
#ifndef VS_CTR_LSM_H
#define VS_CTR_LSM_H

struct vs_err;
struct vs_spec;
struct vs_spec_process;

/* Refuses (-EINVAL, one line) labels whose LSM this host lacks, and
 * linux.mountLabel, which vessel does not apply yet. 0 when nothing is
 * asked or everything can be applied. */
int vs_lsm_check(const struct vs_spec *s, struct vs_err **err);

/* The process's AppArmor profile or SELinux label for its next execve
 * (/proc/thread-self/attr/.../exec). Checks as vs_lsm_check does for the
 * process's fields. 0 or -errno with *err. */
int vs_lsm_exec_label(const struct vs_spec_process *p, struct vs_err **err);

#endif
