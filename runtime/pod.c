#include "pod.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "control-client.h"
#include "lifecycle.h"
#include "log.h"
#include "pod-spec.h"
#include "proc.h"

static bool is_pod_container(const struct ctr_state *st)
{
	return st->pod.role == POD_ROLE_CONTAINER;
}

const char *ctr_control_dir(const struct ctr_state *st)
{
	return is_pod_container(st) ? st->pod.sandbox_dir : st->dir;
}

char *ctr_request(const struct ctr_state *st, const char *request)
{
	char *line = NULL;

	if (!is_pod_container(st))
		return strdup(request);
	if (asprintf(&line, CONTROL_REQ_IN " %u %s", st->pod.session, request) < 0)
		return NULL;
	return line;
}

int ctr_call(const struct ctr_state *st, const char *request, char **data, novm_error_t *err)
{
	cleanup_free char *line = NULL;

	/* Session 0 is the sandbox's own process: never addressed for a
	 * pod container. */
	if (is_pod_container(st) && !st->pod.session)
		return novm_error(err, 0, "container %s has no session in its pod yet", st->id);
	if (!(line = ctr_request(st, request)))
		return novm_error(err, ENOMEM, "control request");
	return ctl_call(ctr_control_dir(st), line, data, err);
}

int pod_refuse(const struct ctr_state *st, const char *what, novm_error_t *err)
{
	if (is_pod_container(st))
		return novm_error(err, 0, "%s is not supported for a pod container yet", what);
	return 0;
}

static void kill_host_process(const struct ctr_state *st)
{
	if (st->vmm.pid && proc_alive(st->vmm.pid, st->vmm.start_time))
		kill(st->vmm.pid, SIGKILL);
}

int pod_kill(struct ctr_state *st, int signo, bool all, novm_error_t *err)
{
	char request[64];

	snprintf(request, sizeof(request), CONTROL_REQ_KILL " %d%s", signo, all ? " " CONTROL_REQ_KILL_ALL : "");
	if (ctr_call(st, request, NULL, err) == 0)
		return 0;
	if (!proc_alive(st->vmm.pid, st->vmm.start_time)) {
		novm_error_release(err);
		return novm_error(err, 0, "container not running");
	}
	if (signo == SIGKILL) {
		log_msg(LOG_LEVEL_DEBUG, "kill %s: %s; killing its host process", st->id, (*err)->msg);
		novm_error_release(err);
		kill_host_process(st);
		return 0;
	}
	return -1;
}

void pod_ungraft(const char *sandbox_dir, const char *prefix)
{
	cleanup_free char *request = NULL, *count = NULL;
	novm_error_t err = NULL;

	if (asprintf(&request, CONTROL_REQ_UNGRAFT " %s", prefix) < 0)
		return;
	if (ctl_call(sandbox_dir, request, &count, &err) < 0) {
		/* A sandbox that is gone took its grafts along; one that is
		 * there keeps them until its end, or until a container of the
		 * same id takes the names again. */
		bool gone = err->errno_ == ENOENT || err->errno_ == ECONNREFUSED;
		log_msg(gone ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING, "%s: %s", request, err->msg);
		novm_error_release(&err);
		return;
	}
	log_msg(LOG_LEVEL_DEBUG, "%s: %s grafts", request, count);
}

int pod_stop(struct ctr_state *st, novm_error_t *err)
{
	char prefix[POD_GRAFT_NAME_SIZE];

	if (st->vmm.pid && proc_alive(st->vmm.pid, st->vmm.start_time)) {
		novm_error_t e = NULL;
		log_msg(LOG_LEVEL_DEBUG, "delete %s: killing its processes (host process %d)", st->id,
			st->vmm.pid);
		if (pod_kill(st, SIGKILL, true, &e) < 0)
			novm_error_release(&e);
		if (!proc_wait_gone(st->vmm.pid, st->vmm.start_time, LIFECYCLE_KILL_WAIT_MS)) {
			/* The VM did not end the session in time: its host process
			 * goes, and the connection with it. */
			kill_host_process(st);
			if (!proc_wait_gone(st->vmm.pid, st->vmm.start_time, LIFECYCLE_KILL_WAIT_MS))
				return novm_error(err, 0, "the host process (pid %d) did not stop after SIGKILL",
						  st->vmm.pid);
		}
	}
	pod_graft_prefix(st->id, prefix);
	pod_ungraft(st->pod.sandbox_dir, prefix);
	return 0;
}
