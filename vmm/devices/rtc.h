#ifndef NOVM_RTC_H
#define NOVM_RTC_H

#include "error.h"

struct vm;
struct rtc;

/* MC146818 CMOS clock at ports 0x70/0x71 reading the host's UTC time.
 * Without it Linux's rtc_cmos probe spins for seconds on absent ports. */
int rtc_init(struct vm *vm, struct rtc **out, novm_error_t *err);
void rtc_exit(struct rtc *rtc);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int rtc_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void rtc_detach(struct vmm *vmm);

#endif
