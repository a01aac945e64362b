/* Guest RAM (anonymous or memfd) split around the 32-bit MMIO hole. */
#include "vmm/memory.h"
#include "vmm/sys.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_2M (2ULL << 20)

/* Maps size bytes at a 2 MiB-aligned address (so THP and KVM can use
 * 2 MiB pages: the guest-physical and host-virtual offsets must agree
 * modulo 2 MiB): reserves 2 MiB more, then maps the RAM over the aligned
 * part with MAP_FIXED. *map / *map_len get the whole reservation (what to
 * unmap). Returns the aligned base, or MAP_FAILED with errno set. */
static uint8_t *map_aligned(uint64_t size, int fd, void **map, size_t *map_len)
{
	int flags = MAP_FIXED | MAP_NORESERVE |
		    (fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS);
	size_t len = size + HUGE_2M;
	uint8_t *res, *p;
	int e;

	res = vs_sys->mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			   0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)VS_ALIGN_UP((uintptr_t)res, HUGE_2M);
	if (vs_sys->mmap(p, size, PROT_READ | PROT_WRITE, flags, fd, 0) == MAP_FAILED) {
		e = errno;
		munmap(res, len);
		errno = e;
		return MAP_FAILED;
	}
	*map = res;
	*map_len = len;
	return p;
}

int vs_guest_mem_new_backed(uint64_t size, enum vs_mem_backing backing, struct vs_guest_mem **out)
{
	_cleanup_close_ int fd = -1;
	struct vs_guest_mem *mem;
	uint64_t low;
	void *map;
	size_t map_len;
	uint8_t *p;

	if (!size || size % 4096 || size > SIZE_MAX - HUGE_2M)
		return -EINVAL;
	if (backing == VS_MEM_AUTO)
		backing = VS_MEM_ANON;
	if (backing == VS_MEM_MEMFD) {
		fd = vs_sys->memfd_create("vessel-guest-ram", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, size) < 0)
			return -errno;
	}
	p = map_aligned(size, fd, &map, &map_len);
	if (p == MAP_FAILED)
		return -errno;
	/* vs_vm_release_after_exit()'s child needs only KVM fds: without this,
	 * fork() would copy the page tables of private guest RAM and COW it. */
	madvise(p, size, MADV_DONTFORK);
	/* Huge pages only when asked for: see memory.h for why not by default. */
	if (backing == VS_MEM_ANON_THP)
		madvise(p, size, MADV_HUGEPAGE);
	mem = xzalloc(sizeof(*mem));
	mem->fd = steal_fd(fd);
	mem->backing = backing;
	mem->map = map;
	mem->map_size = map_len;
	mem->base = p;
	mem->size = size;
	low = VS_MIN(size, VS_MEM_HOLE_START);
	mem->regions[0] = (struct vs_mem_region){ 0, low, mem->base };
	mem->nregions = 1;
	if (size > low) {
		mem->regions[1] =
			(struct vs_mem_region){ VS_MEM_HOLE_END, size - low, mem->base + low };
		mem->nregions = 2;
	}
	*out = mem;
	return 0;
}

int vs_guest_mem_new(uint64_t size, struct vs_guest_mem **out)
{
	return vs_guest_mem_new_backed(size, VS_MEM_ANON, out);
}

void vs_guest_mem_free(struct vs_guest_mem *mem)
{
	if (!mem)
		return;
	munmap(mem->map, mem->map_size);
	if (mem->fd >= 0)
		close(mem->fd);
	free(mem);
}

void *vs_guest_mem_ptr(const struct vs_guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct vs_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

uint64_t vs_guest_mem_low(const struct vs_guest_mem *mem)
{
	return mem->regions[0].size;
}

uint64_t vs_guest_mem_high(const struct vs_guest_mem *mem)
{
	return mem->nregions > 1 ? mem->regions[1].size : 0;
}
