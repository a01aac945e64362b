/* The pool of generated code (jit.h has the contract): one memfd mapped
 * twice, writable at one address and executable at another, handed out in
 * JIT_UNIT granules from size-class free lists; compile and release. The
 * code itself is jit.c's. */
#include "emu/jit.h"

#include "emu/block.h"
#include "emu/jit-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define JIT_NEAR (256ULL << 20) /* distance of the pool below the binary */
#define JIT_MFD_EXEC 0x10u /* MFD_EXEC (Linux 6.3): ask for an executable memfd */

bool emu_jit_enabled(const struct emu_vm_config *cfg)
{
	const char *v;

	if (cfg->jit != EMU_JIT_DEFAULT)
		return cfg->jit == EMU_JIT_ON;
	v = getenv("VESSEL_EMU_JIT");
	return !v || strcmp(v, "0") != 0;
}

bool emu_jit_link_enabled(const struct emu_vm_config *cfg)
{
	const char *v = getenv("VESSEL_EMU_LINK");

	return cfg->ncpus == 1 && (cfg->jit != EMU_JIT_DEFAULT || !v || strcmp(v, "0") != 0);
}

/* The executable view, asked for JIT_NEAR below this binary's code (above
 * it when the binary sits low) so that calls to handlers reach with rel32;
 * the kernel may place it elsewhere, and then calls go through rax. */
static void *map_exec(int fd, size_t size)
{
	uintptr_t text = (uintptr_t)emu_jit_new & ~(uintptr_t)0x1fffff;
	uintptr_t hint = text > 2 * (JIT_NEAR + size) ? text - JIT_NEAR - size : text + JIT_NEAR;

	return mmap((void *)(hint & ~(uintptr_t)0x1fffff), size, PROT_READ | PROT_EXEC, MAP_SHARED,
		    fd, 0);
}

static int open_memfd(size_t size)
{
	int fd = memfd_create("vessel-emu-jit", MFD_CLOEXEC | JIT_MFD_EXEC);

	if (fd < 0 && errno == EINVAL) /* before Linux 6.3: no MFD_EXEC, executable anyway */
		fd = memfd_create("vessel-emu-jit", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int emu_jit_new(size_t size, bool link, struct emu_jit **out)
{
	struct emu_jit *j;
	int fd, r = 0;

	size = (size + 0xfffff) & ~(size_t)0xfffff;
	if (size > UINT32_MAX - 1) /* free lists hold 32-bit offsets */
		size = (size_t)1 << 31;
	if ((fd = open_memfd(size)) < 0)
		return fd;
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		return -ENOMEM;
	}
	j->size = size;
	j->link = link;
	j->rx = map_exec(fd, size);
	j->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->rx == MAP_FAILED || j->rw == MAP_FAILED)
		r = -errno;
	close(fd);
	if (r < 0) {
		j->rx = j->rx == MAP_FAILED ? NULL : j->rx;
		j->rw = j->rw == MAP_FAILED ? NULL : j->rw;
		emu_jit_free(j);
		return r;
	}
	emu_jit_emit_stubs(j);
	j->top = JIT_STUB_BYTES;
	*out = j;
	return 0;
}

void emu_jit_free(struct emu_jit *j)
{
	if (!j)
		return;
	if (j->rx)
		munmap(j->rx, j->size);
	if (j->rw)
		munmap(j->rw, j->size);
	free(j);
}

static void chunk_put(struct emu_jit *j, size_t off, unsigned units)
{
	uint32_t next = j->free[units];

	memcpy(j->rw + off, &next, sizeof(next));
	j->free[units] = (uint32_t)off + 1;
}

static size_t chunk_pop(struct emu_jit *j, unsigned units)
{
	size_t off = j->free[units] - 1;

	memcpy(&j->free[units], j->rw + off, sizeof(uint32_t));
	return off;
}

/* A chunk of units granules: one of that size, else fresh space, else a
 * larger free one split. Returns its offset, or 0 (the stub's) when the
 * pool is full. */
static size_t chunk_get(struct emu_jit *j, unsigned units)
{
	size_t bytes = (size_t)units * JIT_UNIT;

	if (j->free[units])
		return chunk_pop(j, units);
	if (j->top + bytes <= j->size) {
		j->top += bytes;
		return j->top - bytes;
	}
	for (unsigned c = units + 1; c < JIT_CLASSES; c++) {
		if (j->free[c]) {
			size_t off = chunk_pop(j, c);

			chunk_put(j, off + bytes, c - units);
			return off;
		}
	}
	return 0;
}

bool emu_jit_compile(struct emu_jit *j, struct emu_block *b)
{
	struct emu_block_exit sizing[EMU_BLOCK_EXITS] = { 0 };
	uint64_t inlined = 0, ends = 0;
	unsigned units;
	size_t off;

	if (!b->n)
		return false;
	/* sizing pass: nothing written */
	units = (unsigned)((emu_jit_emit_block(j, b, NULL, 0, &inlined, &ends, sizing) + JIT_UNIT -
			    1) /
			   JIT_UNIT);
	if (units >= JIT_CLASSES || !(off = chunk_get(j, units)))
		return false;
	inlined = ends = 0;
	emu_jit_emit_block(j, b, j->rw + off, (uintptr_t)j->rx + off, &inlined, &ends, b->exit);
	for (unsigned k = 0; k < EMU_BLOCK_EXITS; k++)
		if (b->exit[k].at)
			b->exit[k].at += (uint32_t)off;
	b->code = (emu_jit_code)(void *)(j->rx + off);
	b->code_bytes = units * JIT_UNIT;
	j->live += b->code_bytes;
	j->inlined += inlined;
	j->ends += ends;
	return true;
}

void emu_jit_cut(struct emu_jit *j, uintptr_t frame)
{
	/* every handler call of the block pushes its return address here */
	uintptr_t *ret = (uintptr_t *)(frame - sizeof(uintptr_t));

	*ret = (uintptr_t)j->rx;
}

uint64_t emu_jit_inlined(const struct emu_jit *j)
{
	return j->inlined;
}

uint64_t emu_jit_ends_inlined(const struct emu_jit *j)
{
	return j->ends;
}

void emu_jit_release(struct emu_jit *j, struct emu_block *b)
{
	if (!j || !b->code)
		return;
	chunk_put(j, (size_t)((uint8_t *)(void *)b->code - j->rx), b->code_bytes / JIT_UNIT);
	j->live -= b->code_bytes;
	b->code = NULL;
	if (!j->live) { /* all free (after a flush): start afresh, unfragmented */
		memset(j->free, 0, sizeof(j->free));
		j->top = JIT_STUB_BYTES;
	}
}
