#include "lifecycle.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "control-client.h"
#include "hooks.h"
#include "log.h"
#include "netconf.h"
#include "pod.h"
#include "proc.h"

int ctr_open(const char *root, const char *id, int *lock_fd, struct ctr_state *st,
	     novm_error_t *err)
{
	cleanup_close int fd = -1;

	if (state_check_id(id, err) < 0 || state_lock(root, id, &fd, err) < 0 ||
	    state_load(root, id, st, err) < 0)
		return -1;
	*lock_fd = steal_fd(&fd);
	return 0;
}

static int kill_vmm(struct ctr_state *st, novm_error_t *err)
{
	if (kill(st->vmm.pid, SIGKILL) < 0 && errno != ESRCH)
		return novm_error(err, errno, "kill the VMM (pid %d)", st->vmm.pid);
	return 0;
}

int ctr_start(struct ctr_state *st, novm_error_t *err)
{
	if (!strcmp(st->status, "stopped"))
		return novm_error(err, 0, "cannot start a container that has stopped");
	if (!strcmp(st->status, "running") || !strcmp(st->status, "paused"))
		return novm_error(err, 0, "cannot start an already running container");
	if (strcmp(st->status, "created"))
		return novm_error(err, 0, "cannot start a container in the %s state", st->status);
	cleanup_oci_hooks struct oci_hooks hooks = { 0 };
	if (hooks_load(st->dir, &hooks, err) < 0)
		return -1;
	/* Links a client added since create (ctr's CNI) become the guest's
	 * before anything of the container runs. */
	if (net_start_links(st->dir, st->vmm.pid, st->vmm.start_time, err) < 0)
		return novm_error_wrap(err, "start %s", st->id);
	/* A failed startContainer hook stops the container (the spec's
	 * lifecycle goes on to delete). */
	if (hooks_run(&hooks.start_container, "startContainer", st, err) < 0) {
		kill(st->vmm.pid, SIGKILL);
		return -1;
	}
	log_msg(LOG_LEVEL_DEBUG, "start %s: asking the VMM (pid %d) to start the process", st->id,
		st->vmm.pid);
	if (ctr_call(st, CONTROL_REQ_START, NULL, err) < 0)
		return -1;
	st->oci->status = OCI_STATUS_RUNNING;
	st->status = "running";
	if (state_write(st->dir, st->oci, err) < 0)
		return -1;
	log_msg(LOG_LEVEL_DEBUG, "start %s: running", st->id);
	hooks_run_warn(&hooks.poststart, "poststart", st);
	return 0;
}

int ctr_kill(struct ctr_state *st, int signo, bool all, novm_error_t *err)
{
	char request[64];

	if (!strcmp(st->status, "stopped") || !strcmp(st->status, "creating")) {
		/* runc: --all on a stopped container finds nothing left to
		 * signal, which is not an error; its init is another matter. */
		if (all && !strcmp(st->status, "stopped"))
			return 0;
		return novm_error(err, 0, "container not running");
	}
	/* Signal 0 asks whether the process is there: the process lives as
	 * long as its VMM, which state_load() found alive. */
	if (signo == 0)
		return 0;
	if (st->pod.role == POD_ROLE_CONTAINER)
		return pod_kill(st, signo, all, err);
	log_msg(LOG_LEVEL_DEBUG, "kill %s: signal %d%s", st->id, signo, all ? " to all processes" : "");
	/* A paused guest cannot act on a signal, and a created one has no
	 * process yet: SIGKILL means the VM itself. */
	if (signo == SIGKILL && strcmp(st->status, "running"))
		return kill_vmm(st, err);
	snprintf(request, sizeof(request), CONTROL_REQ_KILL " %d%s", signo, all ? " " CONTROL_REQ_KILL_ALL : "");
	if (ctl_call(st->dir, request, NULL, err) == 0)
		return 0;
	if (!proc_alive(st->vmm.pid, st->vmm.start_time)) {
		novm_error_release(err);
		return novm_error(err, 0, "container not running");
	}
	if (signo == SIGKILL) {
		log_msg(LOG_LEVEL_DEBUG, "kill: %s; killing the VMM", (*err)->msg);
		novm_error_release(err);
		return kill_vmm(st, err);
	}
	return -1;
}

int ctr_destroy(struct ctr_state *st, novm_error_t *err)
{
	cleanup_oci_hooks struct oci_hooks hooks = { 0 };

	/* Unreadable hooks must not keep a container from going away. */
	if (hooks_load(st->dir, &hooks, err) < 0) {
		log_msg(LOG_LEVEL_WARNING, "%s", (*err)->msg);
		novm_error_release(err);
	}
	log_msg(LOG_LEVEL_DEBUG, "delete %s: status %s", st->id, st->status);
	if (st->pod.role == POD_ROLE_CONTAINER) {
		if (pod_stop(st, err) < 0)
			return -1;
	} else if (st->vmm.pid && proc_alive(st->vmm.pid, st->vmm.start_time)) {
		log_msg(LOG_LEVEL_DEBUG, "delete %s: killing the VMM (pid %d)", st->id, st->vmm.pid);
		if (kill_vmm(st, err) < 0)
			return -1;
		if (!proc_wait_gone(st->vmm.pid, st->vmm.start_time, LIFECYCLE_KILL_WAIT_MS))
			return novm_error(err, 0, "the VMM (pid %d) did not stop after SIGKILL", st->vmm.pid);
	}
	cgroup_remove(st->vmm.cgroup);
	net_release(st->dir);
	st->oci->status = OCI_STATUS_STOPPED;
	st->oci->pid = 0;
	st->status = "stopped";
	hooks_run_warn(&hooks.poststop, "poststop", st);
	state_remove_dir(st->dir);
	log_msg(LOG_LEVEL_DEBUG, "delete %s: state removed", st->id);
	return 0;
}
