/* Signal names and numbers as runc's `kill` takes them: "KILL", "SIGKILL",
 * "kill" and "9" are all SIGKILL. */
#ifndef NOVM_RUNTIME_SIGNALS_H
#define NOVM_RUNTIME_SIGNALS_H

#include "error.h"

/* A name (any case, SIG optional, SIGRTMIN+n/SIGRTMAX-n) or a number.  A
 * name we do not know is runc's `unknown signal "FOO"`; a number outside
 * 0..64 is what the kernel would say to kill(2): "invalid argument". */
int signal_parse(const char *text, int *signo, novm_error_t *err);

#endif
