/* Loading an optional shared library on first use (dlopen), so that only
 * the commands that need it pay for its loading: every library linked into
 * vessel costs every command its mapping, relocations and constructors at
 * start-up (0.7–1.4 ms each for libnftables and libcrypto here) and every
 * VMM forked from one its resident pages. */
#ifndef VS_COMMON_DL_H
#define VS_COMMON_DL_H

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

/* A library and the functions wanted from it. fns[i] receives names[i]. */
struct vs_dl_lib {
	const char *soname; /* "libnftables.so.1" */
	const char *const *names;
	void **fns;
	size_t n;
};

/* Loads lib (callers call it once, under their own pthread_once). Returns
 * 0 with every lib->fns[i] set, or -ENOENT / -ENOSYS with *why (dlerror()'s
 * text) when the library or a function is missing. Inline, so that only the
 * files that load a library bring dlopen into a binary (the static ones
 * that link src/common's objects do not). */
static inline int vs_dl_load(const struct vs_dl_lib *lib, const char **why)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		*why = dlerror();
		return -ENOENT;
	}
	for (size_t i = 0; i < lib->n; i++) {
		lib->fns[i] = dlsym(h, lib->names[i]);
		if (!lib->fns[i]) {
			*why = dlerror();
			return -ENOSYS; /* the handle stays: nothing of it is used */
		}
	}
	return 0;
}

#endif
