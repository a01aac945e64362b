/* JSON through jansson, with the few helpers every layer wants: cleanup,
 * typed getters with defaults, and a compact dump. */
#ifndef VS_COMMON_JSON_H
#define VS_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

static inline void vs_json_decrefp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(vs_json_decrefp)))

/* The string at key, or NULL when absent or not a string. */
const char *vs_json_str(const json_t *obj, const char *key);

/* The integer at key, or def when absent or not an integer. */
int64_t vs_json_int(const json_t *obj, const char *key, int64_t def);

/* The boolean at key, or def when absent or not a boolean. */
bool vs_json_bool(const json_t *obj, const char *key, bool def);

/* Compact one-line text of j (malloc'd; aborts on OOM as xmalloc does). */
char *vs_json_dump(const json_t *j);

/* Sets key to a new string, or to null when s is NULL. */
void vs_json_set_str(json_t *obj, const char *key, const char *s);

#endif
