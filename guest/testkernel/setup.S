/* setup.S - the bzImage's real-mode part: boot sector, setup header, setup code.
 *
 * Assembled on its own and packed in front of the kernel by mkbzimage.py,
 * which fills setup_sects, syssize and init_size (marked "patched"). Boot
 * protocol 2.15, Documentation/arch/x86/boot.rst.
 *
 * A 64-bit loader (vessel) reads only the header and enters the kernel at
 * load address + 0x200 in long mode. A BIOS loader (QEMU -kernel with a
 * bzImage) runs setup_entry in real mode, as for Linux: we build a zero page
 * (the header plus a BIOS E820 map) in our segment at ZERO_PAGE and enter the
 * kernel's 32-bit entry at code32_start with %esi = that zero page.
 *
 * Only label differences are used (no relocations): the file is position
 * independent, its segment is whatever the loader chose. */

#define ZERO_PAGE 0x1000 /* offset in our segment; the setup code ends below it */
#define SETUP_STACK 0xE000
#define E820_MAX 128
#define SMAP 0x534D4150

	.code16
	.text
start:
	.org 0x1F1
setup_sects:	.byte 0 /* patched */
root_flags:	.word 0
syssize:	.long 0 /* patched: protected-mode size in 16-byte units */
ram_size:	.word 0
vid_mode:	.word 0xFFFF /* normal */
root_dev:	.word 0
boot_flag:	.word 0xAA55
	/* 0x200: the real-mode entry (seg+0x20:0) */
	jmp setup_entry
header:		.ascii "HdrS"
version:	.word 0x020F
realmode_swtch:	.long 0
start_sys_seg:	.word 0x1000
kernel_version:	.word kver - start - 0x200
type_of_loader:	.byte 0
loadflags:	.byte 0x01 /* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:	.long 0x100000
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7FFFFFFF
kernel_alignment: .long 0x100000
relocatable_kernel: .byte 0
min_alignment:	.byte 20
xloadflags:	.word 0x0001 /* XLF_KERNEL_64: 64-bit entry at load address + 0x200 */
cmdline_size:	.long 2047
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad 0x100000
init_size:	.long 0 /* patched: memory needed from pref_address, .bss included */
handover_offset: .long 0
kernel_info_offset: .long 0x100 /* TK_KERNEL_INFO_OFFSET */
header_end:

setup_entry:
	cli
	cld
	movw %cs, %ax
	subw $0x20, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $SETUP_STACK, %sp
	/* zero page: zeroes, then the header as the loader filled it in */
	movw $ZERO_PAGE, %di
	movw $2048, %cx
	xorw %ax, %ax
	rep stosw
	movw $(setup_sects - start), %si
	movw $(ZERO_PAGE + setup_sects - start), %di
	movw $(header_end - setup_sects), %cx
	rep movsb
	/* BIOS E820 map into boot_params.e820_table (0x2D0), count at 0x1E8 */
	xorl %ebx, %ebx
	xorw %bp, %bp
	movw $(ZERO_PAGE + 0x2D0), %di
1:	movl $0xE820, %eax
	movl $20, %ecx
	movl $SMAP, %edx
	int $0x15
	jc 2f
	cmpl $SMAP, %eax
	jne 2f
	addw $20, %di
	incw %bp
	testl %ebx, %ebx
	jz 2f
	cmpw $E820_MAX, %bp
	jb 1b
2:	movw %bp, %ax
	movb %al, ZERO_PAGE + 0x1E8
	/* protected mode: flat GDT at our linear base, then the 32-bit entry */
	cli
	xorl %eax, %eax
	movw %ds, %ax
	shll $4, %eax
	leal ZERO_PAGE(%eax), %esi
	leal (setup_gdt - start)(%eax), %ebx
	movl %ebx, setup_gdtr - start + 2
	lgdtl setup_gdtr - start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $0x100000

	.balign 8
setup_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code, flat (== TK_CS32) */
	.quad 0x00cf92000000ffff /* 0x10: data, flat */
setup_gdtr:
	.word setup_gdtr - setup_gdt - 1
	.long 0 /* patched at run time */

kver:	.asciz "vessel-testkernel 0.1 (boot protocol 2.15, 64-bit entry at 0x100200)"

	.org 0xA00 /* 1 boot sector + 4 setup sectors */
