/* What session.c (lifecycle, host -> process) and session-io.c (the poll
 * loop's side: output, stdin, reaping, exits) share; not for other files. */
#ifndef NOVM_AGENT_SESSION_INTERNAL_H
#define NOVM_AGENT_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "session.h"

#define SESSION_ERRMSG_MAX 4096

enum session_role { ROLE_STDIN, ROLE_STDOUT, ROLE_STDERR, ROLE_ERRPIPE };

struct session {
	uint32_t id;
	pid_t pid;
	bool terminal;
	int start_fd;		/* write end the child waits on; -1 once started */
	int err_fd;		/* read end of the child's error pipe; -1 at EOF */
	int in_fd;		/* child's stdin (pipe or terminal master); -1 closed */
	int out_fd, errout_fd;	/* its output; -1 at EOF (errout_fd unused with a terminal) */
	int slave_fd;		/* our copy of the terminal's slave, kept until exit */
	int handoff_fd;		/* where the child reports it is set up; -1 after */
	char *pending;		/* stdin not yet written */
	size_t pending_len;
	bool close_stdin;	/* close once pending is written */
	char errmsg[SESSION_ERRMSG_MAX];
	size_t errmsg_len;
	bool released;		/* the child was told to start */
	bool started_sent;
	bool exited;
	int wait_status;
	int64_t drain_deadline;	/* monotonic ms */
};

int64_t session_now_ms(void);

/* Closes *fd if open and sets it to -1. */
void session_close_fd(int *fd);

void session_free(struct session *s);

#endif
