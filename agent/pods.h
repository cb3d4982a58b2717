/* The pod containers of a sandbox VM (proto/agent.h): at most
 * AGENT_MAX_POD_CONTAINERS, each a guest_ctr whose init is the session the
 * host's PROTO_CONTAINER named, until that session is over and its cgroup
 * removed. */
#ifndef NOVM_AGENT_PODS_H
#define NOVM_AGENT_PODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "guestctr.h"
#include "hostconfig.h"
#include "session.h"

struct pod_entry {
	struct guest_ctr ctr;
	bool dying;		/* its init is over: its cgroup is being removed */
};

struct pod_table {
	struct pod_entry *items[AGENT_MAX_POD_CONTAINERS];
	size_t len;
};

/* The live pod container whose init is session `session`, or NULL. */
struct guest_ctr *pods_find(struct pod_table *p, uint32_t session);

/* PROTO_CONTAINER: parses the payload and sets the container up as session
 * `session` of t, its init waiting for PROTO_START (or started at once
 * when the document says "start").  sandbox_init: session 0's init.  On
 * failure *forked tells whether the session exists all the same (its end
 * is then reported as any session's). */
int pods_create(struct pod_table *p, struct session_table *t, uint32_t session,
		const char *json, size_t len, pid_t sandbox_init, bool *forked, novm_error_t *err);

/* After the loop finished sessions: the pod containers whose init session
 * is over lose their remaining processes and their cgroup. */
void pods_collect(struct pod_table *p, const struct session_table *t);

/* kill --all for session's container: a pod container's PID namespace
 * (its cgroup).  Session 0's was the whole guest but the agent, and still
 * is without pod containers; with them, the sandbox's cgroup only. */
int pods_signal_tree(struct pod_table *p, struct guest_ctr *sandbox, uint32_t session, int sig,
		     novm_error_t *err);

/* The cgroup "ps <session>" and "stats <session>" look at: NULL for
 * session 0 (query_run's default), an error for no pod container. */
int pods_query_cgroup(struct pod_table *p, uint32_t session, const char **cgroup,
		      novm_error_t *err);

void pods_release(struct pod_table *p);

#endif
