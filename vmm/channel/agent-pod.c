/* A pod's further containers in the agent link (proto/agent.h, "Pods"):
 * sessions opened with PROTO_CONTAINER, which are created first and started
 * on request, and exec sessions inside them (PROTO_EXEC_IN). */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "agent-link-internal.h"
#include "proto/agent.h"

/* A live pod container's session, or NULL with *err. */
static struct link_session *find_container(struct agent_link *link, uint32_t id,
					   novm_error_t *err)
{
	struct link_session *s = id ? link_find_session(link, id) : NULL;

	if (!s || !s->pod || s->ended) {
		novm_error(err, 0, "no container with session %u", id);
		return NULL;
	}
	return s;
}

bool agent_link_is_container(struct agent_link *link, uint32_t id)
{
	novm_error_t err = NULL;
	bool found = find_container(link, id, &err) != NULL;

	novm_error_release(&err);
	return found;
}

int agent_link_container(struct agent_link *link, const char *json, size_t len, const int stdio[3],
			 const struct agent_session_ops *ops, void *opaque, uint32_t *id,
			 novm_error_t *err)
{
	return link_open_session(link, "container", PROTO_CONTAINER, NULL, 0, json, len, stdio, ops,
				 opaque, true, id, err);
}

int agent_link_exec_in(struct agent_link *link, uint32_t target, const char *json, size_t len,
		       const int stdio[3], const struct agent_session_ops *ops, void *opaque,
		       uint32_t *id, novm_error_t *err)
{
	uint32_t le_target = htole32(target);

	if (!find_container(link, target, err)) {
		for (int i = 0; i < 3; i++)
			if (stdio[i] >= 0)
				close(stdio[i]);
		return -1;
	}
	return link_open_session(link, "exec", PROTO_EXEC_IN, &le_target, sizeof(le_target), json,
				 len, stdio, ops, opaque, false, id, err);
}

int agent_link_container_start(struct agent_link *link, uint32_t id,
			       const struct agent_session_ops *ops, void *opaque, novm_error_t *err)
{
	struct link_session *s = find_container(link, id, err);
	int ret;

	if (!s)
		return -1;
	if (s->started)
		return novm_error(err, 0, "container %u was started already", id);
	if (s->start_ops)
		return novm_error(err, 0, "container %u is being started already", id);
	if (!s->created)
		return novm_error(err, 0, "container %u is not created yet", id);
	ret = link_send_frame(link, PROTO_START, id, NULL, 0);
	if (ret < 0)
		return link_send_error(ret, err, "start");
	s->start_ops = ops;
	s->start_opaque = opaque;
	return 0;
}

void agent_link_container_start_forget(struct agent_link *link, uint32_t id)
{
	struct link_session *s = id ? link_find_session(link, id) : NULL;

	if (s && s->pod)
		s->start_ops = NULL;
}

int agent_link_signal_tree(struct agent_link *link, uint32_t id, int signo, novm_error_t *err)
{
	uint32_t sig = htole32((uint32_t)signo);
	int ret;

	if (!find_container(link, id, err))
		return -1;
	ret = link_send_frame(link, PROTO_SIGNAL_TREE, id, &sig, sizeof(sig));
	return ret < 0 ? link_send_error(ret, err, "signal") : 0;
}

/* PROTO_CREATED of a pod container: its payload, if any, is the waiting
 * init's pid (struct proto_started); without one the pid reads 0. */
void link_pod_created(struct link_session *s, const uint8_t *payload, size_t len)
{
	struct proto_started st = { 0 };

	if (!s->pod || s->created || s->ended)
		return;
	if (len >= sizeof(st))
		memcpy(&st, payload, sizeof(st));
	s->created = true;
	if (s->ops)
		s->ops->started(s->opaque, (int32_t)le32toh((uint32_t)st.pid));
}

void link_pod_started(struct link_session *s, int pid)
{
	const struct agent_session_ops *ops = s->start_ops;

	s->start_ops = NULL;
	if (ops)
		ops->started(s->start_opaque, pid);
}

void link_pod_ended(struct link_session *s, int status, int signo)
{
	const struct agent_session_ops *ops = s->start_ops;

	s->start_ops = NULL;
	if (ops)
		ops->ended(s->start_opaque, status, signo, s->error);
}
