/* The agent's only output channel: lines on stdout (the console), each
 * prefixed "novm-init: " so the host can pick them out of kernel messages. */
#ifndef NOVM_AGENT_LOG_H
#define NOVM_AGENT_LOG_H

#include "error.h"

#define AGENT_LOG_PREFIX "novm-init: "

/* Prints one prefixed line and flushes it: PID 1 may die right after. */
void agent_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "warning: <context>: <message of err>" and releases err. */
void agent_warn(novm_error_t *err, const char *context);

#endif
