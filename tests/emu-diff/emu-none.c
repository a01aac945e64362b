/* Stand-in for emu-run.c while src/emu does not link yet: no emu runner. */
#include "diff.h"

#include <errno.h>

int diff_emu_open(struct diff_runner *r)
{
	(void)r;
	return -ENOSYS;
}

void diff_emu_close(struct diff_runner *r)
{
	(void)r;
}

uint64_t diff_emu_features(void)
{
	return 0;
}
