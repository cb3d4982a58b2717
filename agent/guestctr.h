/* A container in the guest: session 0's (the VM's container, or a pod's
 * sandbox) or a pod container (proto/agent.h).  Each is a config, a cgroup
 * and namespaces, and an init forked into them that builds its root; exec
 * sessions join them. */
#ifndef NOVM_AGENT_GUESTCTR_H
#define NOVM_AGENT_GUESTCTR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "hostconfig.h"
#include "namespaces.h"
#include "oci/spec.h"
#include "session.h"

struct guest_ctr {
	uint32_t session;	/* its init's */
	struct agent_config cfg;
	struct container_ns ns;
	bool ns_up;		/* ns holds fds to release */
};

/* Makes the cgroup and namespaces and forks the init as session
 * g->session of t, set up and waiting for session_start().  sandbox_init:
 * 0 for session 0, else the pid of session 0's init, whose namespaces a
 * pod container joins.  On failure *forked tells whether the session
 * exists all the same (its init killed, its exit still to come); the
 * cgroup of a pod container may outlive the failure (guest_ctr_remove). */
int guest_ctr_create(struct guest_ctr *g, struct session_table *t, pid_t sandbox_init,
		     bool *forked, novm_error_t *err);

/* Forks an exec session into the container: its namespaces, cgroup and
 * root, its linux.seccomp. */
int guest_ctr_exec(struct guest_ctr *g, struct session_table *t, uint32_t session,
		   const struct oci_process *p, novm_error_t *err);

/* Closes the namespaces' fds and frees the config. */
void guest_ctr_release(struct guest_ctr *g);

#endif
