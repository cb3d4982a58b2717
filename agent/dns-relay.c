#include "dns-relay.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent.h"

int dns_relay_open(struct dns_relay *r, const char *addr, novm_error_t *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return novm_error(err, EINVAL, "DNS relay: `%s` is not an IPv4 address", addr);
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return novm_error(err, errno, "DNS relay: socket");
	if (bind(r->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;
		dns_relay_close(r);
		return novm_error(err, e, "DNS relay: listen at %s:53", addr);
	}
	return 0;
}

void dns_relay_read(struct dns_relay *r, struct link *link)
{
	uint8_t buf[sizeof(uint32_t) + PROTO_DNS_MAX];

	for (;;) {
		uint32_t tag = r->next, slot = tag % DNS_RELAY_CLIENTS;
		socklen_t len = sizeof(r->clients[slot]);
		ssize_t n = recvfrom(r->fd, buf + sizeof(tag), PROTO_DNS_MAX, 0,
				     (struct sockaddr *)&r->clients[slot], &len);
		novm_error_t err = NULL;

		if (n < 0)
			return;
		r->client_len[slot] = len;
		r->next++;
		uint32_t wire = htole32(tag);
		memcpy(buf, &wire, sizeof(wire));
		if (link_send(link, PROTO_DNS, 0, buf, sizeof(tag) + (size_t)n, &err) < 0) {
			agent_log("DNS relay: %s", err->msg);
			novm_error_release(&err);
		}
	}
}

void dns_relay_answer(struct dns_relay *r, const uint8_t *payload, size_t len)
{
	uint32_t tag;

	if (r->fd < 0 || len <= sizeof(tag))
		return;
	memcpy(&tag, payload, sizeof(tag));
	tag = le32toh(tag);
	/* Only a client still remembered: a tag older than the ring is gone. */
	if (r->next - tag > DNS_RELAY_CLIENTS || tag == r->next)
		return;
	uint32_t slot = tag % DNS_RELAY_CLIENTS;
	if (sendto(r->fd, payload + sizeof(tag), len - sizeof(tag), MSG_DONTWAIT,
		   (struct sockaddr *)&r->clients[slot], r->client_len[slot]) < 0) {
		/* The client went away: nothing to do. */
	}
}

void dns_relay_close(struct dns_relay *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
