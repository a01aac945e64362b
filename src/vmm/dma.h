/* Device access to guest RAM (DMA). Every device write to guest memory goes
 * through vs_dma_write() or is reported with vs_dma_done(), so the software
 * CPU (emu) drops code it decoded from the written bytes (emu.h
 * emu_vm_mem_written); under kvm the hook is a no-op. A device holds a
 * struct vs_dma, never the accelerator. */
#ifndef VS_VMM_DMA_H
#define VS_VMM_DMA_H

#include <stdint.h>

struct vs_guest_mem;
struct vs_vm;

struct vs_dma {
	const struct vs_guest_mem *mem;
	/* Called after the device wrote [gpa, gpa+len); NULL: nothing to do. */
	void (*written)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

/* The DMA context of a VM: its RAM and its accelerator's mem_written hook. */
void vs_vm_dma(struct vs_vm *vm, struct vs_dma *out);

/* Host pointer for [gpa, gpa+len) when it lies wholly in guest RAM, else
 * NULL. Overflow-safe for any gpa and len. */
void *vs_dma_ptr(const struct vs_dma *dma, uint64_t gpa, uint64_t len);

/* Reports that the device wrote [gpa, gpa+len) through a pointer from
 * vs_dma_ptr. Any thread. */
void vs_dma_done(const struct vs_dma *dma, uint64_t gpa, uint64_t len);

/* Copies between guest RAM and the VMM. Return 0, or -EFAULT when the range
 * is not wholly in guest RAM (then nothing is copied). vs_dma_write reports
 * the write itself. */
int vs_dma_read(const struct vs_dma *dma, uint64_t gpa, void *dst, uint64_t len);
int vs_dma_write(const struct vs_dma *dma, uint64_t gpa, const void *src, uint64_t len);

#endif
