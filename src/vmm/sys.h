/* System calls the VMM makes on /dev/kvm, guest memory and its threads, behind an
 * overridable table so tests can inject faults (STYLE.md "Tests"). */
#ifndef VS_VMM_SYS_H
#define VS_VMM_SYS_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

struct vs_sys_ops {
	int (*open)(const char *path, int flags);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*memfd_create)(const char *name, unsigned flags);
	/* returns 0 or a positive error number, as pthread_create(3) */
	int (*pthread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			      void *arg);
};

/* The table in use; tests may point it elsewhere and back. */
extern const struct vs_sys_ops *vs_sys;
extern const struct vs_sys_ops vs_sys_default;

/* ioctl through vs_sys, retried on EINTR; returns the result or -errno. */
int vs_sys_ioctl(int fd, unsigned long req, void *arg);

#endif
