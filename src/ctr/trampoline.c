/* The last exec of a container's init goes through a tiny static program in
 * a sealed memfd, so that when the user's program is executed the init's
 * /proc/self/exe is that sealed copy, never vessel's binary on disk: an
 * entrypoint that re-executes /proc/self/exe (the CVE-2019-5736 attack)
 * gets a harmless, unwritable trampoline. This costs one exec of a 200-byte
 * static ELF instead of re-executing the whole runtime from a memfd.
 *
 * The program is built here, not compiled: an ELF header, one PT_LOAD
 * segment and this code (x86-64), which calls execve(argv[1], &argv[2], envp):
 *
 *   mov  rax, [rsp]            ; argc
 *   lea  rdx, [rsp+rax*8+16]   ; envp
 *   mov  rdi, [rsp+16]         ; argv[1]: the executable
 *   lea  rsi, [rsp+24]         ; &argv[2]: the process's own argv
 *   mov  eax, 59               ; execve
 *   syscall
 *   mov  edi, 127
 *   mov  eax, 231              ; exit_group(127) if execve failed
 *   syscall
 */
#include "ctr/process.h"
#include "common/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRAMP_BASE 0x400000ULL
#define TRAMP_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static const unsigned char tramp_code[] = {
	0x48, 0x8b, 0x04, 0x24, /* mov rax, [rsp] */
	0x48, 0x8d, 0x54, 0xc4, 0x10, /* lea rdx, [rsp+rax*8+16] */
	0x48, 0x8b, 0x7c, 0x24, 0x10, /* mov rdi, [rsp+16] */
	0x48, 0x8d, 0x74, 0x24, 0x18, /* lea rsi, [rsp+24] */
	0xb8, 0x3b, 0x00, 0x00, 0x00, /* mov eax, 59 */
	0x0f, 0x05, /* syscall */
	0xbf, 0x7f, 0x00, 0x00, 0x00, /* mov edi, 127 */
	0xb8, 0xe7, 0x00, 0x00, 0x00, /* mov eax, 231 */
	0x0f, 0x05, /* syscall */
};

struct tramp_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned char code[sizeof(tramp_code)];
} __attribute__((packed));

static void build(struct tramp_image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = TRAMP_BASE + offsetof(struct tramp_image, code);
	im->eh.e_phoff = offsetof(struct tramp_image, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 1;
	im->ph.p_type = PT_LOAD;
	im->ph.p_flags = PF_R | PF_X;
	im->ph.p_vaddr = im->ph.p_paddr = TRAMP_BASE;
	im->ph.p_filesz = im->ph.p_memsz = sizeof(*im);
	im->ph.p_align = 0x1000;
	memcpy(im->code, tramp_code, sizeof(tramp_code));
}

int vs_trampoline_create(void)
{
	struct tramp_image im;
	int fd, rc;

	build(&im);
	fd = memfd_create("vessel-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (write(fd, &im, sizeof(im)) != (ssize_t)sizeof(im) ||
	    fcntl(fd, F_ADD_SEALS, TRAMP_SEALS) < 0) {
		rc = errno ? -errno : -EIO;
		close(fd);
		return rc;
	}
	return fd;
}

char **vs_trampoline_argv(const char *exe, char *const argv[])
{
	size_t n = 0;
	char **targv;

	while (argv[n])
		n++;
	targv = xzalloc((n + 3) * sizeof(char *));
	targv[0] = (char *)"vessel-exec";
	targv[1] = (char *)exe;
	memcpy(targv + 2, argv, n * sizeof(char *));
	return targv;
}

void vs_trampoline_exec(int fd, char *const targv[], char *const envp[])
{
	char path[32];

	/* execveat may be filtered by the container's seccomp profile where
	 * execve is not: then go through the memfd's /proc path */
	syscall(__NR_execveat, fd, "", targv, envp, AT_EMPTY_PATH);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	execve(path, targv, envp);
}
