/* The VMM process of a container: the child `create` forks.  It becomes
 * its own session (with the container's terminal as controlling terminal
 * when there is one), joins the container's cgroup, keeps only the fds the
 * VM needs, and runs the VM until the container's process ends, then exits
 * the way that process did.  Its parent learns how creation went from the
 * ready pipe: "netns\n" once it lives in the container's network
 * namespace (the create hooks may set it up now; "go\n" on go_fd lets the
 * guest boot with what they made), "ok\n" once the container is created,
 * "error <msg>\n" if it failed first (the VMM writes it; this file adds a
 * line when the VMM could not). */
#ifndef NOVM_RUNTIME_VMM_CHILD_H
#define NOVM_RUNTIME_VMM_CHILD_H

#include "vm-plan.h"
#include "netns.h"

struct vmm_child_args {
	struct container_vm *cvm;
	const char *id;
	const char *dir;		/* the state directory (control socket) */
	int ready_fd;			/* the ready pipe's write end */
	int go_fd;			/* "go\n" from the parent, or EOF */
	int console_log_fd;		/* the guest's serial console */
	int pty_master, pty_slave;	/* the container's terminal, or -1 */
	const char *console_socket;	/* where the pty master goes */
	const char *cgroup;		/* cgroup directory to join, or NULL */
	struct netns_plan *netns;	/* the network namespace to live in */
	const int *parent_fds;		/* the parent's fds to close (lock, pipe ends) */
	int nr_parent_fds;
};

__attribute__((noreturn)) void vmm_child_main(const struct vmm_child_args *a);

/* One ready-pipe line, written whole ("error <msg>\n"); errors ignored, the
 * reader may be gone. */
void vmm_child_report(int fd, const char *line);

#endif
