/* Exceptions and interrupts of the software CPU (SDM vol. 3A ch. 6; AMD APM
 * vol. 2 ch. 8): raising a fault from a handler (longjmp to the dispatch
 * loop), #DF escalation and triple-fault shutdown, and delivery through
 * the real-mode IVT, the 32-bit protected-mode IDT, or the long-mode IDT
 * (IST, TSS stack switch, 16-byte-aligned frames).
 *
 * Map: exits; raise; delivery per mode; the entry points. */
#include "emu/system.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

#define GATE_INT64 0xe
#define GATE_TRAP64 0xf
#define GATE_INT16 0x6
#define GATE_TRAP16 0x7
#define NS_PER_SEC 1000000000ULL

/* ---- exits ---------------------------------------------------------------- */

__attribute__((format(printf, 3, 0))) static void
exit_vset(struct emu_cpu *cpu, enum emu_exit_reason reason, const char *fmt, va_list ap)
{
	struct emu_exit *x = cpu->exit;

	if (x) {
		memset(x, 0, sizeof(*x));
		x->reason = reason;
		vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	}
	cpu->sys->exit_pending = true;
	cpu->stop = true;
}

void emu_sys_exit(struct emu_cpu *cpu, enum emu_exit_reason reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	exit_vset(cpu, reason, fmt, ap);
	va_end(ap);
}

_Noreturn void emu_sys_fatal(struct emu_cpu *cpu, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	exit_vset(cpu, EMU_EXIT_ERROR, fmt, ap);
	va_end(ap);
	cpu->exc.vector = -1;
	cpu->exc.depth = 0;
	cpu->tlb_user = cpu->cpl == 3;
	longjmp(cpu->jmp, 1);
}

/* ---- raise ------------------------------------------------------------------ */

static bool is_contributory(int v)
{
	return v == EMU_DE || (v >= EMU_TS && v <= EMU_GP);
}

/* SDM vol. 3A table 6-5: which second exception, raised while the first
 * is being delivered, makes a double fault. */
static bool makes_double_fault(int first, int second)
{
	if (first == EMU_PF)
		return second == EMU_PF || is_contributory(second);
	return is_contributory(first) && is_contributory(second);
}

_Noreturn void emu_raise(struct emu_cpu *cpu, int vector, uint32_t error_code)
{
	int first = cpu->exc.vector;

	if (cpu->cur)
		cpu->rip = cpu->cur->rip;
	cpu->tlb_user = cpu->cpl == 3;
	if (cpu->sys->delivering_ext && error_code != EMU_NO_ERRCODE && vector != EMU_PF)
		error_code |= 1; /* EXT: the event being delivered came from outside */
	cpu->sys->delivering_ext = false;
	if (cpu->exc.depth > 0 && first >= 0) {
		if (first == EMU_DF) {
			cpu->exc.depth = 3; /* shutdown */
		} else if (makes_double_fault(first, vector)) {
			vector = EMU_DF;
			error_code = 0;
		}
	}
	cpu->exc.vector = vector;
	cpu->exc.error_code = error_code;
	longjmp(cpu->jmp, 1);
}

/* Copies up to n code bytes at the instruction's address without faulting
 * (through the TLB only: the bytes were just fetched). */
static unsigned peek_code(struct emu_cpu *cpu, const struct emu_insn *in, uint8_t *b, unsigned n)
{
	uint64_t lin = in->rip + (cpu->mode == EMU_MODE_LONG64 ? 0 : cpu->seg[EMU_CS].base);
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t a = lin + i, gpa = a & 0xffffffffULL;
		const struct emu_tlb_entry *t = emu_tlb_slot(cpu, a);
		const uint8_t *p;

		if (cpu->cr0 & EMU_CR0_PG) {
			if (t->tag_read != (a & EMU_PAGE_MASK))
				break;
			gpa = t->gpa_page | (a & 0xfff);
		}
		if (!(p = emu_phys_ptr(cpu->vm, gpa, 1)))
			break;
		b[i] = *p;
	}
	return i;
}

_Noreturn void emu_raise_unimplemented(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t now = emu_host_ns();

	if (in && now >= cpu->ud_log_next_ns) {
		uint8_t b[15];
		char hex[3 * sizeof(b) + 1] = "";
		unsigned n = peek_code(cpu, in, b, in->len && in->len <= 15 ? in->len : 15);

		for (unsigned i = 0; i < n; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", b[i]);
		vs_warn("emu: cpu%u: unimplemented instruction (map %u opcode %02x) bytes [ %s] "
			"at rip %#llx: #UD",
			cpu->index, in->map, in->opcode, hex, (unsigned long long)in->rip);
		cpu->ud_log_next_ns = now + NS_PER_SEC;
	}
	emu_raise_ud(cpu);
}

/* ---- delivery -------------------------------------------------------------- */

static uint64_t tss_read(struct emu_cpu *cpu, uint32_t off, unsigned size)
{
	if (!(cpu->tr.attr & EMU_SEG_P) || (uint64_t)off + size - 1 > cpu->tr.limit)
		emu_raise(cpu, EMU_TS, cpu->tr.sel & 0xfffc);
	return emu_sys_read(cpu, cpu->tr.base + off, size);
}

struct gate {
	uint16_t sel;
	uint64_t off;
	unsigned type, dpl, ist;
};

static void read_gate(struct emu_cpu *cpu, int vector, bool soft, bool ext, bool lm, struct gate *g)
{
	unsigned esz = lm ? 16 : 8;
	uint32_t gerr = (uint32_t)vector * 8 + 2 + (ext ? 1 : 0);
	uint64_t lo, hi = 0;

	if ((uint32_t)vector * esz + esz - 1 > cpu->idtr.limit)
		emu_raise_gp(cpu, gerr);
	lo = emu_sys_read(cpu, cpu->idtr.base + (uint64_t)vector * esz, 8);
	if (lm)
		hi = emu_sys_read(cpu, cpu->idtr.base + (uint64_t)vector * esz + 8, 8);
	g->type = (lo >> 40) & 0xf;
	g->dpl = (lo >> 45) & 3;
	g->ist = lm ? (lo >> 32) & 7 : 0;
	g->sel = (uint16_t)(lo >> 16);
	g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ULL) | (hi << 32);
	if (lm ? (g->type != GATE_INT64 && g->type != GATE_TRAP64) :
		 (g->type != GATE_INT64 && g->type != GATE_TRAP64 && g->type != GATE_INT16 &&
		  g->type != GATE_TRAP16))
		emu_raise_gp(cpu, gerr);
	if (soft && g->dpl < cpu->cpl)
		emu_raise_gp(cpu, gerr);
	if (!((lo >> 47) & 1))
		emu_raise(cpu, EMU_NP, gerr);
}

static void enter_handler(struct emu_cpu *cpu, const struct gate *g, uint64_t flags)
{
	flags &= ~(EMU_FLAG_TF | EMU_FLAG_NT | EMU_FLAG_RF | EMU_FLAG_VM);
	if (!(g->type & 1))
		flags &= ~EMU_FLAG_IF;
	emu_set_rflags(cpu, flags);
	cpu->irq_shadow = false;
	emu_update_mode(cpu);
}

static void deliver_long(struct emu_cpu *cpu, int vector, uint32_t err, bool soft, bool ext,
			 uint64_t ret_rip)
{
	struct gate g;
	struct emu_desc d;
	unsigned ncpl, ocpl = cpu->cpl;
	uint64_t rsp = cpu->r[EMU_RSP], flags = emu_get_rflags(cpu);
	uint64_t frame[6];
	unsigned n = 0;

	read_gate(cpu, vector, soft, ext, true, &g);
	ncpl = emu_check_code_target(cpu, g.sel, &d, true);
	if (!(d.hi & (1u << 21)) || (d.hi & (1u << 22)))
		emu_raise_gp(cpu, g.sel & 0xfffc); /* not 64-bit code */
	if (!emu_is_canonical(g.off))
		emu_raise_gp(cpu, 0);
	if (g.ist)
		rsp = tss_read(cpu, 36 + (g.ist - 1) * 8, 8);
	else if (ncpl < ocpl)
		rsp = tss_read(cpu, 4 + ncpl * 8, 8);
	rsp &= ~0xfULL;
	if (err != EMU_NO_ERRCODE)
		frame[n++] = err;
	frame[n++] = ret_rip;
	frame[n++] = cpu->seg[EMU_CS].sel;
	frame[n++] = flags;
	frame[n++] = cpu->r[EMU_RSP];
	frame[n++] = cpu->seg[EMU_SS].sel;
	if (!emu_is_canonical(rsp) || !emu_is_canonical(rsp - 8 * n))
		emu_raise(cpu, EMU_SS_FAULT, 0);
	cpu->tlb_user = ncpl == 3;
	for (unsigned i = 0; i < n; i++)
		emu_write_lin(cpu, rsp - 8 * (n - i), 8, frame[i]);
	emu_desc_set_accessed(cpu, g.sel, &d);
	emu_load_cs(cpu, g.sel, &d, ncpl);
	if (ncpl < ocpl)
		emu_seg_flat(&cpu->seg[EMU_SS], (uint16_t)ncpl, ncpl, false, false);
	cpu->r[EMU_RSP] = rsp - 8 * n;
	cpu->rip = g.off;
	enter_handler(cpu, &g, flags);
}

/* 32-bit protected mode (and compatibility with 16-bit gates). */
static void deliver_prot(struct emu_cpu *cpu, int vector, uint32_t err, bool soft, bool ext,
			 uint64_t ret_rip)
{
	struct gate g;
	struct emu_desc d, sd;
	unsigned ncpl, ocpl = cpu->cpl, w;
	uint64_t flags = emu_get_rflags(cpu);
	uint32_t frame[6], esp = (uint32_t)cpu->r[EMU_RSP], n = 0;
	struct emu_seg ss = cpu->seg[EMU_SS];

	read_gate(cpu, vector, soft, ext, false, &g);
	w = g.type >= GATE_INT64 ? 4 : 2;
	ncpl = emu_check_code_target(cpu, g.sel, &d, true);
	if (ncpl < ocpl) {
		uint16_t ssel = (uint16_t)tss_read(cpu, 8 + ncpl * 8, 2);

		esp = (uint32_t)tss_read(cpu, 4 + ncpl * 8, 4);
		if (!(ssel & 0xfffc) || (ssel & 3) != ncpl ||
		    !emu_desc_read(cpu, ssel, false, &sd) || ((sd.hi >> 13) & 3) != ncpl ||
		    (sd.hi & 0x1a00) != 0x1200)
			emu_raise(cpu, EMU_TS, ssel & 0xfffc);
		if (!(sd.hi & (1u << 15)))
			emu_raise(cpu, EMU_SS_FAULT, ssel & 0xfffc);
		emu_desc_to_seg(&sd, ssel, &ss);
		frame[n++] = cpu->seg[EMU_SS].sel;
		frame[n++] = (uint32_t)cpu->r[EMU_RSP];
	}
	frame[n++] = (uint32_t)flags;
	frame[n++] = cpu->seg[EMU_CS].sel;
	frame[n++] = (uint32_t)ret_rip;
	if (err != EMU_NO_ERRCODE)
		frame[n++] = err;
	uint32_t mask = (ss.attr & EMU_SEG_DB) ? 0xffffffffu : 0xffffu;
	cpu->tlb_user = ncpl == 3;
	for (unsigned i = 0; i < n; i++)
		emu_write_lin(cpu, (ss.base + ((esp - w * (i + 1)) & mask)) & 0xffffffffULL, w,
			      frame[i]);
	emu_desc_set_accessed(cpu, g.sel, &d);
	emu_load_cs(cpu, g.sel, &d, ncpl);
	cpu->seg[EMU_SS] = ss;
	esp -= w * n;
	cpu->r[EMU_RSP] = mask == 0xffffu ? (cpu->r[EMU_RSP] & ~0xffffULL) | (esp & 0xffff) : esp;
	cpu->rip = w == 2 ? g.off & 0xffff : g.off & 0xffffffffULL;
	enter_handler(cpu, &g, flags);
}

static void deliver_real(struct emu_cpu *cpu, int vector, uint64_t ret_rip)
{
	uint64_t flags = emu_get_rflags(cpu);
	uint32_t ivt;
	uint16_t sp = (uint16_t)cpu->r[EMU_RSP];
	uint64_t ssb = cpu->seg[EMU_SS].base;

	if ((uint32_t)vector * 4 + 3 > cpu->idtr.limit)
		emu_raise_gp(cpu, 0);
	ivt = (uint32_t)emu_sys_read(cpu, (cpu->idtr.base + (uint64_t)vector * 4) & 0xffffffff, 4);
	emu_write_lin(cpu, (ssb + (uint16_t)(sp - 2)) & 0xffffffff, 2, flags & 0xffff);
	emu_write_lin(cpu, (ssb + (uint16_t)(sp - 4)) & 0xffffffff, 2, cpu->seg[EMU_CS].sel);
	emu_write_lin(cpu, (ssb + (uint16_t)(sp - 6)) & 0xffffffff, 2, ret_rip & 0xffff);
	cpu->r[EMU_RSP] = (cpu->r[EMU_RSP] & ~0xffffULL) | (uint16_t)(sp - 6);
	emu_seg_real(&cpu->seg[EMU_CS], (uint16_t)(ivt >> 16));
	cpu->rip = ivt & 0xffff;
	emu_set_rflags(cpu, flags & ~(EMU_FLAG_IF | EMU_FLAG_TF | EMU_FLAG_AC | EMU_FLAG_RF));
	cpu->irq_shadow = false;
	emu_update_mode(cpu);
}

void emu_deliver_event(struct emu_cpu *cpu, int vector, uint32_t error_code, bool soft, bool ext,
		       uint64_t ret_rip)
{
	cpu->sys->delivering_ext = ext;
	if (!emu_prot(cpu))
		deliver_real(cpu, vector, ret_rip);
	else if (cpu->efer & EMU_EFER_LMA)
		deliver_long(cpu, vector, error_code, soft, ext, ret_rip);
	else
		deliver_prot(cpu, vector, error_code, soft, ext, ret_rip);
	cpu->sys->delivering_ext = false;
	if (ext)
		cpu->state = EMU_RUNNABLE;
}

/* ---- entry points ------------------------------------------------------------ */

static void report_exception(struct emu_cpu *cpu, int vector, uint32_t err)
{
	emu_sys_exit(cpu, EMU_EXIT_EXCEPTION, "exception %d at rip %#llx", vector,
		     (unsigned long long)cpu->rip);
	if (cpu->exit) {
		cpu->exit->vector = (uint8_t)vector;
		cpu->exit->has_error_code = err != EMU_NO_ERRCODE;
		cpu->exit->error_code = err == EMU_NO_ERRCODE ? 0 : err;
		cpu->exit->cr2 = cpu->cr2;
	}
}

void emu_exception_deliver(struct emu_cpu *cpu)
{
	int v = cpu->exc.vector;
	uint32_t err = cpu->exc.error_code;

	if (v < 0)
		return; /* an emulator exit (emu_sys_fatal), nothing to deliver */
	if (cpu->exc.depth == 3) {
		cpu->exc.vector = -1;
		cpu->exc.depth = 0;
		emu_sys_exit(cpu, EMU_EXIT_SHUTDOWN,
			     "triple fault: exception %d while delivering #DF, rip %#llx", v,
			     (unsigned long long)cpu->rip);
		return;
	}
	if (cpu->vm->cfg.exit_on_exception) {
		cpu->exc.vector = -1;
		cpu->exc.depth = 0;
		report_exception(cpu, v, err);
		return;
	}
	cpu->exc.depth = v == EMU_DF ? 2 : 1;
	emu_deliver_event(cpu, v, err, false, false, cpu->rip);
	cpu->exc.vector = -1;
	cpu->exc.depth = 0;
}

void emu_soft_int(struct emu_cpu *cpu, int vector, uint64_t next_rip, bool check_dpl)
{
	if (cpu->vm->cfg.exit_on_exception) {
		struct gate g;

		/* The gate's checks (DPL, type, present) fault at the INT as in
		 * a delivery; then the trap is reported with RIP after it. */
		if (emu_prot(cpu))
			read_gate(cpu, vector, check_dpl, false, cpu->efer & EMU_EFER_LMA, &g);
		cpu->rip = next_rip;
		report_exception(cpu, vector, EMU_NO_ERRCODE);
		return;
	}
	emu_deliver_event(cpu, vector, EMU_NO_ERRCODE, check_dpl, false, next_rip);
}
