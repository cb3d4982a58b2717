/* What agent-link.c (the channel, frames, session 0, queries) and
 * agent-session.c (sessions' stdio relays, exec sessions) share; not for
 * other files.  I/O loop thread unless said otherwise. */
#ifndef NOVM_AGENT_LINK_INTERNAL_H
#define NOVM_AGENT_LINK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent-link.h"
#include "evset.h"
#include "relay.h"

struct vm;
struct virtio_console;
struct dns_forward;

struct link_session {
	uint32_t id;
	struct agent_link *link;
	struct relay_source *in;
	struct relay_sink *out, *err;
	const struct agent_session_ops *ops;	/* NULL once the owner is gone */
	void *opaque;
	bool started, ended, releasing;
	/* A pod container (PROTO_CONTAINER): ops hear of its creation (as
	 * started) and end; a start request, of its start and end. */
	bool pod, created;
	const struct agent_session_ops *start_ops;
	void *start_opaque;
	char *error;				/* first PROTO_ERROR text */
	size_t dropped;				/* output its readers did not take */
};

struct link_query {
	uint32_t id;
	agent_reply_fn fn;
	void *opaque;
};

struct agent_link {
	struct vm *vm;
	struct virtio_console *console;
	struct agent_link_config cfg;
	pthread_mutex_t send_lock;	/* one frame at a time into the console */
	struct evset *events;
	struct dns_forward *dns;	/* NULL: no relay */

	/* Frame reassembly; only the I/O loop thread touches it. */
	uint8_t *frame;
	size_t frame_len;
	bool synced;	/* the agent's PROTO_READY was seen */

	/* Session 0.  Its owner is whoever asked to start it. */
	struct link_session init;
	bool stdin_relayed;
	bool created;
	const struct agent_session_ops *start_ops;
	void *start_opaque;
	void (*created_fn)(void *opaque);
	void *created_opaque;
	int status, signo;		/* -1 until its PROTO_EXIT */

	/* For agent_link_describe(): frames each way and the last types. */
	_Atomic uint64_t frames_sent;
	_Atomic uint16_t last_sent_type;
	uint64_t frames_received;	/* I/O loop only */
	uint16_t last_received_type;

	struct link_session *sessions[AGENT_MAX_SESSIONS];
	size_t nr_sessions;
	struct link_query queries[AGENT_MAX_QUERIES];
	size_t nr_queries;
	uint32_t next_id;
};

/* One whole frame into the console; any thread.  -EAGAIN when the
 * console is full (see on_writable), -EMSGSIZE, -ENOMEM. */
int link_send_frame(struct agent_link *link, uint16_t type, uint32_t session, const void *payload,
		    size_t len);
/* An error for a failed link_send_frame(); returns -1. */
int link_send_error(int ret, novm_error_t *err, const char *what);

/* agent-session.c */
struct link_session *link_find_session(struct agent_link *link, uint32_t id);
uint32_t link_allocate_id(struct agent_link *link);
/* Frees an exec session (relays, fds) at once. */
void link_session_release(void *session);
/* Frees an ended exec session once its output is written. */
void link_session_maybe_release(void *session);
/* relay_input_fn for a session's stdin: PROTO_STDIN frames. */
int link_session_input(void *session, const uint8_t *data, size_t len);
/* A new session (exec, container, exec in a container; `what` for errors): a frame of type,
 * its payload prefix (NULL or prefix_len bytes) then json; stdio as
 * agent_link_exec's, taken in every case. */
int link_open_session(struct agent_link *link, const char *what, uint16_t type,
		      const void *prefix, size_t prefix_len, const char *json, size_t len, const int stdio[3],
		      const struct agent_session_ops *ops, void *opaque, bool pod, uint32_t *id,
		      novm_error_t *err);
/* agent-pod.c: a pod container's PROTO_CREATED and PROTO_STARTED; its
 * start waiter at its end. */
void link_pod_created(struct link_session *s, const uint8_t *payload, size_t len);
void link_pod_started(struct link_session *s, int pid);
void link_pod_ended(struct link_session *s, int status, int signo);
/* Output relays for a session; own: the fds are the session's. */
int link_open_sinks(struct agent_link *link, struct link_session *s, int out_fd, int err_fd,
		    bool own, novm_error_t *err);
void link_relay_output(struct link_session *s, struct relay_sink *sink, const uint8_t *data,
		       size_t len);

#endif
