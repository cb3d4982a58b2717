/* What the control server's files share (control.c: sockets and
 * connections; control-request.c: requests; control-vm.c: the real
 * backend); not for other files. */
#ifndef NOVM_CONTROL_INTERNAL_H
#define NOVM_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "evset.h"

enum conn_state {
	CONN_REQUEST,	/* reading the request line */
	CONN_BODY,	/* exec, nics: reading the JSON after the line */
	CONN_WAIT,	/* waiting for the backend's answer */
	CONN_SESSION,	/* exec: the process runs; session lines */
	CONN_CLOSING,	/* the last answer is being written */
};

enum conn_wait {
	WAIT_NONE,
	WAIT_START,
	WAIT_QUERY,	/* also nics: the agent's answer */
	WAIT_EXEC,	/* the session exists, not started yet */
};

struct conn {
	struct control *ctl;
	struct conn *next;
	struct evwatch watch;
	int fd;
	enum conn_state state;
	enum conn_wait wait;
	uint32_t id;		/* query or session id */
	bool has_session;	/* the backend knows the session by id */
	bool started;
	bool read_eof;		/* the client shut its sending side */
	char in[CONTROL_MAX_LINE];
	size_t in_len;
	char *body;		/* exec's process JSON, nics' network */
	size_t body_len, body_want;
	enum control_verb body_verb;
	int fds[CONTROL_MAX_NIC_FDS];
	int nr_fds;
	char *out;		/* answer bytes not yet sent */
	size_t out_len;
};

struct control {
	struct evset *events;
	struct evwatch listen_watch;
	int listen_fd;
	/* Out of descriptors, accept() fails while the listener stays readable:
	 * it is unwatched and this one-shot timer (made up front, when a
	 * descriptor was still to be had) watches it again. */
	int backoff_fd;
	struct evwatch backoff_watch;
	bool backoff_logged;	/* once per shortage, not once per retry */
	char *path;
	const struct control_backend_ops *ops;
	void *backend;
	struct conn *conns;
	int nr_conns;
	/* control_new_vm's backend; vmm (its NICs) once attached */
	struct vm *vm;
	struct agent_link *link;
	struct vmm *vmm;
};

/* Answers.  Each may end the connection, and c is then freed at once
 * outside an event round: callers must not touch c afterwards. */
void conn_send(struct conn *c, const char *data, size_t len);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The final answer: the connection closes once it is written. */
void conn_finish(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* conn_finish() with "error <the error's message>"; releases *err. */
void conn_fail(struct conn *c, novm_error_t *err);

/* control-request.c: a request line, a request whose body is complete
 * (exec, nics), and a line of a running exec session. */
void control_handle_request(struct conn *c, const char *line);
void control_run_body(struct conn *c);
void control_handle_session_line(struct conn *c, const char *line);

#endif
