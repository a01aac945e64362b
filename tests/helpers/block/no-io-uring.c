/* vessel-no-io-uring CMD [ARGS...]: runs CMD with io_uring refused, as a
 * container runtime's default seccomp profile (or io_uring_disabled=2)
 * refuses it: a seccomp filter makes io_uring_setup, io_uring_enter and
 * io_uring_register fail with ENOSYS, then CMD is executed. For the tests
 * of the block engine's fallback to its thread pool
 * (tests/integration/vm/test_vm_blk_aio.py). */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (argc < 2) {
		fprintf(stderr, "usage: vessel-no-io-uring CMD [ARGS...]\n");
		return 2;
	}
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_enter), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_register), 0) ||
	    seccomp_load(ctx)) {
		fprintf(stderr, "vessel-no-io-uring: cannot load the seccomp filter\n");
		return 1;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "vessel-no-io-uring: %s: %m\n", argv[1]);
	return 127;
}
