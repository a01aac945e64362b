/* console.c - the 8250 UART on COM1 (polled output), exit device, panic. */
#include "console.h"

#include "arch.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR_RTS_OUT2 0x0B

/* Bounded so that a VMM whose LSR never reports THRE cannot hang us: we then
 * write anyway (emulated UARTs accept bytes at any time). */
#define UART_POLL_LIMIT 100000

static volatile uint32_t console_lock;

void console_init(void)
{
	outb(TK_COM1 + UART_IER, 0);
	outb(TK_COM1 + UART_LCR, UART_LCR_DLAB);
	outb(TK_COM1 + 0, 1); /* divisor 1: 115200 baud */
	outb(TK_COM1 + 1, 0);
	outb(TK_COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(TK_COM1 + UART_MCR, UART_MCR_DTR_RTS_OUT2);
}

static void uart_putc(char c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(TK_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb(TK_COM1 + UART_THR, (uint8_t)c);
}

static void console_put(char c, void *ctx)
{
	(void)ctx;
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

static void lock(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		while (console_lock)
			cpu_pause();
}

static void unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lock();
	tk_vformat(console_put, NULL, fmt, ap);
	unlock();
	va_end(ap);
}

void tk_exit(unsigned int status)
{
	outb(TK_EXIT_PORT, (uint8_t)status);
	cpu_halt_forever();
}

void tk_panic(const char *fmt, ...)
{
	va_list ap;

	/* The lock may be held by the very code that faulted: break it. */
	unlock();
	va_start(ap, fmt);
	lock();
	tk_vformat(console_put, NULL, "vessel-test: panic: ", ap);
	tk_vformat(console_put, NULL, fmt, ap);
	console_put('\n', NULL);
	unlock();
	va_end(ap);
	tk_exit(TK_EXIT_PANIC);
}
