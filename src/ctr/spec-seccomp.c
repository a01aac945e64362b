/* config.json "linux.seccomp": default action, architectures and syscall
 * rules with argument conditions. Only parsed and validated here; the filter
 * is built by seccomp.c. */
#include "ctr/spec.h"
#include "ctr/spec-internal.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[] = {
	[VS_SCMP_ACT_KILL] = "SCMP_ACT_KILL",
	[VS_SCMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[VS_SCMP_ACT_TRAP] = "SCMP_ACT_TRAP",
	[VS_SCMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
	[VS_SCMP_ACT_TRACE] = "SCMP_ACT_TRACE",
	[VS_SCMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
	[VS_SCMP_ACT_LOG] = "SCMP_ACT_LOG",
};

static const char *const op_names[] = {
	[VS_SCMP_NE] = "SCMP_CMP_NE",
	[VS_SCMP_LT] = "SCMP_CMP_LT",
	[VS_SCMP_LE] = "SCMP_CMP_LE",
	[VS_SCMP_EQ] = "SCMP_CMP_EQ",
	[VS_SCMP_GE] = "SCMP_CMP_GE",
	[VS_SCMP_GT] = "SCMP_CMP_GT",
	[VS_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static int parse_action(json_t *o, const char *path, const char *key, uint32_t *out,
			struct vs_err **err)
{
	char *s = NULL;
	int rc = sj_string(o, path, key, &s, err), a;

	if (rc < 0)
		return rc;
	a = lookup(action_names, VS_ARRAY_SIZE(action_names), s);
	if (a < 0 && s && strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
		a = VS_SCMP_ACT_KILL; /* libseccomp's other name for it */
	free(s);
	if (a < 0)
		return sj_fail(err, path, key, "unknown seccomp action");
	*out = (uint32_t)a;
	return 0;
}

static int parse_arg(json_t *a, const char *path, struct vs_spec_seccomp_arg *out,
		     struct vs_err **err)
{
	char *op = NULL;
	int rc, o;

	if (!json_is_object(a))
		return sj_fail(err, path, NULL, "expected an object");
	if ((rc = sj_uint32(a, path, "index", &out->index, err)) < 0 ||
	    (rc = sj_uint64(a, path, "value", &out->value, err)) < 0 ||
	    (rc = sj_uint64(a, path, "valueTwo", &out->value_two, err)) < 0 ||
	    (rc = sj_string(a, path, "op", &op, err)) < 0)
		return rc;
	o = lookup(op_names, VS_ARRAY_SIZE(op_names), op);
	free(op);
	if (o < 0)
		return sj_fail(err, path, "op", "unknown seccomp operator");
	if (out->index > 5)
		return sj_fail(err, path, "index", "must be in [0, 5]");
	out->op = (enum vs_seccomp_op)o;
	return 0;
}

static int parse_rule(json_t *r, const char *path, struct vs_spec_seccomp_rule *out,
		      struct vs_err **err)
{
	char apath[96];
	int64_t eno = EPERM;
	int rc;
	json_t *args;

	if (!json_is_object(r))
		return sj_fail(err, path, NULL, "expected an object");
	if ((rc = sj_strv(r, path, "names", &out->names, err)) < 0 ||
	    (rc = parse_action(r, path, "action", &out->action, err)) < 0 ||
	    (rc = sj_int64(r, path, "errnoRet", &eno, err)) < 0)
		return rc;
	if (!out->names.n)
		return sj_fail(err, path, "names", "must not be empty");
	if (eno < 0 || eno > 4095)
		return sj_fail(err, path, "errnoRet", "out of range");
	out->errno_ret = (int)eno;
	args = sj_get(r, path, "args", JSON_ARRAY, &rc, err);
	if (!args)
		return rc;
	out->args = xzalloc((json_array_size(args) + 1) * sizeof(*out->args));
	for (size_t i = 0; i < json_array_size(args); i++) {
		snprintf(apath, sizeof(apath), "%s.args[%zu]", path, i);
		out->n_args = i + 1;
		if ((rc = parse_arg(json_array_get(args, i), apath, &out->args[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int parse_rules(json_t *j, struct vs_spec_seccomp *sc, struct vs_err **err)
{
	char path[64];
	int rc;
	json_t *a = sj_get(j, "linux.seccomp", "syscalls", JSON_ARRAY, &rc, err);

	if (!a)
		return rc;
	sc->rules = xzalloc((json_array_size(a) + 1) * sizeof(*sc->rules));
	for (size_t i = 0; i < json_array_size(a); i++) {
		snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
		sc->n_rules = i + 1;
		if ((rc = parse_rule(json_array_get(a, i), path, &sc->rules[i], err)) < 0)
			return rc;
	}
	return 0;
}

int spec_parse_seccomp(json_t *j, struct vs_spec_seccomp **out, struct vs_err **err)
{
	struct vs_spec_seccomp *sc = xzalloc(sizeof(*sc));
	int64_t eno = EPERM;
	int rc;

	*out = sc; /* freed by vs_spec_free on failure too */
	if ((rc = parse_action(j, "linux.seccomp", "defaultAction", &sc->default_action, err)) <
		    0 ||
	    (rc = sj_int64(j, "linux.seccomp", "defaultErrnoRet", &eno, err)) < 0 ||
	    (rc = sj_strv(j, "linux.seccomp", "architectures", &sc->architectures, err)) < 0)
		return rc;
	if (eno < 0 || eno > 4095)
		return sj_fail(err, "linux.seccomp", "defaultErrnoRet", "out of range");
	sc->default_errno = (int)eno;
	return parse_rules(j, sc, err);
}

void spec_seccomp_free(struct vs_spec_seccomp *sc)
{
	if (!sc)
		return;
	vs_strv_free(&sc->architectures);
	for (size_t i = 0; i < sc->n_rules; i++) {
		vs_strv_free(&sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc);
}
