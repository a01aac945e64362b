/* libarchive loaded on first use (ar.h). */
#include "image/ar.h"
#include "common/err.h"
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

struct vs_ar_syms vs_ar;

static pthread_once_t ar_once = PTHREAD_ONCE_INIT;
static char ar_why[256]; /* empty once loaded */

static void ar_open(void)
{
	void *h = dlopen(VS_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(ar_why, sizeof(ar_why), "%s", dlerror());
		return;
	}
	/* POSIX's dlsym gives a function's address as a void * */
#define VS_AR_SYM(f)                                                                        \
	if (!(vs_ar.f = (__typeof__(vs_ar.f))dlsym(h, #f))) {                               \
		snprintf(ar_why, sizeof(ar_why), "%s has no %s", VS_LIBARCHIVE_SONAME, #f); \
		return;                                                                     \
	}
	VS_AR_FUNCS(VS_AR_SYM)
#undef VS_AR_SYM
}

int vs_ar_load(struct vs_err **err)
{
	pthread_once(&ar_once, ar_open);
	if (ar_why[0])
		return vs_err_set(err, -ELIBACC, "cannot load libarchive: %s", ar_why);
	return 0;
}
