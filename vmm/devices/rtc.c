/* A read-only MC146818 real-time clock: the time registers show the host's
 * current UTC time in BCD, the status registers say "valid, no update in
 * progress".  Writes other than the index are accepted and ignored: the
 * guest cannot set the host clock, and alarms are not offered. */
#include "devices/rtc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "kvm.h"
#include "vmm-internal.h"

#define RTC_INDEX_PORT 0x70

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32	/* where PCs keep the century */

#define REG_A_DIVIDER_32K 0x20	/* UIP (bit 7) stays clear */
#define REG_B_24H 0x02		/* BCD (bit 2 clear), 24-hour mode */
#define REG_D_VALID 0x80

struct rtc {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t index;
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t read_register(uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case RTC_SECONDS: return bcd(tm.tm_sec);
	case RTC_MINUTES: return bcd(tm.tm_min);
	case RTC_HOURS: return bcd(tm.tm_hour);
	case RTC_DAY_OF_WEEK: return bcd(tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH: return bcd(tm.tm_mday);
	case RTC_MONTH: return bcd(tm.tm_mon + 1);
	case RTC_YEAR: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd((tm.tm_year + 1900) / 100);
	case RTC_REG_A: return REG_A_DIVIDER_32K;
	case RTC_REG_B: return REG_B_24H;
	case RTC_REG_D: return REG_D_VALID;
	default: return 0;	/* REG_C (no interrupt flags) and CMOS RAM */
	}
}

static void rtc_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	if (offset == 0) {
		if (is_write)
			rtc->index = data[0] & 0x7f;	/* bit 7 is the NMI mask */
		else
			data[0] = rtc->index;
	} else if (!is_write) {
		data[0] = read_register(rtc->index);
	}
	pthread_mutex_unlock(&rtc->lock);
}

int rtc_init(struct vm *vm, struct rtc **out, novm_error_t *err)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	if (!rtc)
		return novm_error(err, ENOMEM, "rtc");
	rtc->vm = vm;
	pthread_mutex_init(&rtc->lock, NULL);
	int ret = bus_register(&vm->pio, RTC_INDEX_PORT, 2, rtc_access, rtc);
	if (ret < 0) {
		free(rtc);
		return novm_error(err, -ret, "register RTC");
	}
	*out = rtc;
	return 0;
}

void rtc_exit(struct rtc *rtc)
{
	if (!rtc)
		return;
	bus_unregister(&rtc->vm->pio, RTC_INDEX_PORT);
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

int rtc_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	(void)cfg;
	return rtc_init(&vmm->vm, &vmm->rtc, err);
}

void rtc_detach(struct vmm *vmm)
{
	rtc_exit(vmm->rtc);
	vmm->rtc = NULL;
}
