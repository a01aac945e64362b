/* System calls the VMM makes on /dev/kvm and guest memory, behind an
 * overridable table so tests can inject faults (STYLE.md "Tests"). */
#ifndef VS_VMM_SYS_H
#define VS_VMM_SYS_H

#include <stddef.h>
#include <sys/types.h>

struct vs_sys_ops {
	int (*open)(const char *path, int flags);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*memfd_create)(const char *name, unsigned flags);
};

/* The table in use; tests may point it elsewhere and back. */
extern const struct vs_sys_ops *vs_sys;
extern const struct vs_sys_ops vs_sys_default;

/* ioctl through vs_sys, retried on EINTR; returns the result or -errno. */
int vs_sys_ioctl(int fd, unsigned long req, void *arg);

#endif
