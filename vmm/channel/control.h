/* The VMM's control socket: the server end of the control protocol
 * (proto/control.h, which describes the requests and answers), served on
 * the I/O loop. */
#ifndef NOVM_CONTROL_H
#define NOVM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "agent-link.h"
#include "error.h"
#include "ioloop.h"
#include "proto/control.h"

#define CONTROL_MAX_CONNECTIONS 64

struct vm;
struct control;

/* What the server drives: the agent link and the vCPUs, or a fake in
 * tests.  Same contracts as the agent_link_* functions they stand for. */
struct control_backend_ops {
	int (*start)(void *be, const struct agent_session_ops *ops, void *opaque, novm_error_t *err);
	void (*start_forget)(void *be);
	int (*signal)(void *be, int signo, bool all, novm_error_t *err);
	int (*query)(void *be, const char *name, agent_reply_fn fn, void *opaque, uint32_t *id,
		     novm_error_t *err);
	void (*query_forget)(void *be, uint32_t id);
	int (*exec)(void *be, const char *json, size_t len, const int stdio[3],
		    const struct agent_session_ops *ops, void *opaque, uint32_t *id, novm_error_t *err);
	int (*session_signal)(void *be, uint32_t id, int signo, novm_error_t *err);
	/* id 0: session 0 */
	int (*session_resize)(void *be, uint32_t id, unsigned rows, unsigned cols, novm_error_t *err);
	void (*session_forget)(void *be, uint32_t id);
	int (*pause)(void *be, novm_error_t *err);
	int (*resume)(void *be, novm_error_t *err);
	bool (*paused)(void *be);
	/* Writes the backend's state as one JSON object (diag).  Optional. */
	void (*describe)(void *be, FILE *out);

	/* Pods (proto/control.h).  All optional: without is_pod, or when it
	 * says false, the VM is no pod sandbox and the pod requests fail. */
	bool (*is_pod)(void *be);
	/* Takes fd in every case. */
	int (*graft)(void *be, const char *name, int fd, novm_error_t *err);
	unsigned (*ungraft)(void *be, const char *prefix);
	/* As exec, for a PROTO_CONTAINER session: ops->started is called with
	 * the init's pid once the container is created (it waits for start),
	 * ops->ended when it ends or could not be created. */
	int (*container)(void *be, const char *json, size_t len, const int stdio[3],
			 const struct agent_session_ops *ops, void *opaque, uint32_t *id,
			 novm_error_t *err);
	/* Whether id is a live pod container's session. */
	bool (*is_container)(void *be, uint32_t id);
	/* As start and start_forget, for a pod container. */
	int (*container_start)(void *be, uint32_t id, const struct agent_session_ops *ops,
			       void *opaque, novm_error_t *err);
	void (*container_start_forget)(void *be, uint32_t id);
	/* Every process of a pod container (kill all). */
	int (*signal_tree)(void *be, uint32_t id, int signo, novm_error_t *err);
	/* As exec, inside the pod container of session target. */
	int (*exec_in)(void *be, uint32_t target, const char *json, size_t len, const int stdio[3],
		       const struct agent_session_ops *ops, void *opaque, uint32_t *id,
		       novm_error_t *err);

	/* The nics request: connects the spare NICs to fds (all taken over)
	 * and hands the agent the network document (agent_link_network);
	 * fn gets the agent's answer, forgotten with query_forget.
	 * Optional. */
	int (*nics)(void *be, const char *json, size_t len, const int *fds, int nr_fds,
		    agent_reply_fn fn, void *opaque, uint32_t *id, novm_error_t *err);
};

/* Listens at path (a stale socket there is replaced; paths longer than
 * sun_path work) with mode 0600 and serves it on loop (NULL: see
 * control_dispatch). */
int control_new(struct ioloop *loop, const char *path, const struct control_backend_ops *ops,
		void *backend, struct control **out, novm_error_t *err);
/* The loop thread must be stopped (or this must run on it): answers the
 * waiting clients (see above), closes everything, removes the socket. */
void control_free(struct control *ctl);

/* Handles the pending events now; for tests that pass a NULL loop and
 * drive the server themselves.  Returns the number handled. */
int control_dispatch(struct control *ctl);

/* control_new() with the real backend: the VM's agent link and vCPUs, and
 * for a pod's sandbox VM its pod share (else NULL).  Before the I/O loop
 * thread starts. */
struct virtio_fs;
int control_new_vm(struct vm *vm, struct agent_link *link, struct virtio_fs *pod_share,
		   const char *path, struct control **out, novm_error_t *err);

/* ---- the protocol's pure parts (unit-tested) ---- */

enum control_verb {
	CONTROL_START,
	CONTROL_KILL,
	CONTROL_PS,
	CONTROL_STATS,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_EXEC,
	CONTROL_RESIZE,
	CONTROL_DIAG,
	CONTROL_GRAFT,
	CONTROL_UNGRAFT,
	CONTROL_CONTAINER,
	CONTROL_NICS,
};

struct control_request {
	enum control_verb verb;
	/* `in <session> <request>`: the pod container addressed (start, kill,
	 * ps, stats, resize, exec); 0 without `in`: session 0. */
	uint32_t session;
	int signo;		/* kill */
	bool all;		/* kill */
	unsigned rows, cols;	/* resize */
	size_t body_len;	/* exec, container, nics: the bytes after the line */
	bool tty;		/* exec, container */
	/* graft: a valid graft name; ungraft: the prefix (as long at most) */
	char name[CONTROL_MAX_GRAFT_NAME + 1];
};

/* Parses a request line (without its '\n'). */
int control_parse_request(const char *line, struct control_request *req, novm_error_t *err);

enum control_session_verb {
	CONTROL_SESSION_SIGNAL,
	CONTROL_SESSION_RESIZE,
};

struct control_session_request {
	enum control_session_verb verb;
	int signo;
	unsigned rows, cols;
};

/* Parses a line an exec client sends while its session runs. */
int control_parse_session_request(const char *line, struct control_session_request *req,
				  novm_error_t *err);

/* Cuts the first line out of buf[0..*len): copies it without its '\n' into
 * line (NUL-terminated, room for CONTROL_MAX_LINE bytes) and moves the rest
 * to the front.  1: a line was taken; 0: no whole line yet; -1: a line is
 * too long (CONTROL_MAX_LINE bytes without '\n') or holds a NUL byte. */
int control_take_line(char *buf, size_t *len, char *line);

/* recvmsg() on a stream socket, collecting SCM_RIGHTS fds (close-on-exec)
 * into fds[*nr_fds..max_fds).  Returns the bytes read (0 at EOF), -EAGAIN,
 * or -EPROTO when more fds came than fit (all of that message's fds are
 * closed then), another -errno on failure. */
ssize_t control_recv(int sock, void *buf, size_t len, int *fds, int max_fds, int *nr_fds);

/* The agent's answer to a query as a control answer: "ok <json>" with line
 * breaks flattened, or "error <message>" for its {"error": "..."}.  Writes
 * at most cap bytes including '\n' and NUL; returns the length. */
size_t control_format_reply(const char *json, size_t len, char *out, size_t cap);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int control_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void control_detach(struct vmm *vmm);

#endif
