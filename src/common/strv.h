/* A NULL-terminated list of strings with its length (argv, env, options). */
#ifndef VS_COMMON_STRV_H
#define VS_COMMON_STRV_H

#include <stddef.h>

struct vs_strv {
	char **v; /* NULL-terminated when not NULL; strings owned */
	size_t n;
};

/* Frees the strings and the array; leaves *sv empty. NULL-safe for v. */
void vs_strv_free(struct vs_strv *sv);

#endif
