/* The error contract: fallible functions return 0 or -errno; where a person
 * must read the cause, the last parameter is `struct vs_err **err`, filled by
 * the function that detects the failure. */
#ifndef VS_COMMON_ERR_H
#define VS_COMMON_ERR_H

struct vs_err {
	int code; /* negative errno */
	char *msg; /* one line, no trailing newline */
};

/* Fills *err (if err is not NULL and *err is empty) and returns code, which
 * must be negative. The first detected error wins: if *err is already set,
 * it is kept and its own code, (*err)->code, is returned, so that what the
 * caller returns and what *err says agree. With err NULL, returns code. */
int vs_err_set(struct vs_err **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As vs_err_set() (same return value), appending ": strerror(-code)". */
int vs_err_setsys(struct vs_err **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context to an existing error ("context: old message"). Returns
 * (*err)->code, or code when *err is empty (then it behaves like vs_err_set). */
int vs_err_wrap(struct vs_err **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void vs_err_free(struct vs_err *e);

static inline void vs_err_freep(struct vs_err **e)
{
	vs_err_free(*e);
}

#endif
