/* Register state across emu.h, in KVM's uapi structs (kvm_regs, kvm_sregs)
 * so the VMM builds one boot state for either accelerator. */
#include "emu/system.h"

#include <errno.h>

void emu_cpu_get_regs(struct emu_cpu *cpu, struct kvm_regs *r)
{
	r->rax = cpu->r[EMU_RAX];
	r->rbx = cpu->r[EMU_RBX];
	r->rcx = cpu->r[EMU_RCX];
	r->rdx = cpu->r[EMU_RDX];
	r->rsi = cpu->r[EMU_RSI];
	r->rdi = cpu->r[EMU_RDI];
	r->rsp = cpu->r[EMU_RSP];
	r->rbp = cpu->r[EMU_RBP];
	r->r8 = cpu->r[EMU_R8];
	r->r9 = cpu->r[EMU_R9];
	r->r10 = cpu->r[EMU_R10];
	r->r11 = cpu->r[EMU_R11];
	r->r12 = cpu->r[EMU_R12];
	r->r13 = cpu->r[EMU_R13];
	r->r14 = cpu->r[EMU_R14];
	r->r15 = cpu->r[EMU_R15];
	r->rip = cpu->rip;
	r->rflags = emu_get_rflags(cpu);
}

void emu_cpu_set_regs(struct emu_cpu *cpu, const struct kvm_regs *r)
{
	uint64_t old = cpu->rflags;

	cpu->r[EMU_RAX] = r->rax;
	cpu->r[EMU_RBX] = r->rbx;
	cpu->r[EMU_RCX] = r->rcx;
	cpu->r[EMU_RDX] = r->rdx;
	cpu->r[EMU_RSI] = r->rsi;
	cpu->r[EMU_RDI] = r->rdi;
	cpu->r[EMU_RSP] = r->rsp;
	cpu->r[EMU_RBP] = r->rbp;
	cpu->r[EMU_R8] = r->r8;
	cpu->r[EMU_R9] = r->r9;
	cpu->r[EMU_R10] = r->r10;
	cpu->r[EMU_R11] = r->r11;
	cpu->r[EMU_R12] = r->r12;
	cpu->r[EMU_R13] = r->r13;
	cpu->r[EMU_R14] = r->r14;
	cpu->r[EMU_R15] = r->r15;
	cpu->rip = r->rip;
	emu_set_rflags(cpu, (r->rflags & 0x3f7fd7ULL) | 2);
	emu_flags_changed(cpu, old);
}

static void seg_to_kvm(const struct emu_seg *s, struct kvm_segment *k)
{
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->sel;
	k->type = EMU_SEG_TYPE(s->attr);
	k->s = !!(s->attr & EMU_SEG_S);
	k->dpl = EMU_SEG_DPL(s->attr);
	k->present = !!(s->attr & EMU_SEG_P);
	k->avl = !!(s->attr & EMU_SEG_AVL);
	k->l = !!(s->attr & EMU_SEG_L);
	k->db = !!(s->attr & EMU_SEG_DB);
	k->g = !!(s->attr & EMU_SEG_G);
	k->unusable = !k->present;
	k->padding = 0;
}

static void seg_from_kvm(const struct kvm_segment *k, struct emu_seg *s)
{
	bool present = k->present && !k->unusable;

	s->base = k->base;
	s->limit = k->limit;
	s->sel = k->selector;
	s->attr = (uint16_t)((k->type & 0xf) | (k->s ? EMU_SEG_S : 0) | ((k->dpl & 3) << 5) |
			     (present ? EMU_SEG_P : 0) | (k->avl ? EMU_SEG_AVL : 0) |
			     (k->l ? EMU_SEG_L : 0) | (k->db ? EMU_SEG_DB : 0) |
			     (k->g ? EMU_SEG_G : 0));
}

void emu_cpu_get_sregs(struct emu_cpu *cpu, struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	seg_to_kvm(&cpu->seg[EMU_CS], &s->cs);
	seg_to_kvm(&cpu->seg[EMU_DS], &s->ds);
	seg_to_kvm(&cpu->seg[EMU_ES], &s->es);
	seg_to_kvm(&cpu->seg[EMU_FS], &s->fs);
	seg_to_kvm(&cpu->seg[EMU_GS], &s->gs);
	seg_to_kvm(&cpu->seg[EMU_SS], &s->ss);
	seg_to_kvm(&cpu->tr, &s->tr);
	seg_to_kvm(&cpu->ldtr, &s->ldt);
	s->gdt.base = cpu->gdtr.base;
	s->gdt.limit = cpu->gdtr.limit;
	s->idt.base = cpu->idtr.base;
	s->idt.limit = cpu->idtr.limit;
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->cr8 = emu_lapic_get_tpr(cpu->lapic) & 0xf;
	s->efer = cpu->efer;
	s->apic_base = emu_lapic_get_base(cpu->lapic);
}

/* The combinations a processor cannot be in (SDM vol. 3C §27.3.1 in spirit). */
static bool sregs_valid(const struct kvm_sregs *s)
{
	bool lma = s->efer & EMU_EFER_LMA;

	if ((s->cr0 & EMU_CR0_PG) && !(s->cr0 & EMU_CR0_PE))
		return false;
	if (lma && (!(s->cr0 & EMU_CR0_PG) || !(s->cr4 & EMU_CR4_PAE) || !(s->efer & EMU_EFER_LME)))
		return false;
	if (!lma && (s->cr0 & EMU_CR0_PG) && (s->efer & EMU_EFER_LME))
		return false;
	return !(s->cr0 >> 32);
}

int emu_cpu_set_sregs(struct emu_cpu *cpu, const struct kvm_sregs *s)
{
	if (!sregs_valid(s))
		return -EINVAL;
	if (!emu_lapic_set_base(cpu->lapic, s->apic_base))
		return -EINVAL;
	cpu->msr.apic_base = emu_lapic_get_base(cpu->lapic);
	seg_from_kvm(&s->cs, &cpu->seg[EMU_CS]);
	seg_from_kvm(&s->ds, &cpu->seg[EMU_DS]);
	seg_from_kvm(&s->es, &cpu->seg[EMU_ES]);
	seg_from_kvm(&s->fs, &cpu->seg[EMU_FS]);
	seg_from_kvm(&s->gs, &cpu->seg[EMU_GS]);
	seg_from_kvm(&s->ss, &cpu->seg[EMU_SS]);
	seg_from_kvm(&s->tr, &cpu->tr);
	seg_from_kvm(&s->ldt, &cpu->ldtr);
	cpu->gdtr.base = s->gdt.base;
	cpu->gdtr.limit = s->gdt.limit;
	cpu->idtr.base = s->idt.base;
	cpu->idtr.limit = s->idt.limit;
	cpu->cr0 = s->cr0 | EMU_CR0_ET;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu->cr8 = s->cr8 & 0xf;
	emu_lapic_set_tpr(cpu->lapic, (uint8_t)cpu->cr8);
	cpu->efer = s->efer;
	emu_tlb_flush_all(cpu);
	emu_update_mode(cpu);
	cpu->state = EMU_RUNNABLE;
	return 0;
}
