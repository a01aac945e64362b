/* vs_err: one-line error messages carried up to whoever prints them. */
#include "common/err.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		xoom();
	return s;
}

static int set_msg(struct vs_err **err, int code, char *msg)
{
	struct vs_err *e;

	if (!err || *err) {
		free(msg);
		return err && *err ? (*err)->code : code;
	}
	e = xmalloc(sizeof(*e));
	e->code = code;
	e->msg = msg;
	*err = e;
	return code;
}

int vs_err_set(struct vs_err **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	return set_msg(err, code, msg);
}

int vs_err_setsys(struct vs_err **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	full = xasprintf("%s: %s", msg, strerror(code < 0 ? -code : code));
	free(msg);
	return set_msg(err, code, full);
}

int vs_err_wrap(struct vs_err **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *full;

	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (!err || !*err)
		return set_msg(err, code, ctx);
	full = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = full;
	return (*err)->code;
}

void vs_err_free(struct vs_err *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}
