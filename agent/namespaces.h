/* The container's place in the guest: a cgroup of its own and the
 * namespaces its init is forked into (a mount and a cgroup namespace
 * always, a PID namespace when the spec lists one), which every exec
 * session joins.  The agent itself stays in the guest's own namespaces, root and
 * cgroup, out of the container's sight and reach. */
#ifndef NOVM_AGENT_NAMESPACES_H
#define NOVM_AGENT_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "oci/spec.h"

/* Where the agent mounts the guest's cgroup v2 hierarchy, and the
 * container's cgroup in it. */
#define NS_CGROUP_MOUNT "/sys/fs/cgroup"
#define NS_CONTAINER_CGROUP_NAME "/container"
#define NS_CONTAINER_CGROUP NS_CGROUP_MOUNT NS_CONTAINER_CGROUP_NAME

struct container_ns {
	int cgroup_fd;		/* the container's cgroup directory, with its device program */
	int procs_fd;		/* its cgroup.procs, where a child writes itself */
	int own_pid_ns_fd;	/* the agent's PID namespace, to return to */
	/* The init's, once container_ns_record() has run; -1 before. */
	int mnt_ns_fd, pid_ns_fd, cgroup_ns_fd;
	int root_fd;		/* the init's root, for exec sessions to chroot to */
	bool new_pid, new_cgroup;
};

/* Makes the container's cgroup (mounting cgroup2 first if needed) and
 * notes which namespaces the spec asks for. */
int container_ns_init(struct container_ns *ns, const struct oci_spec *spec, novm_error_t *err);
void container_ns_release(struct container_ns *ns);

/* fork() into the container: for the init (init true) a new PID namespace
 * when asked; for an exec session the init's.  Returns the pid in the
 * agent, 0 in the child, -1 on failure. */
pid_t container_ns_fork(struct container_ns *ns, bool init, novm_error_t *err);

/* In the init's child: joins the cgroup, then unshares the mount namespace
 * (every mount made private, so nothing reaches the agent's) and the
 * cgroup namespace when asked. */
int container_ns_enter_new(const struct container_ns *ns, novm_error_t *err);

/* In an exec session's child: joins the cgroup and the init's cgroup and
 * mount namespaces; the root and cwd are then the container's "/". */
int container_ns_enter_existing(const struct container_ns *ns, novm_error_t *err);

/* Keeps the namespaces of the init (set up, not yet exec'd) for exec
 * sessions. */
int container_ns_record(struct container_ns *ns, pid_t init, novm_error_t *err);

#endif
