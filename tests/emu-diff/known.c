/* Known results: a few sequences whose outcome the architecture fixes
 * (SDM vol. 3 ch. 6), checked on each runner on its own. They keep the
 * native runner honest (trap number, error code and CR2 from the signal
 * frame) and check emu's exceptions against the spec, not only against the
 * host. */
#include "known.h"

#include <inttypes.h>
#include <string.h>

#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_I 0x10
#define LE32(v) (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((uint32_t)(v) >> 24)

struct known {
	const char *name;
	uint8_t code[16];
	size_t len;
	int vector;
	uint32_t err; /* for vectors with an error code */
	uint64_t cr2; /* for #PF */
	uint64_t rip_off; /* where it ended, from DIFF_CODE_VA */
	int reg; /* a register to check, or -1 */
	uint64_t val;
	/* Not checked natively: this host (a KVM-PVM guest) reports INT1 with
	 * RIP at the instruction; the SDM has it a trap (RIP after). */
	bool host_differs;
};

static const struct known known[] = {
	{ "mov_add", { 0xb8, 5, 0, 0, 0, 0x83, 0xc0, 3 }, 8, DIFF_END, 0, 0, 8, DIFF_RAX, 8 },
	{ "div_zero_de", { 0x31, 0xc9, 0xf7, 0xf1 }, 4, 0, 0, 0, 2, DIFF_RCX, 0 },
	{ "read_hole_pf",
	  { 0x48, 0x8b, 0x04, 0x25, LE32(DIFF_HOLE_VA) },
	  8,
	  14,
	  PF_U,
	  DIFF_HOLE_VA,
	  0,
	  -1,
	  0 },
	{ "write_hole_pf",
	  { 0x48, 0x89, 0x04, 0x25, LE32(DIFF_HOLE_VA) },
	  8,
	  14,
	  PF_U | PF_W,
	  DIFF_HOLE_VA,
	  0,
	  -1,
	  0 },
	{ "write_code_pf",
	  { 0x48, 0x89, 0x04, 0x25, LE32(DIFF_CODE_VA) },
	  8,
	  14,
	  PF_U | PF_W | PF_P,
	  DIFF_CODE_VA,
	  0,
	  -1,
	  0 },
	{ "exec_data_nx_pf",
	  { 0xb8, LE32(DIFF_DATA_VA), 0xff, 0xe0 },
	  7,
	  14,
	  PF_U | PF_I | PF_P,
	  DIFF_DATA_VA,
	  DIFF_DATA_VA - DIFF_CODE_VA,
	  -1,
	  0 },
	{ "hlt_gp", { 0x90, 0xf4 }, 2, 13, 0, 0, 1, -1, 0 },
	{ "cli_gp", { 0xfa }, 1, 13, 0, 0, 0, -1, 0 },
	{ "noncanonical_gp",
	  { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x48, 0x8b, 0x00 },
	  13,
	  13,
	  0,
	  0,
	  10,
	  -1,
	  0 },
	{ "ud2_ud", { 0x0f, 0x0b, 0x90 }, 3, 6, 0, 0, 0, -1, 0 },
	{ "int3_bp", { 0xcc }, 1, 3, 0, 0, 1, -1, 0 },
	{ "push_rsp", { 0x50 }, 1, DIFF_END, 0, 0, 1, DIFF_RSP, DIFF_STACK_TOP - 8 },
	{ "int1_db_trap", { 0x90, 0xf1 }, 2, 1, 0, 0, 2, -1, 0, true },
};

static bool known_check(const struct known *k, const struct diff_result *r, FILE *f)
{
	bool ok = r->vector == k->vector && r->st.rip == DIFF_CODE_VA + k->rip_off;

	if (k->vector == 13 || k->vector == 14)
		ok &= r->has_err && r->err == k->err;
	if (k->vector == 14)
		ok &= r->has_err && r->cr2 == k->cr2;
	if (k->reg >= 0)
		ok &= r->st.r[k->reg] == k->val;
	if (!ok) {
		fprintf(f, "# expected vector %d err %#x cr2 %#" PRIx64 " rip code+%#" PRIx64 "\n",
			k->vector, k->err, k->cr2, k->rip_off);
		diff_print_result(f, "got", r);
	}
	return ok;
}

unsigned diff_known_run(const struct diff_runner *runner, bool native, struct diff_state *init,
			struct diff_result *res, unsigned *tap)
{
	unsigned failed = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known *k = &known[i];
		struct diff_seq seq = { k->name, k->code, k->len, 0, init };
		bool ok;

		if (native && k->host_differs) {
			printf("ok %u - known/%s (%s) # SKIP the host differs from the SDM here\n",
			       ++*tap, k->name, runner->name);
			continue;
		}
		diff_state_random(init, i + 1);
		runner->run(runner->ctx, &seq, res);
		ok = known_check(k, res, stdout);
		failed += !ok;
		printf("%s %u - known/%s (%s)\n", ok ? "ok" : "not ok", ++*tap, k->name,
		       runner->name);
	}
	return failed;
}
