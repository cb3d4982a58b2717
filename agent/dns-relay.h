/* The guest's half of the DNS relay (vmm/channel/dns-forward.h): a UDP
 * listener at the namespace resolver's address (127.0.0.11:53 for
 * Docker's), in the guest's network namespace, which the container shares.
 * Each query goes to the host as PROTO_DNS with a tag naming its client;
 * PROTO_DNS_ANSWER comes back to that client.  UDP only. */
#ifndef NOVM_AGENT_DNS_RELAY_H
#define NOVM_AGENT_DNS_RELAY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "link.h"

/* Clients whose answer may still come: the oldest is forgotten first. */
#define DNS_RELAY_CLIENTS 64

struct dns_relay {
	int fd;		/* -1: no relay */
	struct sockaddr_in6 clients[DNS_RELAY_CLIENTS];
	socklen_t client_len[DNS_RELAY_CLIENTS];
	uint32_t next;	/* tag of the next query; slot = tag % DNS_RELAY_CLIENTS */
};

/* Listens at IPv4 address `addr`, port 53. */
int dns_relay_open(struct dns_relay *r, const char *addr, novm_error_t *err);
/* fd readable: every waiting query goes to the host. */
void dns_relay_read(struct dns_relay *r, struct link *link);
/* A PROTO_DNS_ANSWER payload. */
void dns_relay_answer(struct dns_relay *r, const uint8_t *payload, size_t len);
void dns_relay_close(struct dns_relay *r);

#endif
