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

/* control_new() with the real backend: the VM's agent link and vCPUs.
 * Before the I/O loop thread starts. */
int control_new_vm(struct vm *vm, struct agent_link *link, const char *path,
		   struct control **out, novm_error_t *err);

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
	CONTROL_NICS,
};

struct control_request {
	enum control_verb verb;
	int signo;		/* kill */
	bool all;		/* kill */
	unsigned rows, cols;	/* resize */
	size_t body_len;	/* exec, nics: the bytes after the line */
	bool tty;		/* exec */
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
