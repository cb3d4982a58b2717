/* The control protocol: how `novm-runc` commands reach a running
 * container's VMM.  Spoken by the runtime (runtime/control-client.c and
 * its callers) as the client and the VMM (vmm/channel/control*.c) as the
 * server, over a unix stream socket at <state dir>/control.sock.
 *
 * Wire format: text lines; a request is one line "<command> [args]\n",
 * answered with "ok[ <data>]\n" or "error <message>\n".  One request per
 * connection: the server closes it after the final answer.  Answers may be
 * long (ps: up to CONTROL_MAX_ANSWER bytes).
 *
 *   start                   start the prepared process (session 0)
 *                           -> ok <guest pid>   once it runs
 *                           -> error <message>  if it could not start
 *   kill <signo> [all]      signal session 0's process; with all, also every
 *                           running exec session's process (the processes
 *                           the host started, not what they forked)
 *                           -> ok   once the signal is on its way
 *   ps                      -> ok <JSON array of guest processes>
 *   stats                   -> ok <JSON {memory, cpu}>
 *   pause | resume          stop / continue the vCPUs -> ok
 *                           (pause when paused, resume when not: error)
 *   diag                    -> ok <JSON: the agent link and every virtio
 *                           queue's indices>, to tell why a request stalled
 *   resize <rows> <cols>    session 0's terminal size -> ok (error before
 *                           the container is created: worth a retry)
 *   exec <len>[ tty]        followed by <len> bytes of OCI process JSON (at
 *                           most CONTROL_MAX_PROCESS_JSON: it travels in one
 *                           agent frame); the sendmsg carrying the request
 *                           line passes the session's stdin, stdout and
 *                           stderr fds (SCM_RIGHTS, three fds; they may be
 *                           the same open file, e.g. a terminal with tty).
 *                           -> ok <guest pid>  when started, later
 *                           -> exit <status> <signal>   when it ended
 *                              (status: exit code or 128 + signal);
 *                           -> error <message>  instead if it could not start.
 *                           Meanwhile the client may send on the same
 *                           connection "signal <signo>\n" and
 *                           "resize <rows> <cols>\n" (no answer; a bad line
 *                           is answered with error and the connection
 *                           closed).  A client that disconnects leaves the
 *                           process running; its stdio fds are closed when
 *                           it ends.
 *
 *   nics <len>              before start: followed by <len> bytes (at most
 *                           CONTROL_MAX_NETWORK_JSON) of the guest's network
 *                           as the agent's PROTO_NETWORK takes it; the
 *                           sendmsg carrying the request line passes one tap
 *                           fd per interface (SCM_RIGHTS, 1 to
 *                           CONTROL_MAX_NIC_FDS), in the document's order.
 *                           The VM's spare NICs (booted without a backend,
 *                           link down) are connected to them in turn, their
 *                           links come up, then the agent configures them.
 *                           -> ok {}            once the guest applied it
 *                           -> error <message>  fewer spares than fds, the
 *                              container started already, or the agent's
 *                              error (the NICs stay connected then)
 *
 * Pods (a sandbox VM, whose VM has the PROTO_POD_TAG share; see
 * proto/agent.h):
 *   graft <name>            the sendmsg carrying the line passes one fd, a
 *                           directory or file (normally a detached mount
 *                           from open_tree(OPEN_TREE_CLONE), made read-only
 *                           with mount_setattr for a read-only share): the
 *                           pod share serves it as /<name>.  name: 1 to
 *                           CONTROL_MAX_GRAFT_NAME bytes of [A-Za-z0-9._-],
 *                           not "." or "..".  -> ok; error when the name is
 *                           taken, the VM has no pod share, or the pod has
 *                           CONTROL_MAX_GRAFTS already
 *   ungraft <prefix>        the grafts whose names start with <prefix> are
 *                           no longer found (what the guest holds of them
 *                           stays valid until it forgets it) -> ok <count>
 *   container <len>[ tty]   as exec, with <len> bytes of PROTO_CONTAINER's
 *                           JSON: -> ok <guest pid> <session> once the
 *                           container is created (its init waits for
 *                           start), later -> exit <status> <signal>; the
 *                           client may send signal and resize lines.  The
 *                           connection is the container's life: its client
 *                           is the host process that stands for it.
 *   in <session> <request>  start, kill <signo> [all], ps, stats, resize and
 *                           exec addressed to the pod container of that
 *                           session instead of session 0 (kill all: its
 *                           PID namespace's processes); error for a session
 *                           that is no pod container
 *
 * start, ps, stats, nics and exec need the guest running: while paused they fail.
 * When the VM stops, waiting clients get "error the container VM stopped",
 * running exec sessions "exit 137 9" (as runc's exec sees its process killed
 * with the container). */
#ifndef NOVM_PROTO_CONTROL_H
#define NOVM_PROTO_CONTROL_H

#define CONTROL_SOCKET_NAME "control.sock"
#define CONTROL_MAX_LINE 4096
#define CONTROL_MAX_PROCESS_JSON (64 * 1024)
#define CONTROL_MAX_ANSWER (CONTROL_MAX_PROCESS_JSON + CONTROL_MAX_LINE)
/* nics: the network document travels in one agent frame too. */
#define CONTROL_MAX_NETWORK_JSON (64 * 1024)
#define CONTROL_MAX_NIC_FDS 3

/* The requests' first words (and their flag words), as both ends spell
 * them; CONTROL_REQ_SIGNAL and CONTROL_REQ_RESIZE are also the lines an
 * exec client sends while its session runs. */
#define CONTROL_REQ_START "start"
#define CONTROL_REQ_KILL "kill"
#define CONTROL_REQ_KILL_ALL "all"
#define CONTROL_REQ_PS "ps"
#define CONTROL_REQ_STATS "stats"
#define CONTROL_REQ_PAUSE "pause"
#define CONTROL_REQ_RESUME "resume"
#define CONTROL_REQ_DIAG "diag"
#define CONTROL_REQ_RESIZE "resize"
#define CONTROL_REQ_EXEC "exec"
#define CONTROL_REQ_EXEC_TTY "tty"
#define CONTROL_REQ_SIGNAL "signal"
#define CONTROL_REQ_GRAFT "graft"
#define CONTROL_REQ_UNGRAFT "ungraft"
#define CONTROL_REQ_CONTAINER "container"
#define CONTROL_REQ_IN "in"
#define CONTROL_REQ_NICS "nics"

#define CONTROL_MAX_GRAFT_NAME 128
#define CONTROL_MAX_GRAFTS 256

/* The answers' first words: "ok[ <data>]", "error <message>", and an exec
 * session's "exit <status> <signal>". */
#define CONTROL_ANS_OK "ok"
#define CONTROL_ANS_ERROR "error"
#define CONTROL_ANS_EXIT "exit"

#endif
