/* The agent link's sessions: their stdio relays, and exec sessions (the
 * processes `exec` starts, each with fds from the control socket). */
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "agent-link-internal.h"
#include "proto/agent.h"

struct link_session *link_find_session(struct agent_link *link, uint32_t id)
{
	if (id == 0)
		return &link->init;
	for (size_t i = 0; i < link->nr_sessions; i++)
		if (link->sessions[i]->id == id)
			return link->sessions[i];
	return NULL;
}

static bool id_in_use(struct agent_link *link, uint32_t id)
{
	if (link_find_session(link, id))
		return true;
	for (size_t i = 0; i < link->nr_queries; i++)
		if (link->queries[i].id == id)
			return true;
	return false;
}

uint32_t link_allocate_id(struct agent_link *link)
{
	uint32_t id;

	/* Ids are not reused while in use; the tables are small, so this
	 * ends quickly. */
	do
		id = ++link->next_id;
	while (id == 0 || id_in_use(link, id));
	return id;
}

void link_session_release(void *session)
{
	struct link_session *s = session;

	relay_source_free(s->in);
	relay_sink_free(s->out);
	relay_sink_free(s->err);
	free(s->error);
	free(s);
}

static void detach_session(struct agent_link *link, struct link_session *s)
{
	for (size_t i = 0; i < link->nr_sessions; i++) {
		if (link->sessions[i] == s) {
			link->sessions[i] = link->sessions[--link->nr_sessions];
			break;
		}
	}
}

static bool session_flushed(const struct link_session *s)
{
	return (!s->out || !relay_sink_backlog(s->out)) && (!s->err || !relay_sink_backlog(s->err));
}

/* An ended exec session goes once its output is written: freed after the
 * current event round, since a sink callback may be what got us here. */
void link_session_maybe_release(void *session)
{
	struct link_session *s = session;

	if (s->releasing || !s->ended || !session_flushed(s))
		return;
	s->releasing = true;
	detach_session(s->link, s);
	evset_free_later(s->link->events, link_session_release, s);
}

int link_session_input(void *session, const uint8_t *data, size_t len)
{
	struct link_session *s = session;
	int ret = link_send_frame(s->link, PROTO_STDIN, s->id, data, len);

	/* -EAGAIN: the source keeps the chunk until on_writable(). */
	return ret == -EAGAIN ? -EAGAIN : 0;
}

/* Output relays for a session; stdout and stderr share one when they are
 * the same open file, so their order is kept. */
int link_open_sinks(struct agent_link *link, struct link_session *s, int out_fd, int err_fd,
		    bool own, novm_error_t *err)
{
	if (out_fd >= 0 && relay_sink_new(link->events, out_fd, own, &s->out, err) < 0) {
		if (own && err_fd >= 0)
			close(err_fd);
		return -1;
	}
	if (err_fd < 0)
		return 0;
	if (s->out && relay_same_file(out_fd, err_fd)) {
		if (own)
			close(err_fd);
		s->err = relay_sink_ref(s->out);
		return 0;
	}
	return relay_sink_new(link->events, err_fd, own, &s->err, err);
}

void link_relay_output(struct link_session *s, struct relay_sink *sink, const uint8_t *data,
		       size_t len)
{
	size_t dropped;

	if (!sink)
		return;
	dropped = relay_sink_write(sink, data, len);
	if (dropped && !s->dropped)
		log_msg(LOG_LEVEL_WARNING, "session %u: output dropped, its reader is too slow", s->id);
	s->dropped += dropped;
}

/* ---- exec sessions ---- */

static struct link_session *find_live(struct agent_link *link, uint32_t id, novm_error_t *err)
{
	struct link_session *s = id ? link_find_session(link, id) : NULL;

	if (!s || s->ended) {
		novm_error(err, 0, "session %u: no such session", id);
		return NULL;
	}
	return s;
}

int link_open_session(struct agent_link *link, const char *what, uint16_t type, const void *prefix,
		      size_t prefix_len, const char *json, size_t len, const int stdio[3],
		      const struct agent_session_ops *ops, void *opaque, bool pod, uint32_t *id,
		      novm_error_t *err)
{
	struct link_session *s = NULL;
	uint8_t *payload = NULL;
	int in = stdio[0], ret;

	if (len > PROTO_MAX_PAYLOAD - prefix_len) {
		novm_error(err, 0, "%s: the JSON is over %zu bytes", what, PROTO_MAX_PAYLOAD - prefix_len);
		goto fail_fds;
	}
	if (link->nr_sessions >= AGENT_MAX_SESSIONS) {
		novm_error(err, 0, "%s: too many sessions (%d)", what, AGENT_MAX_SESSIONS);
		goto fail_fds;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		novm_error(err, ENOMEM, "%s", what);
		goto fail_fds;
	}
	s->link = link;
	s->pod = pod;
	s->id = link_allocate_id(link);
	/* From here on the relays own the fds, even when they fail. */
	if (link_open_sinks(link, s, stdio[1], stdio[2], true, err) < 0)
		goto fail;
	/* An ended session waits for its output to be written. */
	if (s->out)
		relay_sink_on_drained(s->out, link_session_maybe_release, s);
	if (s->err)
		relay_sink_on_drained(s->err, link_session_maybe_release, s);
	ret = relay_source_new(link->events, in, true, link_session_input, s, &s->in, err);
	in = -1;
	if (ret < 0)
		goto fail;
	if (prefix_len) {
		payload = malloc(prefix_len + len);
		if (!payload) {
			novm_error(err, ENOMEM, "%s", what);
			goto fail;
		}
		memcpy(payload, prefix, prefix_len);
		memcpy(payload + prefix_len, json, len);
	}
	/* The stdin relay reads only in a later round of the loop, so the agent
	 * hears of the session before its first STDIN frame. */
	ret = link_send_frame(link, type, s->id, payload ? (const void *)payload : json,
			      prefix_len + len);
	free(payload);
	if (ret < 0) {
		link_send_error(ret, err, what);
		goto fail;
	}
	s->ops = ops;
	s->opaque = opaque;
	link->sessions[link->nr_sessions++] = s;
	*id = s->id;
	return 0;
fail_fds:
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	return -1;
fail:
	if (in >= 0)
		close(in);
	if (s)
		link_session_release(s);
	return -1;
}

int agent_link_exec(struct agent_link *link, const char *process_json, size_t len,
		    const int stdio[3], const struct agent_session_ops *ops, void *opaque,
		    uint32_t *id, novm_error_t *err)
{
	return link_open_session(link, "exec", PROTO_EXEC, NULL, 0, process_json, len, stdio, ops,
				 opaque, false, id, err);
}

int agent_link_session_signal(struct agent_link *link, uint32_t id, int signo, novm_error_t *err)
{
	struct link_session *s = find_live(link, id, err);
	uint32_t sig = htole32((uint32_t)signo);
	int ret;

	if (!s)
		return -1;
	ret = link_send_frame(link, PROTO_SIGNAL, id, &sig, sizeof(sig));
	return ret < 0 ? link_send_error(ret, err, "signal") : 0;
}

int agent_link_session_resize(struct agent_link *link, uint32_t id, unsigned rows, unsigned cols,
			      novm_error_t *err)
{
	struct proto_winsize ws = { .rows = htole16((uint16_t)rows), .cols = htole16((uint16_t)cols) };
	int ret;

	if (id == 0) {
		if (!link->created)
			return novm_error(err, 0, "resize: the container is not created yet");
		if (link->init.ended)
			return novm_error(err, 0, "resize: the container process has exited");
	} else if (!find_live(link, id, err)) {
		return -1;
	}
	if (rows > UINT16_MAX || cols > UINT16_MAX)
		return novm_error(err, 0, "resize: %ux%u is too large", rows, cols);
	ret = link_send_frame(link, PROTO_RESIZE, id, &ws, sizeof(ws));
	return ret < 0 ? link_send_error(ret, err, "resize") : 0;
}

void agent_link_session_forget(struct agent_link *link, uint32_t id)
{
	struct link_session *s = id ? link_find_session(link, id) : NULL;

	if (!s)
		return;
	s->ops = NULL;
	/* A pod container lives as long as the connection of the host process
	 * that stands for it (proto/control.h): gone, nobody would hear of
	 * its end, and its processes would outlive their state. */
	if (s->pod && !s->ended) {
		uint32_t sig = htole32(SIGKILL);
		if (link_send_frame(link, PROTO_SIGNAL_TREE, id, &sig, sizeof(sig)) < 0)
			log_msg(LOG_LEVEL_DEBUG, "pod container %u: host process gone, kill not sent", id);
	}
}

