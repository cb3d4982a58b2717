/* The guest's loopback interface, which the kernel leaves down: up before
 * the container runs, with or without other interfaces (runc's containers
 * get a working `lo` in a new network namespace too). */
#ifndef NOVM_AGENT_LOOPBACK_H
#define NOVM_AGENT_LOOPBACK_H

#include "error.h"

int loopback_up(novm_error_t *err);

#endif
