/* The control server's requests: what each one asks of the backend, and
 * the answers its callbacks turn into. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "control-internal.h"

/* ---- backend callbacks ---- */

static void start_started(void *opaque, int pid)
{
	struct conn *c = opaque;

	c->wait = WAIT_NONE;
	conn_finish(c, CONTROL_ANS_OK " %d", pid);
}

static void start_ended(void *opaque, int status, int signo, const char *error)
{
	struct conn *c = opaque;

	(void)signo;
	c->wait = WAIT_NONE;
	if (error)
		conn_finish(c, CONTROL_ANS_ERROR " %s", error);
	else
		conn_finish(c, CONTROL_ANS_ERROR " the container process ended with status %d", status);
}

const struct agent_session_ops control_start_ops = {
	.started = start_started,
	.ended = start_ended,
};

static void query_reply(void *opaque, const char *text, size_t len)
{
	struct conn *c = opaque;
	char *line = malloc(CONTROL_MAX_ANSWER);

	c->wait = WAIT_NONE;
	if (!line) {
		conn_finish(c, CONTROL_ANS_ERROR " out of memory");
		return;
	}
	size_t n = control_format_reply(text, len, line, CONTROL_MAX_ANSWER);
	c->state = CONN_CLOSING;
	conn_send(c, line, n);	/* closes c once sent */
	free(line);
}

static void exec_started(void *opaque, int pid)
{
	struct conn *c = opaque;

	c->started = true;
	c->wait = WAIT_NONE;
	conn_printf(c, CONTROL_ANS_OK " %d", pid);
}

void control_session_ended(struct conn *c, int status, int signo, const char *error,
			   const char *before)
{
	/* The backend forgot the session already. */
	c->has_session = false;
	c->wait = WAIT_NONE;
	if (c->started)
		conn_finish(c, CONTROL_ANS_EXIT " %d %d", status, signo);
	else if (error)
		conn_finish(c, CONTROL_ANS_ERROR " %s", error);
	else
		conn_finish(c, CONTROL_ANS_ERROR " %s (status %d)", before, status);
}

static void exec_ended(void *opaque, int status, int signo, const char *error)
{
	control_session_ended(opaque, status, signo, error, "the process ended before it started");
}

const struct agent_session_ops control_exec_ops = {
	.started = exec_started,
	.ended = exec_ended,
};

/* ---- requests ---- */

bool control_refuse_when_paused(struct conn *c, const char *what)
{
	if (!c->ctl->ops->paused(c->ctl->backend))
		return false;
	conn_finish(c, CONTROL_ANS_ERROR " %s: the container is paused", what);
	return true;
}

/* Works while paused: that is when one wants to look. */
static void answer_diag(struct conn *c)
{
	struct control *ctl = c->ctl;
	cleanup_free char *text = NULL;
	size_t len = 0;

	if (!ctl->ops->describe) {
		conn_finish(c, CONTROL_ANS_ERROR " diag: not supported");
		return;
	}
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		conn_finish(c, CONTROL_ANS_ERROR " out of memory");
		return;
	}
	ctl->ops->describe(ctl->backend, out);
	if (fclose(out) != 0 || !text) {
		conn_finish(c, CONTROL_ANS_ERROR " out of memory");
		return;
	}
	query_reply(c, text, len);	/* longer than a plain answer line may be */
}

void control_query(struct conn *c, const char *name)
{
	struct control *ctl = c->ctl;
	novm_error_t err = NULL;

	if (ctl->ops->query(ctl->backend, name, query_reply, c, &c->id, &err) < 0) {
		conn_fail(c, &err);
		return;
	}
	c->state = CONN_WAIT;
	c->wait = WAIT_QUERY;
}

void control_begin_body(struct conn *c, const struct control_request *req)
{
	const char *what = req->verb == CONTROL_CONTAINER ? "container" : "exec";

	/* nics counted its tap fds already. */
	if (req->verb != CONTROL_NICS && c->nr_fds != 3) {
		conn_finish(c, CONTROL_ANS_ERROR " %s needs 3 fds (stdin, stdout, stderr), got %d",
			    what, c->nr_fds);
		return;
	}
	c->body = malloc(req->body_len);
	if (!c->body) {
		conn_finish(c, CONTROL_ANS_ERROR " out of memory");
		return;
	}
	c->body_verb = req->verb;
	c->target = req->session;
	c->body_want = req->body_len;
	c->body_len = 0;
	c->state = CONN_BODY;
}

void control_body_taken(struct conn *c, int r, novm_error_t *err, bool session)
{
	if (r < 0) {
		conn_fail(c, err);
		return;
	}
	free(c->body);
	c->body = NULL;
	if (session) {
		c->has_session = true;
		c->wait = WAIT_EXEC;
		c->state = CONN_SESSION;
	} else {
		c->wait = WAIT_QUERY;
		c->state = CONN_WAIT;
	}
}

static void run_exec(struct conn *c)
{
	struct control *ctl = c->ctl;
	novm_error_t err = NULL;
	int stdio[3] = { c->fds[0], c->fds[1], c->fds[2] };
	int r;

	if (control_refuse_when_paused(c, "exec"))
		return;
	/* The backend owns the fds from here, whatever happens. */
	c->nr_fds = 0;
	if (c->target)
		r = ctl->ops->exec_in(ctl->backend, c->target, c->body, c->body_len, stdio,
				      &control_exec_ops, c, &c->id, &err);
	else
		r = ctl->ops->exec(ctl->backend, c->body, c->body_len, stdio, &control_exec_ops, c,
				   &c->id, &err);
	control_body_taken(c, r, &err, true);
}

/* Before start: the spare NICs and the agent's network (proto/control.h). */
static void run_nics(struct conn *c)
{
	struct control *ctl = c->ctl;
	novm_error_t err = NULL;
	int nr_fds = c->nr_fds;

	if (control_refuse_when_paused(c, "nics"))
		return;
	/* The backend owns the fds from here, whatever happens. */
	c->nr_fds = 0;
	int r = ctl->ops->nics(ctl->backend, c->body, c->body_len, c->fds, nr_fds, query_reply, c,
			       &c->id, &err);
	control_body_taken(c, r, &err, false);
}

void control_run_body(struct conn *c)
{
	if (c->body_verb == CONTROL_NICS)
		run_nics(c);
	else if (c->body_verb == CONTROL_CONTAINER)
		control_run_container(c);
	else
		run_exec(c);
}

void control_handle_request(struct conn *c, const char *line)
{
	struct control *ctl = c->ctl;
	struct control_request req;
	novm_error_t err = NULL;

	if (control_parse_request(line, &req, &err) < 0) {
		conn_fail(c, &err);
		return;
	}
	bool takes_fds = req.verb == CONTROL_EXEC || req.verb == CONTROL_CONTAINER ||
			 req.verb == CONTROL_GRAFT || req.verb == CONTROL_NICS;
	if (!takes_fds && c->nr_fds) {
		conn_finish(c, CONTROL_ANS_ERROR " only exec, container, graft and nics take fds");
		return;
	}
	if (req.session || req.verb == CONTROL_GRAFT || req.verb == CONTROL_UNGRAFT ||
	    req.verb == CONTROL_CONTAINER) {
		control_handle_pod_request(c, &req);
		return;
	}
	switch (req.verb) {
	case CONTROL_START:
		if (control_refuse_when_paused(c, "start"))
			return;
		if (ctl->ops->start(ctl->backend, &control_start_ops, c, &err) < 0) {
			conn_fail(c, &err);
			return;
		}
		c->state = CONN_WAIT;
		c->wait = WAIT_START;
		break;
	case CONTROL_KILL:
		if (ctl->ops->signal(ctl->backend, req.signo, req.all, &err) < 0)
			conn_fail(c, &err);
		else
			conn_finish(c, CONTROL_ANS_OK);
		break;
	case CONTROL_PS:
	case CONTROL_STATS: {
		const char *name = req.verb == CONTROL_PS ? "ps" : "stats";

		if (control_refuse_when_paused(c, name))
			return;
		control_query(c, name);
		break;
	}
	case CONTROL_PAUSE:
	case CONTROL_RESUME:
		if (ctl->ops->paused(ctl->backend) == (req.verb == CONTROL_PAUSE)) {
			conn_finish(c, CONTROL_ANS_ERROR " the container is %s",
				    req.verb == CONTROL_PAUSE ? "paused already" : "not paused");
			return;
		}
		if ((req.verb == CONTROL_PAUSE ? ctl->ops->pause : ctl->ops->resume)(ctl->backend,
										     &err) < 0)
			conn_fail(c, &err);
		else
			conn_finish(c, CONTROL_ANS_OK);
		break;
	case CONTROL_DIAG:
		answer_diag(c);
		break;
	case CONTROL_RESIZE:
		if (ctl->ops->session_resize(ctl->backend, 0, req.rows, req.cols, &err) < 0)
			conn_fail(c, &err);
		else
			conn_finish(c, CONTROL_ANS_OK);
		break;
	case CONTROL_EXEC:
		control_begin_body(c, &req);
		break;
	case CONTROL_NICS:
		if (!ctl->ops->nics) {
			conn_finish(c, CONTROL_ANS_ERROR " nics: not supported");
			return;
		}
		if (c->nr_fds < 1) {
			conn_finish(c, CONTROL_ANS_ERROR " nics needs 1 to %d tap fds, got none",
				    CONTROL_MAX_NIC_FDS);
			return;
		}
		control_begin_body(c, &req);
		break;
	case CONTROL_GRAFT:
	case CONTROL_UNGRAFT:
	case CONTROL_CONTAINER:
		break;	/* control_handle_pod_request */
	}
}

void control_handle_session_line(struct conn *c, const char *line)
{
	struct control *ctl = c->ctl;
	struct control_session_request req;
	novm_error_t err = NULL;

	if (control_parse_session_request(line, &req, &err) < 0) {
		conn_fail(c, &err);
		return;
	}
	if (!c->has_session)
		return;	/* it ended: the exit line is on its way */
	/* Best effort, like a signal to a process that just exited. */
	if (req.verb == CONTROL_SESSION_SIGNAL)
		ctl->ops->session_signal(ctl->backend, c->id, req.signo, &err);
	else
		ctl->ops->session_resize(ctl->backend, c->id, req.rows, req.cols, &err);
	novm_error_release(&err);
}
