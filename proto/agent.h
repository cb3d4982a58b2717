/* The agent protocol: the wire format between the VMM and the in-guest
 * agent, carried over the agent channel (a virtio-console port).  Spoken by
 * the VMM's agent link (vmm/channel/agent-link.c, agent-session.c) and the
 * agent (agent/link.c and its callers).  A stream of frames, each a fixed
 * header and up to PROTO_MAX_PAYLOAD bytes.  All integers little endian.
 *
 * A session is one process in the guest: 0 is the container's init, exec
 * sessions get ids from the host. */
#ifndef NOVM_PROTO_AGENT_H
#define NOVM_PROTO_AGENT_H

#include <stdint.h>

#define PROTO_MAX_PAYLOAD (64 * 1024)
/* PROTO_READY carries a kernel release: anything longer is not one. */
#define PROTO_READY_MAX 256
/* PROTO_SIGNAL to all the container's processes (kill --all), daemons
 * and other orphans included. */
#define PROTO_SESSION_ALL 0xffffffffu

struct proto_header {
	uint32_t len;		/* payload bytes following the header */
	uint16_t type;		/* enum proto_type */
	uint16_t reserved;
	uint32_t session;
} __attribute__((packed));

enum proto_type {
	/* guest -> host */
	PROTO_READY = 1,	/* agent up; payload: kernel release */
	PROTO_STDOUT = 2,	/* payload: bytes */
	PROTO_STDERR = 3,
	PROTO_EXIT = 4,		/* payload: struct proto_exit */
	PROTO_ERROR = 5,	/* the agent could not start the process; payload: message */
	PROTO_STARTED = 6,	/* payload: struct proto_started */
	PROTO_LOG = 7,		/* agent diagnostics; payload: text */
	PROTO_REPLY = 8,	/* answer to a PROTO_QUERY; payload: text or JSON */
	PROTO_CREATED = 9,	/* session 0 is set up, its process waits for PROTO_START */
	PROTO_DNS = 10,		/* a query to the namespace's resolver; payload:
				 * uint32 tag, then the DNS message */

	/* host -> guest */
	PROTO_CONFIG = 64,	/* payload: JSON {"config": <OCI config>, "shares": [...]} */
	PROTO_START = 65,	/* start the prepared process of the session */
	PROTO_STDIN = 66,	/* payload: bytes; empty payload = EOF */
	PROTO_SIGNAL = 67,	/* payload: uint32 signal number; session
				 * PROTO_SESSION_ALL: every container process */
	PROTO_RESIZE = 68,	/* payload: struct proto_winsize */
	PROTO_EXEC = 69,	/* payload: OCI process JSON; starts a new session */
	PROTO_QUERY = 70,	/* payload: query name ("ps", "stats") */
	PROTO_DNS_ANSWER = 71,	/* the resolver's answer to the PROTO_DNS of the
				 * same tag; payload: uint32 tag, the message */

	/* Links added between create and start (ctr run --cni). */
	PROTO_NETWORK = 72,	/* NICs connected after boot, before PROTO_START:
				 * payload: a "network" object as in CONFIG, whose
				 * interfaces name the NIC they go to by
				 * "device_mac"; answered like a QUERY (PROTO_REPLY,
				 * same session id): {} once applied, or
				 * {"error": "..."} */

	/* Pods: more containers in the sandbox's VM (see below). */
	PROTO_CONTAINER = 73,	/* payload: JSON {"id": <container id>, "config":
				 * <OCI config>, "shares": [...]} (PROTO_CONFIG's
				 * document plus the id); the frame's session (a
				 * host-chosen id, as for PROTO_EXEC) becomes a
				 * pod container.  Answered PROTO_CREATED or
				 * PROTO_ERROR; then PROTO_START, PROTO_EXIT. */
	PROTO_SIGNAL_TREE = 74,	/* payload: uint32 signal; every process of the
				 * pod container whose session the frame names
				 * (its PID namespace), daemons included */
	PROTO_EXEC_IN = 75,	/* payload: uint32 session of a pod container,
				 * then OCI process JSON: PROTO_EXEC inside that
				 * container's namespaces and root; the frame's
				 * session is the new exec session */
};

/* Pods.  Session 0 is the sandbox (the pod's pause container), set up from
 * PROTO_CONFIG as any container.  A PROTO_CONTAINER session is a further
 * container of the same VM:
 *   - its shares all have the tag PROTO_POD_TAG, the one virtio-fs device of
 *     a sandbox VM whose root shows only the trees the host grafted on it
 *     at run time (one graft per share, a directory or a single file;
 *     the share's "path" names it);
 *   - its init gets its own mount and PID namespaces (PID 1 there) and a
 *     cgroup of its own; for each namespace its spec gives with a "path"
 *     (the host's view of the sandbox's namespaces) it joins session 0's
 *     namespace of that type instead, so the pod shares network, IPC and
 *     UTS, and PID only when the spec says so;
 *   - it lives until its init exits (PROTO_EXIT of its session), which
 *     ends every other process in its PID namespace, as under runc.
 * PROTO_QUERY "ps <session>" and "stats <session>" answer for one pod
 * container; without a session, for session 0's. */
#define PROTO_POD_TAG "novm-pod"

/* DNS messages over UDP the relay carries (EDNS0's usual buffer size). */
#define PROTO_DNS_MAX 4096

struct proto_exit {
	int32_t status;		/* exit code, or 128 + signal as runc reports it */
	int32_t signal;		/* terminating signal, 0 if it exited */
} __attribute__((packed));

struct proto_started {
	int32_t pid;		/* pid in the guest */
} __attribute__((packed));

struct proto_winsize {
	uint16_t rows, cols;
} __attribute__((packed));

#endif
