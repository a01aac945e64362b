/* memfd-backed guest RAM split around the 32-bit MMIO hole. */
#include "vmm/memory.h"
#include "vmm/sys.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int vs_guest_mem_new(uint64_t size, struct vs_guest_mem **out)
{
	_cleanup_close_ int fd = -1;
	struct vs_guest_mem *mem;
	uint64_t low;
	void *p;

	if (!size || size % 4096)
		return -EINVAL;
	fd = vs_sys->memfd_create("vessel-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0)
		return -errno;
	p = vs_sys->mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Hugepages where the host offers them transparently; harmless otherwise. */
	madvise(p, size, MADV_HUGEPAGE);
	mem = xzalloc(sizeof(*mem));
	mem->fd = steal_fd(fd);
	mem->base = p;
	mem->size = size;
	low = VS_MIN(size, VS_MEM_HOLE_START);
	mem->regions[0] = (struct vs_mem_region){ 0, low, mem->base };
	mem->nregions = 1;
	if (size > low) {
		mem->regions[1] = (struct vs_mem_region){ VS_MEM_HOLE_END, size - low,
							  mem->base + low };
		mem->nregions = 2;
	}
	*out = mem;
	return 0;
}

void vs_guest_mem_free(struct vs_guest_mem *mem)
{
	if (!mem)
		return;
	munmap(mem->base, mem->size);
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
