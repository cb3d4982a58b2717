/* Answers that travel as PROTO_REPLY (the host's QUERY and NETWORK
 * requests): JSON either way, {"error": "..."} when one failed. */
#include "replies.h"

#include <errno.h>

#include "cleanup.h"
#include "log.h"
#include "netconfig.h"
#include "oci/json.h"
#include "proto/agent.h"
#include "query.h"

/* Errors travel as {"error": "..."} so the reply is JSON either way. */
static int error_json(const char *msg, char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);

	if (!gen)
		return novm_error(err, ENOMEM, "reply");
	json_gen_object_open(gen);
	json_gen_member_string(gen, "error", msg);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "reply", out, len, err);
}

void reply_send(struct link *l, uint32_t session, const char *answer, size_t len,
		novm_error_t *failure)
{
	cleanup_free char *error = NULL;
	novm_error_t err = NULL;

	if (*failure) {
		if (error_json((*failure)->msg, &error, &len, &err) < 0) {
			novm_error_release(failure);
			agent_warn(&err, "reply");
			return;
		}
		novm_error_release(failure);
		answer = error;
	}
	if (link_send(l, PROTO_REPLY, session, answer, len, &err) < 0)
		agent_warn(&err, "channel");
}

void reply_query(struct link *l, struct pod_table *pods, const struct link_frame *f)
{
	cleanup_free char *answer = NULL;
	const char *cgroup = NULL;
	struct query_request q;
	size_t len = 0;
	novm_error_t err = NULL;
	int r = query_parse((const char *)f->payload, f->len, &q, &err);

	if (r == 0 && q.has_session)
		r = pods_query_cgroup(pods, q.session, &cgroup, &err);
	if (r == 0)
		query_run(q.kind, cgroup, &answer, &len, &err);
	reply_send(l, f->session, answer, len, &err);
}

/* The DNS relay is CONFIG's alone. */
void reply_network(struct link *l, const struct link_frame *f)
{
	struct agent_network net;
	novm_error_t err = NULL;

	if (agent_network_parse_text((const char *)f->payload, f->len, &net, &err) == 0) {
		if (net.dns_relay)
			agent_log("network: dns_relay ignored after CONFIG");
		agent_network_apply(&net, &err);
		agent_network_release(&net);
	}
	if (err)
		agent_say("error: network: %s", err->msg);
	reply_send(l, f->session, "{}", 2, &err);
}
