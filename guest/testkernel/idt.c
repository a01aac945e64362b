/* idt.c - 64-bit interrupt gates to the isr.S stubs; dispatch and panic. */
#include "idt.h"

#include "arch.h"
#include "console.h"
#include "layout.h"

#define IDT_VECTORS 256
#define ISR_STUB_SIZE 16 /* isr.S aligns each stub to 16 bytes */
#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL3 0x60 /* DPL 3: INT n allowed from CPL3 */
#define VEC_PAGE_FAULT 14

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "IDT gates are 16 bytes in long mode");

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static isr_handler handlers[IDT_VECTORS];
extern char isr_stubs[];

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(desc));
}

void idt_init(void)
{
	for (unsigned int v = 0; v < IDT_VECTORS; v++) {
		uint64_t a = (uintptr_t)isr_stubs + v * ISR_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.off0 = a & 0xFFFF,
			.sel = TK_CS64,
			.type = GATE_INTERRUPT,
			.off1 = (a >> 16) & 0xFFFF,
			.off2 = a >> 32,
		};
	}
	idt_load();
}

void idt_set_handler(unsigned int vector, isr_handler fn)
{
	if (vector < IDT_VECTORS)
		handlers[vector] = fn;
}

void idt_set_user_gate(unsigned int vector, bool user)
{
	if (vector < IDT_VECTORS)
		idt[vector].type = user ? GATE_INTERRUPT | GATE_DPL3 : GATE_INTERRUPT;
}

void isr_panic(struct isr_frame *f)
{
	unsigned int v = f->vector;

	if (v < 32) {
		if (v == VEC_PAGE_FAULT)
			tk_panic("exception %u at rip=0x%lx error=0x%lx cr2=0x%lx", v, f->rip,
				 f->error, read_cr2());
		tk_panic("exception %u at rip=0x%lx error=0x%lx", v, f->rip, f->error);
	}
	tk_panic("unexpected interrupt vector %u at rip=0x%lx", v, f->rip);
}

void isr_dispatch(struct isr_frame *f)
{
	unsigned int v = f->vector;

	if (handlers[v]) {
		handlers[v](f);
		return;
	}
	/* Spurious vectors of the LAPIC and of the (masked) 8259s: no EOI due. */
	if (v == TK_VEC_SPURIOUS || v == TK_VEC_PIC_BASE + 7)
		return;
	isr_panic(f);
}
