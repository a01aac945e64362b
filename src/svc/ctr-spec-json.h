/* A container spec from JSON (docs/api/container-spec.md): the body of
 * POST /v1/containers, and pause/resume of a running container. Additive
 * to ctr.h, for the API server. */
#ifndef VS_SVC_CTR_SPEC_JSON_H
#define VS_SVC_CTR_SPEC_JSON_H

#include <jansson.h>
#include <stdbool.h>

struct vs_err;
struct vs_svc;
struct vs_ctr_spec;

/* Fills *out (zeroed first; vs_ctr_spec_clear it, also after a failure)
 * from j, an object with the keys of vs_ctr_spec_to_json plus "cpus" (a
 * number of CPUs, as `run --cpus`; not with "cpu_millis") and
 * "stop_signal" (inspect's; ignored: create records the image's); without
 * "network" the container gets "none" (its own netns, loopback). Strict: an
 * unknown key, a wrong JSON type, a value out of range or a missing
 * "image" is -EINVAL with one line in *err. */
int vs_ctr_spec_from_json(const json_t *j, struct vs_ctr_spec *out, struct vs_err **err);

/* Freezes (pause) or thaws the running container's cgroup. -ESRCH when it
 * does not run (also when it ends meanwhile), -EBUSY when it already is,
 * -ENOENT when there is no such container. */
int vs_svc_ctr_pause(struct vs_svc *svc, const char *key, bool pause, struct vs_err **err);

/* Whether the container's cgroup is frozen (false on any error). */
bool vs_svc_ctr_is_paused(struct vs_svc *svc, const char *id);

#endif
