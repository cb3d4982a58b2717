#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int novm_error(novm_error_t *err, int errno_, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!err)
		return -1;
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);

	novm_error_release(err);
	*err = calloc(1, sizeof(**err));
	if (!*err) {
		free(msg);
		return -1;
	}
	(*err)->errno_ = errno_;
	if (errno_ && msg) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", msg, strerror(errno_)) >= 0) {
			free(msg);
			msg = full;
		}
	}
	(*err)->msg = msg ? msg : strdup("out of memory");
	return -1;
}

int novm_error_wrap(novm_error_t *err, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *full = NULL;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	prefix = vformat(fmt, ap);
	va_end(ap);
	if (prefix && asprintf(&full, "%s: %s", prefix, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(prefix);
	return -1;
}

void novm_error_release(novm_error_t *err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

void novm_error_print(novm_error_t *err, const char *prog)
{
	if (!err || !*err)
		return;
	fprintf(stderr, "%s: %s\n", prog, (*err)->msg);
	novm_error_release(err);
}
