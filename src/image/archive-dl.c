/* libarchive loaded on first use (archive-dl.h). */
#include "image/archive-dl.h"
#include "common/dl.h"
#include "common/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define ARCHIVE_SONAME "libarchive.so.13"

#define VS_ARCHIVE_FN_NAME(f) #f,
static const char *const names[] = { VS_ARCHIVE_FNS(VS_ARCHIVE_FN_NAME) };
#undef VS_ARCHIVE_FN_NAME

_Static_assert(sizeof(struct vs_archive_fns) == VS_ARRAY_SIZE(names) * sizeof(void *),
	       "one pointer per name");

/* Process-wide, as the loaded library is; filled once under once. */
struct vs_archive_fns vs_archive;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	const struct vs_dl_lib lib = { .soname = ARCHIVE_SONAME,
				       .names = names,
				       .fns = (void **)&vs_archive,
				       .n = VS_ARRAY_SIZE(names) };
	const char *why = NULL;

	if (vs_dl_load(&lib, &why) < 0) {
		fprintf(stderr, "vessel: cannot load %s: %s\n", ARCHIVE_SONAME, why ? why : "?");
		abort();
	}
}

void vs_archive_need(void)
{
	pthread_once(&once, load);
}
