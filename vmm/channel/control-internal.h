/* What the control server's files share (control.c: sockets and
 * connections; control-request.c: requests; control-pod.c: a pod's
 * requests; control-vm.c: the real backend); not for other files. */
#ifndef NOVM_CONTROL_INTERNAL_H
#define NOVM_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "evset.h"

enum conn_state {
	CONN_REQUEST,	/* reading the request line */
	CONN_BODY,	/* exec, container, nics: reading the body after the line */
	CONN_WAIT,	/* waiting for the backend's answer */
	CONN_SESSION,	/* exec, container: the process runs; session lines */
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
	uint32_t target;	/* `in <session>`: the pod container's; 0: session 0 */
	bool has_session;	/* the backend knows the session by id */
	bool started;
	bool read_eof;		/* the client shut its sending side */
	char in[CONTROL_MAX_LINE];
	size_t in_len;
	char *body;		/* exec's process JSON, container's document, nics' network */
	size_t body_len, body_want;
	enum control_verb body_verb;	/* CONN_BODY: exec, container or nics */
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
	struct virtio_fs *pod_share;	/* NULL: no pod sandbox */
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
 * (exec, container, nics), and a line of a running session. */
void control_handle_request(struct conn *c, const char *line);
void control_run_body(struct conn *c);
void control_handle_session_line(struct conn *c, const char *line);
/* Reads the body req announces next (exec, container, nics). */
void control_begin_body(struct conn *c, const struct control_request *req);
/* Shared answers of control-request.c for control-pod.c. */
extern const struct agent_session_ops control_start_ops;
extern const struct agent_session_ops control_exec_ops;
bool control_refuse_when_paused(struct conn *c, const char *what);
/* After a body request's backend call returned r: the error answered, or
 * the body freed and the connection waiting on its session (exec,
 * container) or on the agent's reply (nics). */
void control_body_taken(struct conn *c, int r, novm_error_t *err, bool session);
/* A session's end on its connection: its exit once started, else the
 * agent's error or `before` with the status. */
void control_session_ended(struct conn *c, int status, int signo, const char *error,
			   const char *before);
void control_query(struct conn *c, const char *name);

/* control-pod.c: graft, ungraft, container and `in <session>` requests,
 * and running a container whose body is complete. */
void control_handle_pod_request(struct conn *c, const struct control_request *req);
void control_run_container(struct conn *c);

#endif
