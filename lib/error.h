/* Errors are values carrying a message, wrapped with context on the way up
 * (the crun convention).  Functions return a negative value and fill *err;
 * only main() prints and exits. */
#ifndef NOVM_ERROR_H
#define NOVM_ERROR_H

#include <stdarg.h>

struct novm_error {
	int errno_;	/* 0 when the failure is not a system error */
	char *msg;
};
typedef struct novm_error *novm_error_t;

/* Sets *err to "<fmt>: strerror(errno_)" (or just fmt when errno_ is 0);
 * returns -1 so callers can write `return novm_error(err, errno, ...)`. */
int novm_error(novm_error_t *err, int errno_, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message of an existing error with context; returns -1. */
int novm_error_wrap(novm_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void novm_error_release(novm_error_t *err);

/* Prints "<prog>: <msg>" to stderr and releases the error. */
void novm_error_print(novm_error_t *err, const char *prog);

static inline void cleanup_error_fn(novm_error_t *err)
{
	novm_error_release(err);
}
#define cleanup_error __attribute__((cleanup(cleanup_error_fn)))

#endif
