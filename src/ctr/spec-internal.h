/* Private to the config.json parser (spec*.c): typed field getters that
 * produce one-line errors naming the JSON path. Each getter returns 0 when
 * the field is absent (leaving *out alone) or valid, and -EINVAL otherwise. */
#ifndef VS_CTR_SPEC_INTERNAL_H
#define VS_CTR_SPEC_INTERNAL_H

#include "ctr/spec.h"

#include <jansson.h>

#define VS_SPEC_ERR_PREFIX "config.json: "

int sj_fail(struct vs_err **err, const char *path, const char *key, const char *what);
/* Keys and jansson's "near '...'" come from the input: replaces control
 * characters in *err so the message stays one line. Returns rc. */
int spec_one_line(struct vs_err **err, int rc);
int sj_string(json_t *obj, const char *path, const char *key, char **out, struct vs_err **err);
int sj_bool(json_t *obj, const char *path, const char *key, bool *out, struct vs_err **err);
int sj_int64(json_t *obj, const char *path, const char *key, int64_t *out, struct vs_err **err);
int sj_uint32(json_t *obj, const char *path, const char *key, uint32_t *out, struct vs_err **err);
int sj_uint64(json_t *obj, const char *path, const char *key, uint64_t *out, struct vs_err **err);
int sj_strv(json_t *obj, const char *path, const char *key, struct vs_strv *out,
	    struct vs_err **err);
/* Returns the member if it is of the wanted type, NULL if absent; a member
 * of another type is an error (-EINVAL in *rc). */
json_t *sj_get(json_t *obj, const char *path, const char *key, json_type type, int *rc,
	       struct vs_err **err);

/* obj[key], an array of {containerID, hostID, size}; where names obj in errors. */
int spec_parse_idmaps(json_t *obj, const char *where, const char *key, struct vs_spec_idmap **out,
		      size_t *n, struct vs_err **err);
int spec_parse_process(json_t *j, const char *path, struct vs_spec_process *p, struct vs_err **err);
int spec_parse_linux(json_t *j, struct vs_spec *s, struct vs_err **err);
int spec_parse_resources(json_t *linux_obj, struct vs_spec_resources *r, struct vs_err **err);
int spec_parse_seccomp(json_t *j, struct vs_spec_seccomp **out, struct vs_err **err);
void spec_seccomp_free(struct vs_spec_seccomp *sc);

#endif
