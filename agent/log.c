#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void agent_say(const char *fmt, ...)
{
	va_list ap;

	fputs(AGENT_LOG_PREFIX, stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void agent_warn(novm_error_t *err, const char *context)
{
	const char *msg = err && *err ? (*err)->msg : "unknown error";

	agent_say("warning: %s: %s", context, msg);
	novm_error_release(err);
}
