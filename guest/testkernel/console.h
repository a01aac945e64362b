/* console.h - COM1 output, the exit device, and line-atomic printing. */
#ifndef VS_TK_CONSOLE_H
#define VS_TK_CONSOLE_H

#include <stdint.h>

#include "lib.h"

#define TK_COM1 0x3F8
#define TK_EXIT_PORT 0x501 /* one byte N written here: the VMM exits with status N */

/* Exit statuses (docs/testkernel.md). */
#define TK_EXIT_PASS 0
#define TK_EXIT_FAIL 1
#define TK_EXIT_USAGE 2 /* unknown test name / no vessel.test= */
#define TK_EXIT_PANIC 3 /* unexpected exception or interrupt */

void console_init(void);

/* Prints under the console spinlock, so lines from several CPUs never mix.
 * "\n" is sent as "\r\n". Never call it with the lock held (interrupt
 * handlers must not print). */
void kprintf(const char *fmt, ...) TK_PRINTF(1, 2);

/* Writes @status to the exit device, then halts with interrupts off. */
__attribute__((noreturn)) void tk_exit(unsigned int status);

/* Prints "vessel-test: panic: <msg>" even if the console lock is held, exits 3. */
__attribute__((noreturn)) void tk_panic(const char *fmt, ...) TK_PRINTF(1, 2);

#endif
