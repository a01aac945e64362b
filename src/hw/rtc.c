/* CMOS RTC: time registers are computed from the host clock on every read,
 * so the update-in-progress bit never needs to be set. */
#include "hw/rtc.h"
#include "hw/iobus.h"
#include "common/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define CMOS_SIZE 128
#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define REG_MEM_16M_LO 0x34 /* RAM 16M..4G in 64 KiB units */
#define REG_MEM_16M_HI 0x35
#define REG_MEM_4G_0 0x5b /* RAM above 4G in 64 KiB units, 3 bytes */

#define B_24H 0x02
#define B_BIN 0x04
#define D_VRT 0x80
#define NMI_DIS 0x80

struct vs_rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];
};

static uint8_t to_bcd(const struct vs_rtc *rtc, int v)
{
	if (rtc->cmos[REG_B] & B_BIN)
		return v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

int vs_rtc_new(uint64_t mem_below_4g, uint64_t mem_above_4g, struct vs_rtc **out)
{
	struct vs_rtc *rtc = xzalloc(sizeof(*rtc));
	uint64_t above16 = mem_below_4g > 16 * VS_MIB ? (mem_below_4g - 16 * VS_MIB) >> 16 : 0;
	uint64_t above4g = mem_above_4g >> 16;

	pthread_mutex_init(&rtc->lock, NULL);
	rtc->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	rtc->cmos[REG_B] = B_24H;
	rtc->cmos[REG_D] = D_VRT;
	above16 = VS_MIN(above16, 0xffffu);
	rtc->cmos[REG_MEM_16M_LO] = above16 & 0xff;
	rtc->cmos[REG_MEM_16M_HI] = above16 >> 8;
	for (int i = 0; i < 3; i++)
		rtc->cmos[REG_MEM_4G_0 + i] = (above4g >> (8 * i)) & 0xff;
	*out = rtc;
	return 0;
}

void vs_rtc_free(struct vs_rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

static uint8_t read_time(const struct vs_rtc *rtc, unsigned reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case REG_SEC:
		return to_bcd(rtc, tm.tm_sec);
	case REG_MIN:
		return to_bcd(rtc, tm.tm_min);
	case REG_HOUR:
		return to_bcd(rtc, tm.tm_hour);
	case REG_WDAY:
		return to_bcd(rtc, tm.tm_wday + 1);
	case REG_MDAY:
		return to_bcd(rtc, tm.tm_mday);
	case REG_MON:
		return to_bcd(rtc, tm.tm_mon + 1);
	case REG_YEAR:
		return to_bcd(rtc, tm.tm_year % 100);
	default:
		return to_bcd(rtc, (tm.tm_year + 1900) / 100); /* century */
	}
}

/* Seconds, minutes, hours, weekday, day, month, year, century; the odd
 * registers below 6 are alarms and live in cmos[]. */
static bool is_time_reg(unsigned reg)
{
	return (reg <= REG_YEAR && !(reg < REG_WDAY && (reg & 1))) || reg == REG_CENTURY;
}

static void rtc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct vs_rtc *rtc = opaque;
	unsigned reg;
	uint8_t v;

	memset(data, 0, len);
	pthread_mutex_lock(&rtc->lock);
	reg = rtc->index;
	if (off == 0)
		v = 0xff;
	else if (is_time_reg(reg))
		v = read_time(rtc, reg);
	else if (reg == REG_C)
		v = 0; /* no interrupt flags; reading clears them */
	else
		v = rtc->cmos[reg];
	pthread_mutex_unlock(&rtc->lock);
	*(uint8_t *)data = v;
}

static void rtc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vs_rtc *rtc = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)len;
	pthread_mutex_lock(&rtc->lock);
	if (off == 0)
		rtc->index = v & ~NMI_DIS & (CMOS_SIZE - 1);
	else if (rtc->index == REG_A || rtc->index == REG_B)
		rtc->cmos[rtc->index] = v; /* guests may pick BCD/binary */
	else if (!is_time_reg(rtc->index) && rtc->index != REG_C && rtc->index != REG_D)
		rtc->cmos[rtc->index] = v; /* alarms and NVRAM bytes */
	pthread_mutex_unlock(&rtc->lock);
}

static const struct vs_io_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

int vs_rtc_attach(struct vs_rtc *rtc, struct vs_iobus *pio)
{
	return vs_iobus_register(pio, VS_RTC_PORT, 2, &rtc_ops, rtc);
}
