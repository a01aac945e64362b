/* Namespaces: which to create, joining by path, user namespace id maps. */
#ifndef VS_CTR_NS_H
#define VS_CTR_NS_H

#include <sys/types.h>

struct vs_err;
struct vs_spec;

/* CLONE_NEW* flags of the namespaces the spec creates (those without a path). */
int vs_ns_clone_flags(const struct vs_spec *s);

/* setns() into each namespace the spec gives by path, the user namespace
 * first; `only` restricts to one CLONE_NEW* type (0 = all but pid). */
int vs_ns_join(const struct vs_spec *s, int only, struct vs_err **err);

/* Opens the namespace file path for setns without blocking: refuses, in
 * one line, anything that is not an nsfs file of the CLONE_NEW* type (a
 * FIFO, a regular file, another namespace type). The fd, or -errno with *err. */
int vs_ns_open(const char *path, int type, struct vs_err **err);

/* 1 if the namespace file path is the runtime's own namespace of type, 0
 * if not, -errno when either cannot be read. */
int vs_ns_is_runtimes(const char *path, int type);

/* Writes /proc/<pid>/{uid_map,gid_map} from the spec. */
int vs_ns_write_idmaps(pid_t pid, const struct vs_spec *s, struct vs_err **err);

#endif
