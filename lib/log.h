/* runc-style logging: messages to the --log file (stderr when none) as
 * logrus text lines (time="..." level=debug msg="...") or, with --log-format
 * json, one logrus-style object per line ({"level":..., "msg":...,
 * "time":...}); shims show the last error line.  Debug lines only with
 * --debug.  A fatal error also goes to stderr as a bare line, as runc's. */
#ifndef NOVM_LOG_H
#define NOVM_LOG_H

#include <stdbool.h>

#include "error.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* path NULL: stderr only.  format "text" or "json". */
int log_init(const char *path, const char *format, bool debug, novm_error_t *err);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Messages that would go to stderr for want of a log file go to `fd`: a
 * container's VMM, whose stderr is the container's own. */
void log_redirect_stderr(int fd);

/* Reports a fatal error the runc way: on stderr, and in the log file when
 * one is set; releases the error. */
void log_error_and_release(novm_error_t *err);

#endif
