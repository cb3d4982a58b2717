/* The host end of the agent channel (proto/agent.h over a virtio-console
 * port): sends the container configuration when the agent is ready, and
 * runs the sessions — session 0, the container's process, with the stdio
 * given in the config, and `exec` sessions with fds from the control
 * socket — relaying their stdio (relay.h), passing on signals, window
 * sizes and queries, and ending the VM with session 0's exit status.
 *
 * Threads: everything runs on the I/O loop thread except agent_link_signal()
 * (any thread), agent_link_status()/agent_link_error() (after the loop
 * stopped) and init/exit. */
#ifndef NOVM_AGENT_LINK_H
#define NOVM_AGENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "vmm.h"

struct vm;
struct agent_link;

/* Concurrent exec sessions and queries, each. */
#define AGENT_MAX_SESSIONS 64
#define AGENT_MAX_QUERIES 64

/* What the owner of a session (or of a pending start) hears. */
struct agent_session_ops {
	/* PROTO_STARTED: the process runs. */
	void (*started)(void *opaque, int pid);
	/* The process is over: status is the exit code or 128 + signal, signo
	 * the terminating signal or 0; error is why it could not start (the
	 * agent's PROTO_ERROR) or NULL.  Nothing more is heard after this. */
	void (*ended)(void *opaque, int status, int signo, const char *error);
};

/* A query's answer (JSON text, not NUL-terminated). */
typedef void (*agent_reply_fn)(void *opaque, const char *text, size_t len);

int agent_link_init(struct vm *vm, const struct agent_link_config *cfg, struct agent_link **out,
		    novm_error_t *err);
/* The I/O loop must be stopped.  Writes out the output still queued for
 * the sessions (bounded wait) and closes their fds. */
void agent_link_exit(struct agent_link *link);

/* fn runs once the agent reports PROTO_CREATED (session 0 set up). */
void agent_link_on_created(struct agent_link *link, void (*fn)(void *opaque), void *opaque);

/* Starts session 0's prepared process (PROTO_START).  ops->started gets
 * its pid, or ops->ended is called if it ended first.  Fails when the
 * container is not created yet, was started already, or another start
 * is pending. */
int agent_link_start(struct agent_link *link, const struct agent_session_ops *ops, void *opaque,
		     novm_error_t *err);
/* Forgets the owner of a pending start (the start itself goes on). */
void agent_link_start_forget(struct agent_link *link);

/* Delivers a signal to the container's process (session 0).  Any thread. */
int agent_link_signal(struct agent_link *link, int signo);
/* The same for session 0 and every running exec session: the processes
 * the host started (not the children they forked). */
int agent_link_signal_all(struct agent_link *link, int signo, novm_error_t *err);

/* Starts an exec session: process_json is an OCI process object; stdio[]
 * (stdin, stdout, stderr: three distinct fds) is taken over in every case,
 * closed when the session ends; stdout and stderr may be the same open
 * file.  *id names the
 * session for the calls below. */
int agent_link_exec(struct agent_link *link, const char *process_json, size_t len,
		    const int stdio[3], const struct agent_session_ops *ops, void *opaque,
		    uint32_t *id, novm_error_t *err);
int agent_link_session_signal(struct agent_link *link, uint32_t id, int signo, novm_error_t *err);
/* id 0 resizes session 0's terminal (once the container is created). */
int agent_link_session_resize(struct agent_link *link, uint32_t id, unsigned rows, unsigned cols,
			      novm_error_t *err);
/* The owner is gone: no more callbacks.  The process and its stdio relay
 * go on until it ends.  (An ended session's output relay lives on until
 * its reader took the output or went away.) */
void agent_link_session_forget(struct agent_link *link, uint32_t id);

/* PROTO_QUERY `name` ("ps", "stats"); fn gets the answer once. */
int agent_link_query(struct agent_link *link, const char *name, agent_reply_fn fn, void *opaque,
		     uint32_t *id, novm_error_t *err);
void agent_link_query_forget(struct agent_link *link, uint32_t id);
/* 0 while the container is created and not (being) started; else -1 with
 * an error that begins with `what`. */
int agent_link_before_start(const struct agent_link *link, const char *what, novm_error_t *err);
/* PROTO_NETWORK with `json` (NICs connected after boot), answered as a
 * query is ({} or {"error": ...}) and forgotten with
 * agent_link_query_forget.  Only between created and start. */
int agent_link_network(struct agent_link *link, const char *json, size_t len, agent_reply_fn fn,
		       void *opaque, uint32_t *id, novm_error_t *err);

/* Pods (proto/agent.h): a further container of the pod in this VM, as an
 * exec session (stdio taken in every case) opened with PROTO_CONTAINER and
 * json, its document; ops->started gets the init's pid once the agent
 * reports it created (PROTO_CREATED: its init waits for start), ops->ended
 * its end, or why it could not be created. */
int agent_link_container(struct agent_link *link, const char *json, size_t len, const int stdio[3],
			 const struct agent_session_ops *ops, void *opaque, uint32_t *id,
			 novm_error_t *err);
/* Whether id is a pod container's session whose init has not ended. */
bool agent_link_is_container(struct agent_link *link, uint32_t id);
/* PROTO_START of a created pod container: as agent_link_start. */
int agent_link_container_start(struct agent_link *link, uint32_t id,
			       const struct agent_session_ops *ops, void *opaque, novm_error_t *err);
void agent_link_container_start_forget(struct agent_link *link, uint32_t id);
/* PROTO_SIGNAL_TREE: every process of the pod container. */
int agent_link_signal_tree(struct agent_link *link, uint32_t id, int signo, novm_error_t *err);
/* An exec session inside the pod container of session target
 * (PROTO_EXEC_IN); otherwise as agent_link_exec. */
int agent_link_exec_in(struct agent_link *link, uint32_t target, const char *json, size_t len,
		       const int stdio[3], const struct agent_session_ops *ops, void *opaque,
		       uint32_t *id, novm_error_t *err);

/* Writes the link's state as one JSON object: frames each way, the last
 * types, what is pending.  I/O loop. */
void agent_link_describe(struct agent_link *link, FILE *out);

/* After the VM stopped: the process's status (exit code or 128+signal) and
 * signal, or -1 when it never reported one; and the agent's error message
 * when it could not start the process (NULL otherwise). */
int agent_link_status(const struct agent_link *link, int *signo);
const char *agent_link_error(const struct agent_link *link);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int agent_link_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void agent_link_detach(struct vmm *vmm);

#endif
