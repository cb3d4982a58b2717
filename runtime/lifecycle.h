/* What commands do to an existing container, shared between them (run
 * starts and deletes too, delete kills).  Each takes the container as
 * state_load() found it, with its lock held by the caller. */
#ifndef NOVM_RUNTIME_LIFECYCLE_H
#define NOVM_RUNTIME_LIFECYCLE_H

#include <stdbool.h>

#include "error.h"
#include "state.h"

/* Seconds to wait for a VMM killed with SIGKILL to be gone. */
#define LIFECYCLE_KILL_WAIT_MS 10000

/* Takes the container's lock and loads its state. */
int ctr_open(const char *root, const char *id, int *lock_fd, struct ctr_state *st,
	     novm_error_t *err);

/* created -> running: the prepared process starts.  runc's messages for
 * the other states. */
int ctr_start(struct ctr_state *st, novm_error_t *err);

/* Sends signo to the container's process (all: every process it started).
 * "container not running" unless it is created, running or paused. */
int ctr_kill(struct ctr_state *st, int signo, bool all, novm_error_t *err);

/* Kills the VMM if it still runs, waits for it to be gone, and removes
 * the container's cgroup and state directory. */
int ctr_destroy(struct ctr_state *st, novm_error_t *err);

#endif
