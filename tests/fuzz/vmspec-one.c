/* One fuzz input for the VM spec's JSON form (src/vmm/spec.c), the body the
 * REST API will take from clients: parse it; when accepted, print it back and
 * parse that again, which must give the same JSON (a lossless round trip). */
#include "fuzz.h"
#include "vmm/spec.h"
#include "common/err.h"
#include "common/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fuzz_vmspec_one(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL), *out = NULL, *again = NULL;
	struct vs_vm_spec s, t;
	struct vs_err *e = NULL;
	int r = 0;

	vs_vm_spec_init(&s);
	vs_vm_spec_init(&t);
	if (j && vs_vm_spec_from_json(j, &s, &e) == 0) {
		out = vs_vm_spec_to_json(&s);
		if (vs_vm_spec_from_json(out, &t, NULL) < 0)
			abort(); /* what we print, we must take back */
		again = vs_vm_spec_to_json(&t);
		if (!json_equal(out, again))
			abort();
		r = 1;
	}
	vs_err_free(e);
	json_decref(j);
	json_decref(out);
	json_decref(again);
	vs_vm_spec_clear(&s);
	vs_vm_spec_clear(&t);
	return r;
}
