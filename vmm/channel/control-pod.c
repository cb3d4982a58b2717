/* A pod's control requests (proto/control.h, "Pods"): grafts on the pod
 * share, the pod's further containers, and `in <session>` requests
 * addressed to one of them.  A container's connection is a session like
 * exec's: its first answer comes when the container is created, not
 * started, and its exit line when its init ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "control-internal.h"

static bool is_pod(struct control *ctl)
{
	return ctl->ops->is_pod && ctl->ops->is_pod(ctl->backend);
}

/* ---- container sessions ---- */

static void container_created(void *opaque, int pid)
{
	struct conn *c = opaque;

	c->started = true;	/* a VM stop now reads "exit 137 9" */
	c->wait = WAIT_NONE;
	conn_printf(c, CONTROL_ANS_OK " %d %u", pid, c->id);
}

static void container_ended(void *opaque, int status, int signo, const char *error)
{
	control_session_ended(opaque, status, signo, error,
			      "the container ended before it was created");
}

static const struct agent_session_ops container_ops = {
	.started = container_created,
	.ended = container_ended,
};

void control_run_container(struct conn *c)
{
	struct control *ctl = c->ctl;
	novm_error_t err = NULL;
	int stdio[3] = { c->fds[0], c->fds[1], c->fds[2] };

	if (control_refuse_when_paused(c, "container"))
		return;
	/* The backend owns the fds from here, whatever happens. */
	c->nr_fds = 0;
	int r = ctl->ops->container(ctl->backend, c->body, c->body_len, stdio, &container_ops, c,
				    &c->id, &err);
	control_body_taken(c, r, &err, true);
}

/* ---- requests ---- */

static void graft(struct conn *c, const struct control_request *req)
{
	struct control *ctl = c->ctl;
	novm_error_t err = NULL;
	int fd;

	if (c->nr_fds != 1) {
		conn_finish(c, CONTROL_ANS_ERROR " graft needs 1 fd, got %d", c->nr_fds);
		return;
	}
	fd = c->fds[0];
	c->nr_fds = 0;	/* the backend's, whatever happens */
	if (ctl->ops->graft(ctl->backend, req->name, fd, &err) < 0)
		conn_fail(c, &err);
	else
		conn_finish(c, CONTROL_ANS_OK);
}

/* A request addressed to the pod container of session req->session. */
static void in_container(struct conn *c, const struct control_request *req)
{
	struct control *ctl = c->ctl;
	uint32_t id = req->session;
	novm_error_t err = NULL;
	char query[32];
	int r = 0;

	if (!ctl->ops->is_container(ctl->backend, id)) {
		conn_finish(c, CONTROL_ANS_ERROR " no container with session %u", id);
		return;
	}
	switch (req->verb) {
	case CONTROL_START:
		if (control_refuse_when_paused(c, "start"))
			return;
		if (ctl->ops->container_start(ctl->backend, id, &control_start_ops, c, &err) < 0) {
			conn_fail(c, &err);
			return;
		}
		c->target = id;
		c->state = CONN_WAIT;
		c->wait = WAIT_START;
		return;
	case CONTROL_KILL:
		if (req->all)
			r = ctl->ops->signal_tree(ctl->backend, id, req->signo, &err);
		else
			r = ctl->ops->session_signal(ctl->backend, id, req->signo, &err);
		break;
	case CONTROL_PS:
	case CONTROL_STATS:
		snprintf(query, sizeof(query), "%s %u", req->verb == CONTROL_PS ? "ps" : "stats", id);
		if (!control_refuse_when_paused(c, query))
			control_query(c, query);
		return;
	case CONTROL_RESIZE:
		r = ctl->ops->session_resize(ctl->backend, id, req->rows, req->cols, &err);
		break;
	case CONTROL_EXEC:
		control_begin_body(c, req);
		return;
	default:
		/* The parser lets no other request through `in`. */
		conn_finish(c, CONTROL_ANS_ERROR " not a container request");
		return;
	}
	if (r < 0)
		conn_fail(c, &err);
	else
		conn_finish(c, CONTROL_ANS_OK);
}

void control_handle_pod_request(struct conn *c, const struct control_request *req)
{
	struct control *ctl = c->ctl;

	if (!is_pod(ctl)) {
		conn_finish(c, CONTROL_ANS_ERROR " this VM is no pod sandbox");
		return;
	}
	if (req->session) {
		in_container(c, req);
		return;
	}
	switch (req->verb) {
	case CONTROL_GRAFT:
		graft(c, req);
		break;
	case CONTROL_UNGRAFT:
		conn_finish(c, CONTROL_ANS_OK " %u", ctl->ops->ungraft(ctl->backend, req->name));
		break;
	case CONTROL_CONTAINER:
		control_begin_body(c, req);
		break;
	default:
		conn_finish(c, CONTROL_ANS_ERROR " not a pod request");
		break;
	}
}
