/* Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * generated from the rule list and attached to the container's cgroup2
 * directory. The kernel runs it for every device open/mknod in the cgroup;
 * it returns 1 to allow, 0 to deny.
 *
 * The rules are applied like the v1 list: a later rule overrides an earlier
 * one, so the program tests them last to first and the first match decides;
 * nothing matching is denied. Registers: r2 device type, r3 requested
 * access, r4 major, r5 minor (from struct bpf_cgroup_dev_ctx). */
#include "ctr/cgroup-internal.h"
#include "ctr/spec.h"
#include "common/cleanup.h"
#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct prog {
	struct bpf_insn *v;
	size_t n;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
	};
}

static void prologue(struct prog *p)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type),
	     0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 3, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type),
	     0);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
}

static int access_bits(const char *a)
{
	return (strchr(a, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
	       (strchr(a, 'r') ? BPF_DEVCG_ACC_READ : 0) |
	       (strchr(a, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
}

/* One rule: conditional jumps to the end of the block when it does not
 * match, then "return allow". Jump offsets are patched once the block's
 * length is known. Returns true if the rule matches every access (the
 * verifier refuses unreachable code after it). */
static bool rule(struct prog *p, const struct vs_spec_devrule *r)
{
	size_t start = p->n, jumps[4], nj = 0;
	int acc = access_bits(r->access);

	if (r->type != 'a')
		jumps[nj++] = p->n, emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0,
					 r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	if (acc != 7) {
		emit(p, BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0);
		emit(p, BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, ~acc & 7);
		jumps[nj++] = p->n, emit(p, BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0);
	}
	if (r->major >= 0)
		jumps[nj++] = p->n, emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->major);
	if (r->minor >= 0)
		jumps[nj++] = p->n, emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->minor);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < nj; i++)
		p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
	(void)start;
	return nj == 0; /* matches everything: what follows is unreachable */
}

static int load_prog(const struct prog *p, char *log, uint32_t log_size)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uintptr_t) "Apache-2.0";
	a.log_buf = (uintptr_t)log;
	a.log_size = log_size;
	a.log_level = log ? 1 : 0;
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
}

static int load(const struct prog *p, struct vs_err **err)
{
	static char log[65536];
	int fd = load_prog(p, NULL, 0), rc;

	if (fd >= 0)
		return fd;
	rc = -errno;
	/* again with the verifier's log, only to explain the failure */
	log[0] = 0;
	load_prog(p, log, sizeof(log));
	return vs_err_setsys(err, rc, "loading the device cgroup BPF program (%.200s)", log);
}

int cg_bpf_devices(const char *dir, const struct vs_spec_devrule *rules, size_t n,
		   struct vs_err **err)
{
	struct prog p = { 0 };
	_cleanup_close_ int prog = -1, dfd = -1;
	union bpf_attr a;
	int rc = 0;

	bool done = false;

	prologue(&p);
	for (size_t i = n; i-- > 0 && !done;)
		done = rule(&p, &rules[i]);
	if (!done) { /* nothing matched: deny */
		emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
		emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	prog = load(&p, err);
	free(p.v);
	if (prog < 0)
		return prog;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vs_err_setsys(err, -errno, "opening %s", dir);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		rc = vs_err_setsys(err, -errno, "attaching the device BPF program to %s", dir);
	return rc;
}
