/* test-smc.c - the `smc` part of the paging test: self-modifying code.
 *
 * A CPU that caches decoded code (QEMU's translation blocks, vessel's emu
 * block cache) must notice writes to code it already ran: Linux patches its
 * own text (alternatives, jump labels, static calls). Three cases, with the
 * templates of smc.S copied into a code page:
 *   imm    rewrite an immediate between calls (also through a second
 *          virtual alias of the page: invalidation must go by physical page)
 *   next   a store that patches the very next instruction of the same block
 *   op     a store that changes the opcode of an instruction further on */
#include "arch.h"
#include "paging.h"
#include "pgtable.h"

#define SMC_ROUNDS 64
#define SMC_ALIAS 6 /* window page aliasing the code page */
#define SMC_IMM_OFF 1 /* B8 imm32: the immediate's offset */

extern const uint8_t smc_imm[], smc_imm_end[], smc_next[], smc_next_end[];
extern const uint8_t smc_op[], smc_op_end[];

static uint8_t smc_page[PG_SIZE] __attribute__((aligned(4096)));

typedef uint32_t (*smc_fn0)(void);
typedef uint32_t (*smc_fn1)(uint32_t x);
typedef uint32_t (*smc_fn3)(uint8_t op, uint32_t a, uint32_t b);

static void *smc_load(const uint8_t *start, const uint8_t *end)
{
	memcpy(smc_page, start, (size_t)(end - start));
	return smc_page;
}

/* A value per round that changes every byte of the immediate. */
static uint32_t smc_value(unsigned int i)
{
	return 0x01010101u * (i + 1) ^ 0x5a000000u;
}

static int smc_imm_case(void)
{
	smc_fn0 f = (smc_fn0)smc_load(smc_imm, smc_imm_end);
	uint64_t alias = pg_va(SMC_ALIAS);
	uint32_t v, want;

	pg_map(alias, (uintptr_t)smc_page, PTE_P | PTE_RW);
	for (unsigned int i = 0; i < SMC_ROUNDS; i++) {
		want = smc_value(i);
		/* odd rounds write through the alias, even ones directly */
		if (i & 1)
			*(volatile uint32_t *)(alias + SMC_IMM_OFF) = want;
		else
			*(volatile uint32_t *)(smc_page + SMC_IMM_OFF) = want;
		v = f();
		if (v != want)
			return part_fail("imm: round %u returned 0x%x, expected 0x%x%s", i, v, want,
					 i & 1 ? " (written through an alias)" : "");
	}
	pg_map(alias, 0, 0);
	return 0;
}

static int smc_next_case(void)
{
	smc_fn1 f = (smc_fn1)smc_load(smc_next, smc_next_end);
	uint32_t v, want;

	for (unsigned int i = 0; i < SMC_ROUNDS; i++) {
		want = smc_value(i);
		v = f(want);
		if (v != want)
			return part_fail("next: round %u returned 0x%x, expected 0x%x", i, v, want);
	}
	return 0;
}

static uint32_t smc_op_ref(uint8_t op, uint32_t a, uint32_t b)
{
	switch (op) {
	case 0x01:
		return a + b;
	case 0x29:
		return a - b;
	case 0x31:
		return a ^ b;
	case 0x21:
		return a & b;
	default:
		return a | b;
	}
}

static int smc_op_case(void)
{
	static const uint8_t ops[] = { 0x01, 0x29, 0x31, 0x21, 0x09 };
	smc_fn3 f = (smc_fn3)smc_load(smc_op, smc_op_end);
	uint32_t a, b, v, want;
	uint8_t op;

	for (unsigned int i = 0; i < SMC_ROUNDS; i++) {
		op = ops[i % TK_ARRAY_SIZE(ops)];
		a = smc_value(i);
		b = smc_value(i * 7 + 3);
		want = smc_op_ref(op, a, b);
		v = f(op, a, b);
		if (v != want)
			return part_fail("op: opcode 0x%02x round %u returned 0x%x, expected 0x%x",
					 op, i, v, want);
	}
	return 0;
}

int part_smc(void)
{
	int r;

	if ((r = smc_imm_case()) || (r = smc_next_case()))
		return r;
	return smc_op_case();
}
