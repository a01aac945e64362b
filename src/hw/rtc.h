/* MC146818 RTC/CMOS on ports 0x70/0x71: wall-clock time from the host (UTC,
 * BCD, 24-hour), status registers A-D, and the memory-size bytes firmware
 * normally fills. No alarm or periodic interrupt. */
#ifndef VS_HW_RTC_H
#define VS_HW_RTC_H

#include <stdint.h>

#define VS_RTC_PORT 0x70

struct vs_rtc;
struct vs_iobus;

/* mem_below_4g/mem_above_4g: guest RAM sizes in bytes, for CMOS 0x34/0x35
 * and 0x5b-0x5d. */
int vs_rtc_new(uint64_t mem_below_4g, uint64_t mem_above_4g, struct vs_rtc **out);
void vs_rtc_free(struct vs_rtc *rtc);
int vs_rtc_attach(struct vs_rtc *rtc, struct vs_iobus *pio);

#endif
