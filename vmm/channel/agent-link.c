/* The agent channel: frames in and out of the virtio-console port,
 * session 0 (the container's process), queries.  Sessions' stdio and exec
 * sessions are in agent-session.c. */
#include "agent-link.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/agent.h"
#include "agent-link-internal.h"
#include "channel/dns-forward.h"
#include "jsonstr.h"
#include "kvm.h"
#include "virtio/console.h"
#include "vmm-internal.h"

/* How long teardown waits for a reader that takes no more output. */
#define EXIT_FLUSH_STALL_MS 2000

int link_send_frame(struct agent_link *link, uint16_t type, uint32_t session, const void *payload,
		    size_t len)
{
	struct proto_header hdr = {
		.len = htole32((uint32_t)len),
		.type = htole16(type),
		.session = htole32(session),
	};
	int ret;

	if (len > PROTO_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* Header and payload go in together or not at all. */
	const struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
	pthread_mutex_lock(&link->send_lock);
	ret = virtio_console_sendv(link->console, iov, len ? 2 : 1);
	if (ret == 0) {
		atomic_fetch_add(&link->frames_sent, 1);
		atomic_store(&link->last_sent_type, type);
	}
	pthread_mutex_unlock(&link->send_lock);
	return ret < 0 ? ret : 0;
}

int link_send_error(int ret, novm_error_t *err, const char *what)
{
	if (ret == -EAGAIN)
		return novm_error(err, 0, "%s: the agent channel is full, try again", what);
	return novm_error(err, -ret, "%s", what);
}

/* ---- frames from the agent ---- */

static void on_started(struct agent_link *link, struct link_session *s, const uint8_t *payload,
		       size_t len)
{
	struct proto_started st;

	if (len < sizeof(st) || s->started || s->ended)
		return;
	memcpy(&st, payload, sizeof(st));
	s->started = true;
	if (s == &link->init) {
		const struct agent_session_ops *ops = link->start_ops;

		link->start_ops = NULL;
		if (ops)
			ops->started(link->start_opaque, (int32_t)le32toh((uint32_t)st.pid));
	} else if (s->pod) {
		link_pod_started(s, (int32_t)le32toh((uint32_t)st.pid));
	} else if (s->ops) {
		s->ops->started(s->opaque, (int32_t)le32toh((uint32_t)st.pid));
	}
}

static void on_session_exit(struct agent_link *link, struct link_session *s, const uint8_t *payload,
		    size_t len)
{
	const struct agent_session_ops *ops;
	struct proto_exit ex;
	int status, signo;
	void *opaque;

	if (len < sizeof(ex) || s->ended)
		return;
	memcpy(&ex, payload, sizeof(ex));
	status = (int32_t)le32toh((uint32_t)ex.status);
	signo = (int32_t)le32toh((uint32_t)ex.signal);
	s->ended = true;
	relay_source_free(s->in);
	s->in = NULL;
	if (s == &link->init) {
		link->status = status;
		link->signo = signo;
		ops = link->start_ops;
		opaque = link->start_opaque;
		link->start_ops = NULL;
		vm_request_exit(link->vm, VM_EXIT_CONTAINER, "container process exited with status %d",
				status);
	} else {
		ops = s->ops;
		opaque = s->opaque;
		s->ops = NULL;
		if (s->pod)
			link_pod_ended(s, status, signo);
	}
	if (ops)
		ops->ended(opaque, status, signo, s->error);
	if (s != &link->init)
		link_session_maybe_release(s);
}

static void on_reply(struct agent_link *link, uint32_t id, const uint8_t *payload, size_t len)
{
	for (size_t i = 0; i < link->nr_queries; i++) {
		struct link_query q = link->queries[i];

		if (q.id != id)
			continue;
		link->queries[i] = link->queries[--link->nr_queries];
		q.fn(q.opaque, (const char *)payload, len);
		return;
	}
}

static void on_agent_ready(struct agent_link *link)
{
	novm_error_t err = NULL;

	if (link_send_frame(link, PROTO_CONFIG, 0, link->cfg.config, link->cfg.config_len) < 0) {
		vm_request_exit(link->vm, VM_EXIT_ERROR, "cannot send the container configuration");
		return;
	}
	/* Session 0's stdin only now: the agent drops frames that come before
	 * CONFIG, and keeps those after it until session 0 exists. */
	if (link->stdin_relayed)
		return;
	link->stdin_relayed = true;
	if (link->cfg.stdin_fd < 0) {
		link_send_frame(link, PROTO_STDIN, 0, NULL, 0);	/* no stdin: end-of-file at once */
		return;
	}
	if (relay_source_new(link->events, link->cfg.stdin_fd, false, link_session_input, &link->init,
			     &link->init.in, &err) < 0) {
		vm_request_exit(link->vm, VM_EXIT_ERROR, "container stdin: %s", err->msg);
		novm_error_release(&err);
	}
}

static void handle_frame(struct agent_link *link, uint16_t type, uint32_t id, const uint8_t *payload,
			 size_t len)
{
	struct link_session *s = link_find_session(link, id);

	switch (type) {
	case PROTO_READY:
		on_agent_ready(link);
		break;
	case PROTO_CREATED:
		if (id == 0 && !link->created) {
			link->created = true;
			if (link->created_fn)
				link->created_fn(link->created_opaque);
		} else if (id != 0 && s) {
			link_pod_created(s, payload, len);
		}
		break;
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (s)
			link_relay_output(s, type == PROTO_STDOUT ? s->out : s->err, payload, len);
		break;
	case PROTO_STARTED:
		if (s)
			on_started(link, s, payload, len);
		break;
	case PROTO_ERROR:
		if (s && !s->error)
			s->error = strndup((const char *)payload, len);
		break;
	case PROTO_EXIT:
		if (s)
			on_session_exit(link, s, payload, len);
		break;
	case PROTO_REPLY:
		on_reply(link, id, payload, len);
		break;
	case PROTO_DNS:
		if (link->dns)
			dns_forward_query(link->dns, payload, len);
		break;
	default:
		/* Logs and frames for sessions nobody asked about are dropped. */
		break;
	}
}

/* Guest bytes arrive in arbitrary pieces; frames are cut out of them here. */
static void on_receive(void *opaque, const uint8_t *data, size_t len)
{
	struct agent_link *link = opaque;
	struct proto_header hdr;

	while (len) {
		size_t need = sizeof(hdr);
		if (link->frame_len >= sizeof(hdr)) {
			memcpy(&hdr, link->frame, sizeof(hdr));
			need += le32toh(hdr.len);
		}
		size_t take = need - link->frame_len < len ? need - link->frame_len : len;
		memcpy(link->frame + link->frame_len, data, take);
		link->frame_len += take;
		data += take;
		len -= take;
		if (link->frame_len < sizeof(hdr))
			continue;
		memcpy(&hdr, link->frame, sizeof(hdr));
		uint32_t payload_len = le32toh(hdr.len);
		if (!link->synced && (le16toh(hdr.type) != PROTO_READY || hdr.session ||
				      payload_len > PROTO_READY_MAX)) {
			/* Bytes before the agent's first frame are noise (a tty echo
			 * while the port was not yet raw): slide to the next byte. */
			memmove(link->frame, link->frame + 1, --link->frame_len);
			continue;
		}
		if (payload_len > PROTO_MAX_PAYLOAD) {
			vm_request_exit(link->vm, VM_EXIT_ERROR, "agent sent a %u-byte frame (limit %u)",
					payload_len, PROTO_MAX_PAYLOAD);
			link->frame_len = 0;
			return;
		}
		if (link->frame_len == sizeof(hdr) + payload_len) {
			link->synced = true;
			link->frames_received++;
			link->last_received_type = le16toh(hdr.type);
			handle_frame(link, le16toh(hdr.type), le32toh(hdr.session),
				     link->frame + sizeof(hdr), payload_len);
			link->frame_len = 0;
		}
	}
}

void agent_link_describe(struct agent_link *link, FILE *out)
{
	fprintf(out,
		"{\"synced\":%s,\"created\":%s,\"start_pending\":%s,\"frames_sent\":%llu,"
		"\"last_sent_type\":%u,\"frames_received\":%llu,\"last_received_type\":%u,"
		"\"partial_frame_bytes\":%zu,\"sessions\":%zu,\"queries\":%zu}",
		json_bool(link->synced), json_bool(link->created),
		json_bool(link->start_ops != NULL),
		(unsigned long long)atomic_load(&link->frames_sent),
		(unsigned)atomic_load(&link->last_sent_type),
		(unsigned long long)link->frames_received, link->last_received_type,
		link->frame_len, link->nr_sessions, link->nr_queries);
}

/* The console has room again: every held stdin chunk gets another try. */
static void on_writable(void *opaque)
{
	struct agent_link *link = opaque;

	if (link->init.in)
		relay_source_resume(link->init.in);
	for (size_t i = 0; i < link->nr_sessions; i++)
		if (link->sessions[i]->in)
			relay_source_resume(link->sessions[i]->in);
}

static const struct virtio_console_ops link_console_ops = {
	.receive = on_receive,
	.writable = on_writable,
};

/* ---- set-up ---- */

/* An answer that finds the channel full is dropped: the guest's resolver
 * asks again. */
static void on_dns_answer(void *opaque, uint32_t tag, const uint8_t *msg, size_t len)
{
	(void)tag;
	link_send_frame(opaque, PROTO_DNS_ANSWER, 0, msg, len);
}

int agent_link_init(struct vm *vm, const struct agent_link_config *cfg, struct agent_link **out,
		    novm_error_t *err)
{
	struct agent_link *link = calloc(1, sizeof(*link));

	if (!link || !(link->frame = malloc(sizeof(struct proto_header) + PROTO_MAX_PAYLOAD))) {
		free(link);
		return novm_error(err, ENOMEM, "agent link");
	}
	link->vm = vm;
	link->cfg = *cfg;
	link->status = link->signo = -1;
	link->init.link = link;
	pthread_mutex_init(&link->send_lock, NULL);
	if (evset_new(&vm->loop, &link->events, err) < 0)
		goto fail;
	if (virtio_console_init(vm, &link_console_ops, link, &link->console, err) < 0) {
		novm_error_wrap(err, "agent channel");
		goto fail;
	}
	/* Session 0's fds belong to the caller: relays use them, never close
	 * them. */
	if (link_open_sinks(link, &link->init, cfg->stdout_fd, cfg->stderr_fd, false, err) < 0) {
		novm_error_wrap(err, "container stdio");
		goto fail;
	}
	if (cfg->dns_server &&
	    dns_forward_new(vm, cfg->dns_server, on_dns_answer, link, &link->dns, err) < 0)
		goto fail;
	*out = link;
	return 0;
fail:
	agent_link_exit(link);
	return -1;
}

void agent_link_exit(struct agent_link *link)
{
	if (!link)
		return;
	/* What the processes wrote last still reaches their readers. */
	if (link->init.out)
		relay_sink_flush(link->init.out, EXIT_FLUSH_STALL_MS);
	if (link->init.err)
		relay_sink_flush(link->init.err, EXIT_FLUSH_STALL_MS);
	for (size_t i = 0; i < link->nr_sessions; i++) {
		struct link_session *s = link->sessions[i];

		if (s->out)
			relay_sink_flush(s->out, EXIT_FLUSH_STALL_MS);
		if (s->err)
			relay_sink_flush(s->err, EXIT_FLUSH_STALL_MS);
		link_session_release(s);
	}
	relay_source_free(link->init.in);
	relay_sink_free(link->init.out);
	relay_sink_free(link->init.err);
	free(link->init.error);
	dns_forward_free(link->dns);
	if (link->console)
		virtio_console_exit(link->console);
	evset_free(link->events);
	pthread_mutex_destroy(&link->send_lock);
	free(link->frame);
	free(link);
}

void agent_link_on_created(struct agent_link *link, void (*fn)(void *opaque), void *opaque)
{
	link->created_fn = fn;
	link->created_opaque = opaque;
}

/* ---- session 0 ---- */

int agent_link_start(struct agent_link *link, const struct agent_session_ops *ops, void *opaque,
		     novm_error_t *err)
{
	int ret;

	if (link->init.ended)
		return novm_error(err, 0, "the container process has exited");
	if (link->init.started)
		return novm_error(err, 0, "the container process was started already");
	if (link->start_ops)
		return novm_error(err, 0, "the container is being started already");
	if (!link->created)
		return novm_error(err, 0, "the container is not created yet");
	ret = link_send_frame(link, PROTO_START, 0, NULL, 0);
	if (ret < 0)
		return link_send_error(ret, err, "start");
	link->start_ops = ops;
	link->start_opaque = opaque;
	return 0;
}

void agent_link_start_forget(struct agent_link *link)
{
	link->start_ops = NULL;
}

int agent_link_signal(struct agent_link *link, int signo)
{
	uint32_t sig = htole32((uint32_t)signo);
	return link_send_frame(link, PROTO_SIGNAL, 0, &sig, sizeof(sig));
}

int agent_link_signal_all(struct agent_link *link, int signo, novm_error_t *err)
{
	uint32_t sig = htole32((uint32_t)signo);
	int ret = link_send_frame(link, PROTO_SIGNAL, PROTO_SESSION_ALL, &sig, sizeof(sig));

	return ret < 0 ? link_send_error(ret, err, "signal") : 0;
}

/* ---- queries ---- */

/* A frame the agent answers with PROTO_REPLY under the same id. */
static int ask(struct agent_link *link, uint16_t type, const void *payload, size_t len,
	       const char *what, agent_reply_fn fn, void *opaque, uint32_t *id, novm_error_t *err)
{
	uint32_t qid;
	int ret;

	if (link->nr_queries >= AGENT_MAX_QUERIES)
		return novm_error(err, 0, "%s: too many queries at once", what);
	qid = link_allocate_id(link);
	ret = link_send_frame(link, type, qid, payload, len);
	if (ret < 0)
		return link_send_error(ret, err, what);
	link->queries[link->nr_queries++] = (struct link_query){ qid, fn, opaque };
	*id = qid;
	return 0;
}

int agent_link_query(struct agent_link *link, const char *name, agent_reply_fn fn, void *opaque,
		     uint32_t *id, novm_error_t *err)
{
	return ask(link, PROTO_QUERY, name, strlen(name), name, fn, opaque, id, err);
}

int agent_link_before_start(const struct agent_link *link, const char *what, novm_error_t *err)
{
	if (!link->created)
		return novm_error(err, 0, "%s: the container is not created yet", what);
	if (link->init.started || link->init.ended || link->start_ops)
		return novm_error(err, 0, "%s: the container was started already", what);
	return 0;
}

int agent_link_network(struct agent_link *link, const char *json, size_t len, agent_reply_fn fn,
		       void *opaque, uint32_t *id, novm_error_t *err)
{
	if (agent_link_before_start(link, "network", err) < 0)
		return -1;
	return ask(link, PROTO_NETWORK, json, len, "network", fn, opaque, id, err);
}

void agent_link_query_forget(struct agent_link *link, uint32_t id)
{
	for (size_t i = 0; i < link->nr_queries; i++) {
		if (link->queries[i].id == id) {
			link->queries[i] = link->queries[--link->nr_queries];
			return;
		}
	}
}

/* ---- after the end ---- */

int agent_link_status(const struct agent_link *link, int *signo)
{
	if (signo)
		*signo = link->signo;
	return link->status;
}

const char *agent_link_error(const struct agent_link *link)
{
	return link->init.error;
}

/* Container mode only: a bare VM has no agent. */
int agent_link_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	if (!cfg->agent)
		return 0;
	if (agent_link_init(&vmm->vm, cfg->agent, &vmm->agent, err) < 0)
		return -1;
	agent_link_on_created(vmm->agent, vmm_on_created, vmm);
	return 0;
}

void agent_link_detach(struct vmm *vmm)
{
	agent_link_exit(vmm->agent);
	vmm->agent = NULL;
}
