/* Sessions: the processes PID 1 runs for the host (0 is the container's
 * init, the others `exec`s), each with its stdio relayed as frames, its
 * signals and window size passed on, and its exit reported once its output
 * has been drained.  PID 1's poll loop drives them. */
#ifndef NOVM_AGENT_SESSION_H
#define NOVM_AGENT_SESSION_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "link.h"
#include "oci/spec.h"

/* How long output is still read after the process exited, for data a
 * background child keeps producing or a terminal still holds. */
#define SESSION_DRAIN_MS 200
/* Above this much unwritten stdin (of all sessions) the channel is not
 * read, which pushes back on the host. */
#define SESSION_STDIN_BACKLOG (1024 * 1024)
/* fds a session may ask to be polled: stdin, stdout, stderr, error pipe */
#define SESSION_MAX_POLLFDS 4
/* How long a session's child may take to set up and report: the init
 * builds the whole root (slow under emulation), an exec only joins. */
#define SESSION_INIT_SETUP_MS (300 * 1000)
#define SESSION_EXEC_SETUP_MS (30 * 1000)

struct session;

struct session_table {
	struct session **items;
	size_t len;
	struct link *link;
};

/* Which session an entry of the pollfd array belongs to. */
struct session_pollref {
	struct session *session;
	int role;
};

void session_table_init(struct session_table *t, struct link *link);
void session_table_release(struct session_table *t);

bool session_exists(const struct session_table *t, uint32_t id);
/* The process of session id (in the agent's PID namespace), or -1. */
pid_t session_pid(const struct session_table *t, uint32_t id);

/* How a session's process comes to be: fork() into the container's
 * namespaces, then, in the child, whatever makes its world (for an init,
 * the root file system), within setup_ms (0: SESSION_EXEC_SETUP_MS); the
 * container's linux.seccomp (NULL: none) applies.  NULL functions: a plain
 * fork(), nothing to do. */
struct session_spawn {
	pid_t (*fork)(void *opaque, novm_error_t *err);
	int (*setup)(void *opaque, novm_error_t *err);
	void *opaque;
	const struct oci_seccomp *seccomp;
	int setup_ms;
};

/* Forks the process of session id through spawn (stdio pipes set up; the
 * child sets itself up, opens its terminal in the container, hands it to
 * PID 1 and waits) and starts it at once when start is true.  Returns once
 * the child is set up, or with the child's own error.  p is only read
 * before this returns.  With bind_console, the terminal is also
 * bind-mounted on /dev/console, as runc does for the container's init. */
int session_create(struct session_table *t, uint32_t id, const struct oci_process *p,
		   bool start, bool bind_console, const struct session_spawn *spawn,
		   novm_error_t *err);

/* Releases a waiting child into process_exec(). */
int session_start(struct session_table *t, uint32_t id, novm_error_t *err);

/* Queues bytes for the process's stdin; len 0 closes it (a terminal gets
 * its end-of-file character instead). */
int session_stdin(struct session_table *t, uint32_t id, const void *data, size_t len,
		  novm_error_t *err);

/* kill() of the session's process only, like runc's kill of the init. */
int session_signal(struct session_table *t, uint32_t id, int sig, novm_error_t *err);
/* Every process in the guest but ours (we are PID 1): what runc's
 * kill --all reaches through the cgroup. */
int session_signal_all(int sig, novm_error_t *err);

int session_resize(struct session_table *t, uint32_t id, uint16_t rows, uint16_t cols,
		   novm_error_t *err);

/* Unwritten stdin bytes over all sessions. */
size_t sessions_stdin_backlog(const struct session_table *t);

/* Appends the fds to poll to fds/refs (room for SESSION_MAX_POLLFDS per
 * session) and returns how many. */
size_t sessions_fill_poll(struct session_table *t, struct pollfd *fds,
			  struct session_pollref *refs);

/* Handles the events poll() reported for those entries: relays output,
 * writes queued stdin, collects start errors.  Fails only when the channel
 * does. */
int sessions_handle(struct session_table *t, const struct pollfd *fds,
		    const struct session_pollref *refs, size_t n, novm_error_t *err);

/* Reaps every exited child (PID 1 inherits all orphans) and notes the
 * statuses of session processes. */
void sessions_reap(struct session_table *t);

/* Reports and removes the sessions that are over: PROTO_ERROR when the
 * process could not be started, then PROTO_EXIT.  Sets *init_exited when
 * session 0 was among them.  Fails only when the channel does. */
int sessions_finish(struct session_table *t, bool *init_exited, novm_error_t *err);

/* Milliseconds until the nearest drain deadline, or -1 for none. */
int sessions_poll_timeout(const struct session_table *t);

#endif
