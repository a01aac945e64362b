/* The kernel inside a bzImage, unpacked on the host: the XZ payload
 * (boot.rst "payload_offset/payload_length") decompressed with liblzma and
 * its ELF PT_LOAD segments copied to their physical addresses, so the
 * guest starts at the kernel's own startup_64 (e_entry) in the 64-bit boot
 * state the decompressor would have left (identity map, RSI = zero page),
 * as Firecracker boots a vmlinux. Under emu the in-guest XZ decompressor
 * is most of a stock kernel's boot (about 4.5 of 7 billion instructions for
 * Debian's); no KASLR then, as with any bootloader that skips it.
 *
 * The file is untrusted: every size and offset is checked against the
 * decompressed image, the segments against the plan's kernel range. */
#include "vmm/arch/x86/vmlinux.h"
#include "vmm/arch/x86/bzimage.h"
#include "vmm/memory.h"
#include "common/err.h"
#include "common/util.h"

#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#define XZ_MAGIC \
	"\xfd"   \
	"7zXZ\0"
#define MAX_VMLINUX (256u << 20)
#define MAX_SEGMENTS 16

static int unxz(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64u << 20;
	uint8_t *buf = malloc(cap);
	lzma_ret r;

	if (!buf || lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(buf);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = buf;
	s.avail_out = cap;
	do {
		r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_OK && s.avail_out == 0 && cap < MAX_VMLINUX) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			s.next_out = buf + cap;
			s.avail_out = cap;
			cap *= 2;
		} else if (r == LZMA_OK && s.avail_out == 0) {
			break;
		}
	} while (r == LZMA_OK);
	*out_len = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

/* Checks the ELF header and its PT_LOAD segments; fills seg[] (at most
 * MAX_SEGMENTS) and returns their number, or -ENOEXEC. */
static int elf_segments(const uint8_t *img, size_t len, Elf64_Phdr *seg, uint64_t *entry)
{
	Elf64_Ehdr eh;
	int n = 0;

	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return -ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (n == MAX_SEGMENTS || ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset || ph.p_memsz > MAX_VMLINUX)
			return -ENOEXEC;
		seg[n++] = ph;
	}
	*entry = eh.e_entry;
	return n ? n : -ENOEXEC;
}

int vs_vmlinux_unpack(const struct vs_bzimage *bz, const struct vs_boot_plan *plan,
		      struct vs_guest_mem *mem, uint64_t *entry, struct vs_err **err)
{
	uint32_t off = bz->hdr.payload_offset, plen = bz->hdr.payload_length;
	const uint8_t *p = bz->kernel + off;
	Elf64_Phdr seg[MAX_SEGMENTS];
	uint8_t *img = NULL;
	size_t len = 0;
	int n, r;

	if (off > bz->kernel_len || plen > bz->kernel_len - off || plen < 6 ||
	    memcmp(p, XZ_MAGIC, 6))
		return -ENOTSUP; /* not XZ: the guest's own decompressor runs */
	if ((r = unxz(p, plen, &img, &len)) < 0)
		return vs_err_set(err, r, "kernel payload: XZ data does not decompress");
	n = elf_segments(img, len, seg, entry);
	for (int i = 0; i < n; i++) {
		uint8_t *dst;

		if (seg[i].p_paddr < plan->kernel_addr || seg[i].p_paddr > plan->kernel_end ||
		    seg[i].p_memsz > plan->kernel_end - seg[i].p_paddr ||
		    !(dst = vs_guest_mem_ptr(mem, seg[i].p_paddr, seg[i].p_memsz))) {
			n = -ENOEXEC;
			break;
		}
		memcpy(dst, img + seg[i].p_offset, seg[i].p_filesz);
		memset(dst + seg[i].p_filesz, 0, seg[i].p_memsz - seg[i].p_filesz);
	}
	free(img);
	if (n < 0)
		return vs_err_set(
			err, -ENOEXEC,
			"kernel payload: not an x86-64 ELF whose segments fit its init_size");
	if (*entry < plan->kernel_addr || *entry >= plan->kernel_end)
		return vs_err_set(err, -ENOEXEC, "kernel payload: entry point outside the kernel");
	return 0;
}
