/* Creating a container (what `create` and `run` share): the bundle is
 * checked, the state directory made (status "creating"), the VMM forked
 * (vmm-child.h) and its ready pipe awaited; on success the state says
 * "created" with the VMM's pid.  On failure nothing is left: no VMM, no
 * state directory, no cgroup. */
#ifndef NOVM_RUNTIME_CREATE_H
#define NOVM_RUNTIME_CREATE_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "runtime.h"

/* Seconds a VM may take to create the container before create gives up. */
#define CREATE_TIMEOUT_S 300

struct create_options {
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	const char *pidfd_socket;	/* runc 1.2's --pidfd-socket: the VMM's pidfd goes there */
	/* `run` without --detach: a terminal without a console socket is this
	 * process's own stdio (runc needs a console socket otherwise). */
	bool foreground;
	/* `run`, which waits on the VMM itself: a pod container has none. */
	bool run;
};

struct created_container {
	char *dir;
	int lock_fd;		/* the container's lock, still held */
	pid_t pid;		/* the VMM, our child */
	uint64_t start_time;
	bool terminal;		/* process.terminal */
	/* On failure: the VMM's exit code when it ended by itself (e.g. the
	 * process could not be started: 127), else -1. */
	int vmm_exit_code;
};

int container_create(const struct runtime_globals *g, const struct create_options *o,
		     struct created_container *out, novm_error_t *err);
void created_container_release(struct created_container *c);

/* The next line from a child's ready pipe decides: `want` (alone; or, when
 * rest is given, followed by " <data>", copied there) or "error <why>".
 * Signals that would end us meanwhile (blocked by the caller) abort the
 * creation instead, so the child is not left behind.  `who` names the
 * child in messages; *child_failed: it said so, or died, so let it end by
 * itself. */
int create_wait_ready(int fd, pid_t pid, const char *who, const char *want, const sigset_t *signals,
		      bool *child_failed, char *rest, size_t rest_size, novm_error_t *err);

/* Writes a pid file atomically, without a trailing newline (runc's). */
int write_pid_file(const char *path, pid_t pid, novm_error_t *err);

#endif
