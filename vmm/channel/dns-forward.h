/* The VMM's half of the DNS relay: a resolver that only the container's
 * network namespace reaches (Docker's embedded DNS at 127.0.0.11, behind
 * that namespace's own NAT rules) answers the guest's queries.  The agent
 * listens at the same address in the guest (agent/dns-relay.c) and sends
 * each query as a PROTO_DNS frame; the VMM, which lives in the namespace,
 * sends it on and returns the answer as PROTO_DNS_ANSWER.  I/O loop
 * thread only. */
#ifndef NOVM_DNS_FORWARD_H
#define NOVM_DNS_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct vm;
struct dns_forward;

/* answer(opaque, tag, message, len) takes each answer. */
typedef void dns_answer_fn(void *opaque, uint32_t tag, const uint8_t *msg, size_t len);

/* `server` is an IPv4 address; port 53. */
int dns_forward_new(struct vm *vm, const char *server, dns_answer_fn *answer, void *opaque,
		    struct dns_forward **out, novm_error_t *err);
/* A PROTO_DNS payload from the guest; malformed ones are dropped. */
void dns_forward_query(struct dns_forward *fwd, const uint8_t *payload, size_t len);
void dns_forward_free(struct dns_forward *fwd);

#endif
