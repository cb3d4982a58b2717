/* A container's place in the guest: a cgroup of its own and the
 * namespaces its init is forked into (a mount and a cgroup namespace
 * always, a PID namespace when the spec lists one), which every exec
 * session joins.  The agent itself stays in the guest's own namespaces, root and
 * cgroup, out of the container's sight and reach.
 *
 * A pod container (proto/agent.h) is set up the same way with a cgroup of
 * its own, and a PID namespace always; the network, IPC, UTS and PID
 * namespaces its spec gives a "path" for are the sandbox's (session 0's
 * init's) instead, the others listed without one new. */
#ifndef NOVM_AGENT_NAMESPACES_H
#define NOVM_AGENT_NAMESPACES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci/spec.h"

/* Where the agent mounts the guest's cgroup v2 hierarchy, and the
 * container's cgroup in it. */
#define NS_CGROUP_MOUNT "/sys/fs/cgroup"
#define NS_CONTAINER_CGROUP_NAME "/container"
#define NS_CONTAINER_CGROUP NS_CGROUP_MOUNT NS_CONTAINER_CGROUP_NAME
/* A pod container's cgroup: "/pod-<session>", beside the sandbox's. */
#define NS_POD_CGROUP_PREFIX "/pod-"
#define NS_CGROUP_NAME_MAX 32

/* The namespaces a pod container may share with its sandbox, and exec
 * sessions join as the init has them. */
enum ns_shared { NS_SHARED_NET, NS_SHARED_IPC, NS_SHARED_UTS, NS_SHARED_N };

struct container_ns {
	int cgroup_fd;		/* the container's cgroup directory, with its device program */
	int procs_fd;		/* its cgroup.procs, where a child writes itself */
	int own_pid_ns_fd;	/* the agent's PID namespace, to return to */
	/* The init's, once container_ns_record() has run; -1 before. */
	int mnt_ns_fd, pid_ns_fd, cgroup_ns_fd;
	int shared_fds[NS_SHARED_N];	/* the init's network, IPC, UTS */
	int root_fd;		/* the init's root, for exec sessions to chroot to */
	/* Pods: the sandbox's namespaces the init joins (-1: none), and the
	 * CLONE_NEW* flags of those it gets new. */
	int join_fds[NS_SHARED_N], join_pid_fd;
	int unshare_more;
	char cgroup_name[NS_CGROUP_NAME_MAX];	/* below NS_CGROUP_MOUNT */
	bool new_pid, new_cgroup;
};

/* Makes the container's cgroup (mounting cgroup2 first if needed) and
 * notes which namespaces the spec asks for.  sandbox_init 0: session 0,
 * in NS_CONTAINER_CGROUP; else the pid of session 0's init, whose
 * namespaces a pod container of that session joins (see above). */
int container_ns_init(struct container_ns *ns, const struct oci_spec *spec, uint32_t session,
		      pid_t sandbox_init, novm_error_t *err);
/* Closes the fds; the cgroup stays (see container_ns_remove_cgroup). */
void container_ns_release(struct container_ns *ns);

/* SIGKILL to every process of the cgroup, then its removal: -1 with errno
 * EBUSY while they are not all gone yet (call again once reaped). */
int container_ns_remove_cgroup(const struct container_ns *ns);

/* Signals every process of the container's cgroup (or a cgroup below
 * it), daemons included: runc's kill --all. */
int container_ns_signal_all(const struct container_ns *ns, int sig, novm_error_t *err);

/* fork() into the container: for the init (init true) a new PID namespace
 * when asked; for an exec session the init's.  Returns the pid in the
 * agent, 0 in the child, -1 on failure. */
pid_t container_ns_fork(struct container_ns *ns, bool init, novm_error_t *err);

/* In the init's child: joins the cgroup, then unshares the mount namespace
 * (every mount made private, so nothing reaches the agent's) and the
 * cgroup namespace when asked. */
int container_ns_enter_new(const struct container_ns *ns, novm_error_t *err);

/* In an exec session's child: joins the cgroup and the init's cgroup,
 * network, IPC, UTS and mount namespaces; the root and cwd are then the container's "/". */
int container_ns_enter_existing(const struct container_ns *ns, novm_error_t *err);

/* Keeps the namespaces of the init (set up, not yet exec'd) for exec
 * sessions. */
int container_ns_record(struct container_ns *ns, pid_t init, novm_error_t *err);

#endif
