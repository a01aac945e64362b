/* Device DMA into guest RAM, with the accelerator told about every write. */
#include "vmm/dma.h"
#include "vmm/accel.h"
#include "vmm/internal.h"
#include "vmm/memory.h"

#include <errno.h>
#include <string.h>

static void vm_mem_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vs_vm *vm = ctx;

	if (vm->accel->mem_written)
		vm->accel->mem_written(vm, gpa, len);
}

void vs_vm_dma(struct vs_vm *vm, struct vs_dma *out)
{
	*out = (struct vs_dma){ .mem = vm->mem, .written = vm_mem_written, .ctx = vm };
}

void *vs_dma_ptr(const struct vs_dma *dma, uint64_t gpa, uint64_t len)
{
	return vs_guest_mem_ptr(dma->mem, gpa, len);
}

void vs_dma_done(const struct vs_dma *dma, uint64_t gpa, uint64_t len)
{
	if (len && dma->written)
		dma->written(dma->ctx, gpa, len);
}

int vs_dma_read(const struct vs_dma *dma, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = vs_dma_ptr(dma, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int vs_dma_write(const struct vs_dma *dma, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = vs_dma_ptr(dma, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	vs_dma_done(dma, gpa, len);
	return 0;
}
