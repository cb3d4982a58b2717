/* PROTO_REPLY answers to the host's QUERY and NETWORK frames. */
#ifndef NOVM_AGENT_REPLIES_H
#define NOVM_AGENT_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "link.h"
#include "pods.h"

/* PROTO_REPLY with answer, or with {"error": ...} when *failure is set
 * (released). */
void reply_send(struct link *l, uint32_t session, const char *answer, size_t len,
		novm_error_t *failure);

/* A QUERY ("ps"/"stats", of session 0 or of a pod container) answered. */
void reply_query(struct link *l, struct pod_table *pods, const struct link_frame *f);

/* NICs the host connected after boot (the links a client added between
 * create and start), configured as CONFIG's are, before the process
 * starts; answered {} or the error. */
void reply_network(struct link *l, const struct link_frame *f);

#endif
