/* idt.h - the IDT, interrupt dispatch and the exception panic path. */
#ifndef VS_TK_IDT_H
#define VS_TK_IDT_H

#include <stdbool.h>
#include <stdint.h>

/* What isr.S pushed, lowest address first. */
struct isr_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*isr_handler)(struct isr_frame *f);

/* Fills the IDT (all 256 vectors → isr.S stubs) and loads it on this CPU. */
void idt_init(void);

/* Loads the already-filled IDT on this CPU (APs). */
void idt_load(void);

/* Routes @vector to @fn; NULL restores the default (exceptions and
 * unexpected vectors panic). A test that hooks an exception handles only the
 * faults it provoked and passes any other to isr_panic(). */
void idt_set_handler(unsigned int vector, isr_handler fn);

/* Makes @vector's gate DPL 3 (INT n from user mode allowed) or DPL 0 again. */
void idt_set_user_gate(unsigned int vector, bool user);

/* Prints the panic line for @f (exception or unexpected vector); exits 3. */
__attribute__((noreturn)) void isr_panic(struct isr_frame *f);

/* Called by isr.S. Exceptions and unexpected vectors panic (exit status 3). */
void isr_dispatch(struct isr_frame *f);

#endif
