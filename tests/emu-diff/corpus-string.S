/* Corpus: string instructions (MOVS, STOS, LODS, CMPS, SCAS) in every
 * size, single and with REP/REPE/REPNE, forwards and with DF=1, a count of
 * zero, and a REP that faults half way (RCX/RSI/RDI show the progress). */
#include "corpus.h"

#define MEM DIFF_DATA_VA

	CORPUS_BEGIN string

CASE movs_single
	cld
	mov	$MEM+0x100, %esi
	mov	$MEM+0x200, %edi
	movsb
	movsw
	movsl
	movsq
	std
	movsq
	movsb
	FLAGS
END

CASE rep_movs_forward
	cld
	mov	$MEM+0x100, %esi
	mov	$MEM+0x400, %edi
	mov	$37, %ecx
	rep movsb
	mov	$9, %ecx
	rep movsw
	mov	$5, %ecx
	rep movsl
	mov	$11, %rcx
	rep movsq
END

CASE rep_movs_backward
	std
	mov	$MEM+0x1f8, %esi
	mov	$MEM+0x5f8, %edi
	mov	$20, %ecx
	rep movsq
	mov	$13, %ecx
	rep movsb
	FLAGS
	cld
END

CASE rep_movs_overlap
	cld
	mov	$MEM+0x300, %esi
	mov	$MEM+0x301, %edi
	mov	$64, %ecx
	rep movsb
	std
	mov	$MEM+0x380, %esi
	mov	$MEM+0x384, %edi
	mov	$40, %ecx
	rep movsl
END

CASE rep_count_zero
	cld
	xor	%ecx, %ecx
	mov	$MEM+0x100, %esi
	mov	$MEM+0x200, %edi
	rep movsq
	rep stosb
	repe cmpsb
	FLAGS
END

CASE stos_lods
	cld
	mov	$MEM+0x600, %edi
	mov	$0x1122334455667788, %rax
	stosb
	stosw
	stosl
	stosq
	mov	$100, %ecx
	rep stosb
	std
	mov	$7, %ecx
	rep stosq
	cld
	mov	$MEM+0x600, %esi
	lodsb
	lodsw
	lodsl
	lodsq
	mov	$3, %ecx
	rep lodsq
END

CASE cmps_scas_flags
	cld
	mov	$MEM+0x100, %esi
	mov	$MEM+0x100, %edi
	cmpsb
	FLAGS
	cmpsw
	FLAGS
	cmpsq
	FLAGS
	mov	$MEM+0x200, %esi
	cmpsl
	FLAGS
	mov	(%rdi), %eax
	scasl
	FLAGS
	scasb
	FLAGS
	scasq
	FLAGS
END

CASE repe_cmps
	cld
	mov	$MEM+0x700, %edi
	mov	$0x4142434445464748, %rax
	mov	$8, %ecx
	rep stosq
	mov	$MEM+0x700, %esi
	mov	$MEM+0x708, %edi
	mov	$56, %ecx
	repe cmpsb
	FLAGS
	movb	$0, MEM+0x720
	mov	$MEM+0x700, %esi
	mov	$MEM+0x708, %edi
	mov	$28, %ecx
	repe cmpsw
	FLAGS
	std
	mov	$MEM+0x738, %esi
	mov	$MEM+0x730, %edi
	mov	$5, %ecx
	repne cmpsq
	FLAGS
END

CASE repne_scas
	cld
	mov	$MEM+0x800, %edi
	mov	$0x00646c726f77206f, %rax
	stosq
	mov	$MEM+0x800, %edi
	xor	%eax, %eax
	mov	$-1, %rcx
	repne scasb
	FLAGS
	not	%rcx
	mov	$MEM+0x800, %edi
	mov	$0x77, %al
	mov	$3, %ecx
	repne scasb
	FLAGS
	std
	mov	$MEM+0x7f8, %edi
	mov	$0x1234, %eax
	mov	$6, %ecx
	repe scasl
	FLAGS
END

CASE rep_movs_faults
	cld
	mov	$MEM+DIFF_DATA_SIZE-0x40, %esi
	mov	$MEM+0x100, %edi
	mov	$100, %ecx
	rep movsq
END

CASE rep_stos_faults_backward
	std
	mov	$MEM+0x40, %edi
	mov	$1000, %ecx
	rep stosl
END

CASE string_32bit_address
	cld
	mov	$0xffffffff00000000+MEM+0x100, %rsi
	mov	$0xffffffff00000000+MEM+0x200, %rdi
	mov	$0x100000004, %rcx
	addr32 rep movsb
	FLAGS
END

	CORPUS_END
