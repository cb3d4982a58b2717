/* Minimal TAP output for the C unit tests, read by automake's TAP driver
 * (make check counts the assertions).  A program that cannot run at all
 * prints "1..0 # SKIP <why>" and exits 0: the driver counts that as a skip,
 * and any other exit status but 0 as an error. */
#ifndef NOVM_TAP_H
#define NOVM_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                       \
	do {                                                                \
		int ok_ = !!(cond);                                         \
		printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);           \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
		if (!ok_) {                                                 \
			tap_failed++;                                       \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                           \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
