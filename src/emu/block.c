/* The decoded-block cache, shared by the vCPUs of a VM.
 *
 * A block is a run of decoded instructions starting at a guest-physical
 * address; it also records the mode and virtual RIP it was decoded for
 * (branch targets and RIP-relative operands are folded in), and a lookup
 * that differs in any of them misses. Blocks end at control transfers and
 * system instructions (EMU_IF_END), at the end of the page, or after
 * EMU_BLOCK_MAX instructions; only a block's first instruction may straddle
 * into a second page (then the block is that one instruction).
 *
 * Map: lookup hash (by gpa, lock-free readers), page lists (blocks per code
 * page, for invalidation), building, invalidation and retirement.
 *
 * Concurrency: writers (build, invalidate) hold cache->lock. Readers walk
 * hash chains without it. An invalidated block is unlinked, marked dead and
 * put on a retired list tagged with a new generation number; each vCPU
 * publishes, at block boundaries, the generation it has seen (and clears
 * its private lookup cache when it changes). A retired block is freed once
 * every vCPU has published a generation at or past its tag, i.e. none can
 * still hold a pointer to it.
 *
 * Budget: the cache counts the bytes of its live blocks and page entries.
 * A build that would pass the budget (emu_vm_config.code_cache_bytes)
 * first flushes everything, as TCG flushes its translation buffer when it
 * is full: every live block is retired under one new generation (so other
 * vCPUs finish the block they run and drop their private lookups at their
 * next boundary) and freed by the same reclamation as invalidated blocks.
 * Retirement tags only grow and blocks are pushed at the head, so the
 * retired list is sorted (newest first) and reclaim frees a tail of it. */
#include "emu/block.h"

#include "common/util.h"
#include "emu/core.h"
#include "emu/decode.h"
#include "emu/jit.h"

#include <errno.h>
#include <stdlib.h>

#define HASH_BITS 16
#define PAGE_BITS 14
#define QUIESCENT UINT64_MAX

struct page_ent {
	uint64_t page; /* gpa >> 12 */
	struct emu_block *head;
	struct page_ent *next;
};

struct emu_block_cache {
	pthread_mutex_t lock;
	struct emu_block *_Atomic hash[1u << HASH_BITS];
	struct page_ent *pages[1u << PAGE_BITS];
	_Atomic uint64_t gen;
	unsigned building; /* blocks being decoded (their pages are marked) */
	struct emu_block *retired;
	uint64_t retired_oldest; /* retire_gen of the list's tail (oldest) */
	size_t bytes; /* live blocks and page entries */
	size_t budget;
	_Atomic uint64_t seen[EMU_MAX_CPUS];
	struct emu_core_cpu *percpu[EMU_MAX_CPUS];
	struct emu_jit *jit; /* host code for blocks (jit.h), or NULL: interpret */
};

static inline unsigned hash_of(uint64_t gpa)
{
	return (unsigned)((gpa ^ (gpa >> HASH_BITS)) & ((1u << HASH_BITS) - 1));
}

static inline unsigned page_hash(uint64_t page)
{
	return (unsigned)((page ^ (page >> PAGE_BITS)) & ((1u << PAGE_BITS) - 1));
}

int emu_blocks_new(struct emu_vm *vm)
{
	struct emu_block_cache *c = calloc(1, sizeof(*c));
	uint64_t ram = 0;

	if (!c)
		return -ENOMEM;

	for (unsigned i = 0; i < vm->nram; i++)
		ram += vm->ram[i].size;
	c->budget = vm->cfg.code_cache_bytes ? vm->cfg.code_cache_bytes :
					       EMU_CODE_CACHE_DEFAULT(ram);
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->gen, 1); /* 0 is never current: zeroed links and slots are empty */
	for (unsigned i = 0; i < EMU_MAX_CPUS; i++)
		atomic_init(&c->seen[i], QUIESCENT);
	/* Generated code takes under half the bytes of the decoded form; a
	 * pool that cannot be made (no memfd, no executable mapping) leaves
	 * every block to the interpreter. Only a single vCPU chains blocks
	 * (exec.c), so only its code links. */
	if (emu_jit_enabled(&vm->cfg) &&
	    emu_jit_new(c->budget / 2, emu_jit_link_enabled(&vm->cfg), &c->jit) < 0)
		c->jit = NULL;
	vm->blocks = c;
	return 0;
}

/* Frees a block no vCPU can reach any more, and its code. */
static void block_free(struct emu_block_cache *c, struct emu_block *b)
{
	emu_jit_release(c->jit, b);
	free(b);
}

void emu_blocks_free(struct emu_vm *vm)
{
	struct emu_block_cache *c = vm->blocks;

	if (!c)
		return;
	for (unsigned i = 0; i < (1u << HASH_BITS); i++) {
		for (struct emu_block *b = c->hash[i], *n; b; b = n) {
			n = b->hnext;
			block_free(c, b);
		}
	}
	for (unsigned i = 0; i < (1u << PAGE_BITS); i++) {
		for (struct page_ent *p = c->pages[i], *n; p; p = n) {
			n = p->next;
			free(p);
		}
	}
	for (struct emu_block *b = c->retired, *n; b; b = n) {
		n = b->rnext;
		block_free(c, b);
	}
	for (unsigned i = 0; i < EMU_MAX_CPUS; i++)
		free(c->percpu[i]);
	emu_jit_free(c->jit);
	pthread_mutex_destroy(&c->lock);
	free(c);
	vm->blocks = NULL;
}

/* ---- per-vCPU state and generations ---------------------------------------- */

struct emu_core_cpu *emu_core_of(struct emu_cpu *cpu)
{
	struct emu_block_cache *c = cpu->vm->blocks;
	struct emu_core_cpu *cc = c->percpu[cpu->index];

	if (!cc) {
		cc = aligned_alloc(_Alignof(struct emu_core_cpu), sizeof(*cc)); /* jump[] */
		if (!cc)
			xoom();
		memset(cc, 0, sizeof(*cc));
		cc->gen = atomic_load(&c->gen);
		cc->gen_src = &c->gen;
		cc->chain = cpu->vm->ncpus == 1;
		cc->jit = c->jit;
		cc->jump_fill = cc->chain && c->jit && emu_jit_link_enabled(&cpu->vm->cfg);
		c->percpu[cpu->index] = cc;
	}
	return cc;
}

void emu_core_sync(struct emu_cpu *cpu, struct emu_core_cpu *cc)
{
	struct emu_block_cache *c = cpu->vm->blocks;
	uint64_t g = atomic_load_explicit(&c->gen, memory_order_acquire);

	if (__builtin_expect(g == cc->gen, 1))
		return;
	cc->gen = g; /* every slot of cc->fast tagged before g is stale */
	atomic_store_explicit(&c->seen[cpu->index], g, memory_order_release);
}

void emu_core_enter(struct emu_cpu *cpu, struct emu_core_cpu *cc)
{
	/* Publish before looking at the generation (both seq_cst): a reclaim
	 * that still saw us quiescent happened before our load of gen, so we
	 * see its retirements and drop them from cc->fast. */
	atomic_store(&cpu->vm->blocks->seen[cpu->index], cc->gen);
	emu_core_sync(cpu, cc);
}

void emu_core_quiesce(struct emu_cpu *cpu, struct emu_core_cpu *cc)
{
	(void)cc;
	atomic_store(&cpu->vm->blocks->seen[cpu->index], QUIESCENT);
}

static uint64_t min_seen(struct emu_vm *vm, struct emu_block_cache *c)
{
	uint64_t min = QUIESCENT;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		uint64_t s = atomic_load_explicit(&c->seen[i], memory_order_acquire);

		min = s < min ? s : min;
	}
	return min;
}

/* Frees retired blocks no vCPU can still reference: the tail of the list
 * tagged at or below every vCPU's published generation. Called with the
 * lock. */
static void reclaim(struct emu_vm *vm, struct emu_block_cache *c)
{
	uint64_t min = min_seen(vm, c);
	struct emu_block **pp = &c->retired, *last = NULL;

	while (*pp && (*pp)->retire_gen > min) {
		last = *pp;
		pp = &last->rnext;
	}
	for (struct emu_block *b = *pp, *n; b; b = n) {
		n = b->rnext;
		block_free(c, b);
	}
	*pp = NULL;
	c->retired_oldest = last ? last->retire_gen : 0;
}

/* ---- page lists ------------------------------------------------------------ */

static struct page_ent *page_find(struct emu_block_cache *c, uint64_t page, bool create)
{
	struct page_ent **pp = &c->pages[page_hash(page)];

	for (struct page_ent *p = *pp; p; p = p->next)
		if (p->page == page)
			return p;
	if (!create)
		return NULL;
	struct page_ent *p = xzalloc(sizeof(*p));

	c->bytes += sizeof(*p);
	p->page = page;
	p->next = *pp;
	*pp = p;
	return p;
}

/* A block sits on the list of its first page (link pnext) and, when it
 * straddles, of its second page (link pnext2). */
static inline struct emu_block **page_link(struct emu_block *b, uint64_t page)
{
	return (b->gpa >> 12) == page ? &b->pnext : &b->pnext2;
}

static void page_add(struct emu_block_cache *c, uint64_t page, struct emu_block *b)
{
	struct page_ent *p = page_find(c, page, true);

	*page_link(b, page) = p->head;
	p->head = b;
}

static void page_remove(struct emu_block_cache *c, uint64_t page, struct emu_block *b)
{
	struct page_ent *p = page_find(c, page, false);

	if (!p)
		return;
	for (struct emu_block **pp = &p->head; *pp; pp = page_link(*pp, page)) {
		if (*pp == b) {
			*pp = *page_link(b, page);
			return;
		}
	}
}

/* ---- lookup and insertion --------------------------------------------------- */

struct emu_block *emu_block_find(struct emu_vm *vm, uint64_t gpa, uint64_t rip, unsigned mode)
{
	struct emu_block *b =
		atomic_load_explicit(&vm->blocks->hash[hash_of(gpa)], memory_order_acquire);

	for (; b; b = atomic_load_explicit(&b->hnext, memory_order_acquire))
		if (b->gpa == gpa && b->rip == rip && b->mode == mode)
			return b;
	return NULL;
}

static void insert(struct emu_block_cache *c, struct emu_block *b)
{
	struct emu_block *_Atomic *head = &c->hash[hash_of(b->gpa)];

	page_add(c, b->gpa >> 12, b);
	if (b->gpa2 != EMU_NO_GPA)
		page_add(c, b->gpa2 >> 12, b);
	atomic_store_explicit(&b->hnext, atomic_load(head), memory_order_relaxed);
	atomic_store_explicit(head, b, memory_order_release);
}

static size_t block_bytes(const struct emu_block *b)
{
	return sizeof(*b) + b->n * sizeof(struct emu_insn);
}

/* Puts b on the retired list under generation gen. Called with the lock. */
static void push_retired(struct emu_block_cache *c, struct emu_block *b, uint64_t gen)
{
	b->dead = true;
	b->retire_gen = gen;
	if (!c->retired)
		c->retired_oldest = gen;
	b->rnext = c->retired;
	c->retired = b;
	c->bytes -= block_bytes(b);
}

/* The budget is reached: retire every live block under one generation and
 * drop the page lists. Readers mid-walk keep valid chains (hnext is left
 * alone; only the heads are cleared, before the generation moves on), and
 * every vCPU, this one included, still publishes an older generation, so
 * nothing is freed before they all pass a block boundary. Called with the
 * lock. */
static void flush_all(struct emu_block_cache *c)
{
	uint64_t gen;

	for (unsigned i = 0; i < (1u << HASH_BITS); i++) {
		for (struct emu_block *b = atomic_load(&c->hash[i]); b; b = b->hnext) {
			emu_jit_unchain(c->jit, b); /* before the generation: see retire() */
			b->dead = true;
		}
	}
	for (unsigned i = 0; i < (1u << HASH_BITS); i++)
		atomic_store_explicit(&c->hash[i], NULL, memory_order_release);
	gen = atomic_fetch_add(&c->gen, 1) + 1;
	for (unsigned i = 0; i < (1u << PAGE_BITS); i++) {
		for (struct page_ent *p = c->pages[i], *n; p; p = n) {
			n = p->next;
			for (struct emu_block *b = p->head, *bn; b; b = bn) {
				bn = *page_link(b, p->page);
				/* a straddler is on two lists: retire it from its first */
				if ((b->gpa >> 12) == p->page)
					push_retired(c, b, gen);
			}
			free(p);
		}
		c->pages[i] = NULL;
	}
	c->bytes = 0;
}

/* Decodes up to EMU_BLOCK_MAX instructions into buf; returns the count. */
static unsigned decode_run(struct emu_cpu *cpu, struct emu_dsrc *s, uint64_t rip,
			   struct emu_insn *buf, uint64_t *gpa2)
{
	unsigned n = 0;

	while (n < EMU_BLOCK_MAX) {
		struct emu_insn *in = &buf[n];

		s->pos = 0;
		s->may_cross = n == 0;
		if (emu_decode(cpu, s, rip, in) < 0)
			break;
		n++;
		rip += in->len;
		if (s->crossed) {
			*gpa2 = s->gpa2;
			break;
		}
		if ((in->flags & EMU_IF_END) || in->len >= s->avail)
			break;
		s->p += in->len;
		s->avail -= in->len;
		s->lin += in->len;
	}
	return n;
}

struct emu_block *emu_block_build(struct emu_cpu *cpu, uint64_t gpa, uint64_t lin, const uint8_t *p,
				  unsigned avail)
{
	struct emu_block_cache *c = cpu->vm->blocks;
	struct emu_insn buf[EMU_BLOCK_MAX];
	struct emu_dsrc s = { .p = p, .avail = avail, .lin = lin };
	uint64_t gpa2 = EMU_NO_GPA;
	struct emu_block *b;
	unsigned n;

	/* Mark the page before reading it, so a write racing with the decode
	 * reaches emu_code_written() and finds the block once inserted. */
	pthread_mutex_lock(&c->lock);
	c->building++;
	pthread_mutex_unlock(&c->lock);
	emu_core_of(cpu)->building = true;
	emu_page_set_code(cpu->vm, gpa);
	n = decode_run(cpu, &s, cpu->rip, buf, &gpa2);
	emu_core_of(cpu)->building = false;
	if (gpa2 != EMU_NO_GPA)
		emu_page_set_code(cpu->vm, gpa2);
	b = xmalloc(sizeof(*b) + n * sizeof(struct emu_insn));
	memset(b, 0, sizeof(*b));
	b->gpa = gpa;
	b->gpa_end = gpa + s.lin - lin + (n ? buf[n - 1].len : 0);
	b->gpa2 = gpa2;
	b->rip = cpu->rip;
	b->mode = (uint8_t)cpu->mode;
	b->n = (uint16_t)n;
	b->sys = n && (buf[n - 1].flags & EMU_IF_SYS);
	memcpy(b->insn, buf, n * sizeof(struct emu_insn));
	pthread_mutex_lock(&c->lock);
	if (c->bytes + block_bytes(b) > c->budget) {
		flush_all(c);
		cpu->stats.cache_flushes++;
	}
	if (c->retired && min_seen(cpu->vm, c) >= c->retired_oldest)
		reclaim(cpu->vm, c);
	if (c->jit && emu_jit_compile(c->jit, b))
		cpu->stats.blocks_jit++;
	insert(c, b);
	c->bytes += block_bytes(b);
	c->building--;
	pthread_mutex_unlock(&c->lock);
	cpu->stats.blocks_built++;
	return b;
}

void emu_block_build_abort(struct emu_cpu *cpu)
{
	struct emu_block_cache *c = cpu->vm->blocks;

	emu_core_of(cpu)->building = false;
	pthread_mutex_lock(&c->lock);
	c->building--;
	pthread_mutex_unlock(&c->lock);
}

/* ---- invalidation ------------------------------------------------------------- */

static void unlink_hash(struct emu_block_cache *c, struct emu_block *b)
{
	struct emu_block *_Atomic *pp = &c->hash[hash_of(b->gpa)];

	for (struct emu_block *x; (x = atomic_load(pp)); pp = &x->hnext) {
		if (x == b) {
			atomic_store_explicit(pp, atomic_load(&b->hnext), memory_order_release);
			return;
		}
	}
}

/* Before the new generation is published: a vCPU that has seen it (and
 * so may let b be freed) finds no direct jump into b or out of it, and
 * one that has not yet is turned back by the chained entry's check of
 * the generation. */
static void retire(struct emu_block_cache *c, struct emu_block *b)
{
	unlink_hash(c, b);
	page_remove(c, b->gpa >> 12, b);
	if (b->gpa2 != EMU_NO_GPA)
		page_remove(c, b->gpa2 >> 12, b);
	emu_jit_unchain(c->jit, b);
	b->dead = true;
	push_retired(c, b, atomic_fetch_add(&c->gen, 1) + 1);
}

void emu_block_chain(struct emu_cpu *cpu, struct emu_block *prev, struct emu_block *b, bool cross)
{
	struct emu_block_cache *c = cpu->vm->blocks;

	for (unsigned k = 0; k < EMU_BLOCK_EXITS; k++) {
		struct emu_block_exit *x = &prev->exit[k];

		/* only this vCPU chains; retirement may unchain meanwhile */
		if (!x->at || emu_block_exit_rip(prev, x) != b->rip ||
		    __atomic_load_n(&x->to, __ATOMIC_RELAXED) == b)
			continue;
		pthread_mutex_lock(&c->lock);
		if (!prev->dead && !b->dead && b->code) {
			emu_jit_chain(c->jit, x, b, cross);
			cpu->stats.chains++;
		}
		pthread_mutex_unlock(&c->lock);
	}
}

static bool overlaps(const struct emu_block *b, uint64_t gpa, unsigned len)
{
	if (gpa < b->gpa_end && gpa + len > b->gpa)
		return true;
	/* the straddling tail: bytes from the start of the second page */
	return b->gpa2 != EMU_NO_GPA && (gpa >> 12) == (b->gpa2 >> 12);
}

/* The executing block was dropped: make its next instruction leave it so
 * the following instruction is decoded afresh from the new bytes. The
 * interpreter calls next->fn; generated code has the handler's address
 * built in, so the running handler returns into the exit stub instead. */
static void cut_current(struct emu_block_cache *c, struct emu_cpu *cpu, struct emu_core_cpu *cc,
			struct emu_block *b)
{
	struct emu_insn *next = (struct emu_insn *)cpu->cur + 1;

	if (cpu->cur < b->insn || next >= b->insn + b->n)
		return;
	__atomic_store_n(&next->fn, emu_op_smc_exit, __ATOMIC_RELAXED);
	if (cc->jit_frame)
		emu_jit_cut(c->jit, cc->jit_frame);
}

/* Drops the blocks overlapping [gpa, gpa+len) within one page; cpu is the
 * writing vCPU (its executing block gets cut) or NULL for outside writers. */
static void invalidate(struct emu_vm *vm, struct emu_cpu *cpu, uint64_t gpa, unsigned len)
{
	struct emu_block_cache *c = vm->blocks;
	struct emu_core_cpu *cc = cpu ? c->percpu[cpu->index] : NULL;
	uint64_t page = gpa >> 12;
	struct page_ent *p;

	pthread_mutex_lock(&c->lock);
	/* The writer's block may have been flushed (by another vCPU, at the
	 * budget) while it runs: no page list holds it any more, but a store
	 * into its own remaining instructions must still end it. */
	if (cc && cc->cur && cc->cur->dead && overlaps(cc->cur, gpa, len))
		cut_current(c, cpu, cc, cc->cur);
	p = page_find(c, page, false);
	for (struct emu_block *b = p ? p->head : NULL, *n; b; b = n) {
		n = *page_link(b, page);
		if (!overlaps(b, gpa, len))
			continue;
		if (cc && cc->cur == b)
			cut_current(c, cpu, cc, b);
		retire(c, b);
		if (cpu)
			cpu->stats.blocks_flushed++;
	}
	if ((!p || !p->head) && !c->building)
		emu_page_clear_code(vm, gpa);
	if (c->retired && min_seen(vm, c) >= c->retired_oldest)
		reclaim(vm, c);
	pthread_mutex_unlock(&c->lock);
}

void emu_code_written(struct emu_cpu *cpu, uint64_t gpa, unsigned len)
{
	invalidate(cpu->vm, cpu, gpa, len);
}

void emu_vm_mem_written(struct emu_vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (!vm->blocks || end < gpa)
		return;
	while (gpa < end) {
		uint64_t next = (gpa | 0xfff) + 1;
		unsigned n = (unsigned)((next < end ? next : end) - gpa);

		if (emu_page_is_code(vm, gpa))
			invalidate(vm, NULL, gpa, n);
		gpa = next;
	}
}
