/* String lists: see strv.h. */
#include "common/strv.h"

#include <stdlib.h>

void vs_strv_free(struct vs_strv *sv)
{
	if (!sv->v)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}
