/* An exec session seen from its host proxy: the process JSON and the stdio
 * fds go to the VMM over the control socket ("exec"), then the proxy
 * forwards the signals it receives ("signal", "resize") until the VMM says
 * how the process ended ("exit"). */
#ifndef NOVM_RUNTIME_EXEC_SESSION_H
#define NOVM_RUNTIME_EXEC_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "control-client.h"
#include "error.h"

struct exec_session {
	int fd;
	struct ctl_reader reader;
	int guest_pid;
	unsigned session;	/* a pod container's, from "ok <pid> <session>" */
	bool ended;		/* the "exit" came already */
	int status, signo;
};

/* The signals a proxy forwards: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2 as signals, SIGWINCH as a window size.  Block them (before the
 * session starts) so that none is lost or kills the proxy. */
void exec_session_signals(sigset_t *set);

/* Sends the process with "<verb> <len>[ tty]" (verb: "exec", "in <session>
 * exec" or a pod's "container"); returns once the VMM says it runs (or
 * could not start it: the VMM's message).  stdio[] are passed, not kept. */
int exec_session_start(const char *dir, const char *verb, const char *process_json, size_t len,
		       const int stdio[3], bool tty, struct exec_session *s, novm_error_t *err);

/* Forwards the signals in `signals` (blocked by the caller) until the
 * process ends; winsize_fd is the terminal whose size a SIGWINCH sends
 * (-1: none). */
int exec_session_wait(struct exec_session *s, const sigset_t *signals, int winsize_fd,
		      novm_error_t *err);

/* Ends a started process that must not run after all (SIGKILL), best
 * effort. */
void exec_session_kill(struct exec_session *s);

void exec_session_close(struct exec_session *s);

/* Where a proxy's process gets its stdio: with a console socket a new
 * pty whose master goes there (we become the slave's session leader, for
 * its SIGWINCH); else our own stdio, our terminal in raw mode when the
 * process has a terminal. */
struct exec_stdio {
	int fds[3];
	int pty_slave;		/* with a console socket: the slave, our copy */
	int winsize_fd;		/* whose size SIGWINCH forwards, or -1 */
	bool raw;		/* our terminal is in raw mode: restore it */
	struct termios saved;
};

int exec_stdio_open(bool terminal, const char *console_socket, struct exec_stdio *io,
		    novm_error_t *err);
void exec_stdio_close(struct exec_stdio *io);

/* The stdio now belongs to the VMM: a detached proxy keeps no copy (they
 * become /dev/null), so the process's readers see EOF when it ends. */
void exec_stdio_drop(void);

/* Parses "exit <status> <signal>". */
bool exec_parse_exit(const char *line, int *status, int *signo);

#endif
