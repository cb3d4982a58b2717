/* The client end of a VMM's control socket (the protocol is in
 * proto/control.h): one-line requests answered by "ok[ <data>]" or
 * "error <message>", and exec sessions that keep their connection. */
#ifndef NOVM_RUNTIME_CONTROL_CLIENT_H
#define NOVM_RUNTIME_CONTROL_CLIENT_H

#include <stddef.h>

#include "error.h"
#include "proto/control.h"

/* A wedged VMM must not hang a command forever. */
#define CTL_CALL_TIMEOUT_MS (60 * 1000)
#define CTL_DIAG_TIMEOUT_MS (5 * 1000)

/* The socket path for `dir` that fits in sockaddr_un: <dir>/control.sock
 * when it is short enough, else the same through /proc/self/fd/<dir_fd>
 * (dir_fd an open descriptor of dir, or -1 when none is needed; the caller
 * keeps it open while the path is in use). */
int ctl_socket_path(const char *dir, int dir_fd, char **path, novm_error_t *err);

/* Connects to the control socket in the state directory `dir`. */
int ctl_connect(const char *dir, int *fd, novm_error_t *err);

/* One request (`request` without the newline): the data of the "ok"
 * answer (heap, "" when none) in *data, which may be NULL; an "error"
 * answer becomes an error with the VMM's message.  No answer within
 * CTL_CALL_TIMEOUT_MS: ETIMEDOUT, after ctl_log_stall(). */
int ctl_call(const char *dir, const char *request, char **data, novm_error_t *err);
/* The same for a request that passes fds with its line (SCM_RIGHTS, at
 * most CONTROL_MAX_NIC_FDS: graft's tree, nics' taps) and has a body of len
 * bytes after it (nics). */
int ctl_call_with(const char *dir, const char *request, const int *fds, int nfds,
		  const void *body, size_t len, char **data, novm_error_t *err);

/* After `request` got no answer in time: asks the VMM for its state (the
 * diag request: agent link and virtqueue indices) and logs it as a warning,
 * or that the VMM did not answer that either. */
void ctl_log_stall(const char *dir, const char *request);

/* Sends one line (`line` ends with "\n"), with fds attached when nfds > 0. */
int ctl_send(int fd, const char *line, const int *fds, int nfds, novm_error_t *err);

/* Writes all of `data`. */
int ctl_write_all(int fd, const void *data, size_t len, novm_error_t *err);

/* Lines from a connection.  Answers such as `ps` carry JSON, so a line may
 * be far longer than a request (up to proto/control.h's CONTROL_MAX_ANSWER).
 * ctl_read_line() returns 1 with a line (newline removed, valid until
 * the next call), 0 at EOF, -1 on error; timeout_ms < 0 waits forever. */
struct ctl_reader {
	int fd;
	char *buf;
	size_t len, cap;
	size_t consumed;	/* the last line handed out, dropped on the next call */
};

void ctl_reader_init(struct ctl_reader *r, int fd);
void ctl_reader_release(struct ctl_reader *r);
int ctl_read_line(struct ctl_reader *r, int timeout_ms, char **line, novm_error_t *err);

/* What follows `word` (a CONTROL_ANS_*) in an answer line: "" for the word
 * alone, the rest after its space, NULL when the line is another answer. */
const char *ctl_answer_rest(const char *line, const char *word);

/* Splits an answer line: "ok[ data]" -> 0 with *data; "error msg" -> -1
 * with err = msg; anything else -> -1 with a protocol error. */
int ctl_parse_answer(const char *line, const char **data, novm_error_t *err);

#endif
