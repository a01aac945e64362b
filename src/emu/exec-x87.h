/* Shared by the x87 handler files (exec-x87.c, exec-x87-ctl.c) and the
 * FXSAVE/XSAVE handlers (exec-fxsave.c). */
#ifndef VS_EMU_EXEC_X87_H
#define VS_EMU_EXEC_X87_H

#include "emu/core.h"
#include "emu/x87.h"

/* memory operand formats */
enum { X87_M32FP, X87_M64FP, X87_M16INT, X87_M32INT, X87_M64INT, X87_M80FP, X87_M80BCD };

/* x87_enter(): how the instruction starts */
#define X87_WAIT 1u /* checks for a pending unmasked exception (#MF) */
#define X87_NOTE 2u /* records FOP, FIP (and FDP for memory operands) */
void x87_enter(struct emu_cpu *cpu, const struct emu_insn *in, unsigned how);
uint64_t x87_lin(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
		 enum emu_access acc);
bool x87_underflow(struct emu_cpu *cpu);
/* cc: the condition bits the host's result defines (besides C1) */
void x87_unary(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn, unsigned cc);
void x87_binary(struct emu_cpu *cpu, const struct emu_insn *in, x87h_fn fn, bool pop, bool cc);

/* The x87 escape opcodes D8-DF after ModRM: the handler (exec-x87-ctl.c). */
emu_handler emu_x87_handler(const struct emu_insn *in);

EMU_HANDLER(emu_op_fwait);
EMU_HANDLER(emu_op_fxsave);
EMU_HANDLER(emu_op_fxrstor);
EMU_HANDLER(emu_op_xsave); /* and XSAVEOPT */
EMU_HANDLER(emu_op_xrstor);
EMU_HANDLER(emu_op_x87_arith_m);
EMU_HANDLER(emu_op_x87_arith_r);
EMU_HANDLER(emu_op_x87_fcom_r);
EMU_HANDLER(emu_op_x87_fcompp);
EMU_HANDLER(emu_op_x87_fucom);
EMU_HANDLER(emu_op_x87_fucompp);
EMU_HANDLER(emu_op_x87_fcomi);
EMU_HANDLER(emu_op_x87_fld_m);
EMU_HANDLER(emu_op_x87_fst_m);
EMU_HANDLER(emu_op_x87_fld_r);
EMU_HANDLER(emu_op_x87_fldc);
EMU_HANDLER(emu_op_x87_fst_r);

#endif
