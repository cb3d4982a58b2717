#include "channel/dns-forward.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent.h"
#include "kvm.h"

/* Queries in flight: a slot per id we send with.  A guest that floods
 * overwrites its own oldest queries, nothing more. */
#define DNS_SLOTS 256
#define DNS_HEADER 12

struct dns_slot {
	uint32_t tag;
	uint16_t guest_id;	/* the id the guest's resolver chose */
	uint16_t our_id;
	bool used;
};

struct dns_forward {
	struct vm *vm;
	int fd;
	dns_answer_fn *answer;
	void *opaque;
	struct dns_slot slots[DNS_SLOTS];
	uint16_t next_id;
};

static void on_answer(void *opaque)
{
	struct dns_forward *fwd = opaque;
	uint8_t buf[sizeof(uint32_t) + PROTO_DNS_MAX];

	for (;;) {
		ssize_t n = recv(fwd->fd, buf + sizeof(uint32_t), PROTO_DNS_MAX, MSG_DONTWAIT);
		if (n < 0)
			return;		/* EAGAIN, or an ICMP error: nothing to pass on */
		if (n < DNS_HEADER)
			continue;
		uint8_t *msg = buf + sizeof(uint32_t);
		uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
		struct dns_slot *slot = &fwd->slots[id % DNS_SLOTS];
		if (!slot->used || slot->our_id != id)
			continue;	/* late, or not ours */
		slot->used = false;
		msg[0] = (uint8_t)(slot->guest_id >> 8);
		msg[1] = (uint8_t)slot->guest_id;
		uint32_t tag = htole32(slot->tag);
		memcpy(buf, &tag, sizeof(tag));
		fwd->answer(fwd->opaque, slot->tag, buf, sizeof(uint32_t) + (size_t)n);
	}
}

void dns_forward_query(struct dns_forward *fwd, const uint8_t *payload, size_t len)
{
	uint8_t msg[PROTO_DNS_MAX];
	uint32_t tag;

	if (len < sizeof(tag) + DNS_HEADER || len > sizeof(tag) + PROTO_DNS_MAX)
		return;
	memcpy(&tag, payload, sizeof(tag));
	len -= sizeof(tag);
	memcpy(msg, payload + sizeof(tag), len);
	/* Our own ids: two guest resolvers may pick the same one. */
	uint16_t id = fwd->next_id++;
	struct dns_slot *slot = &fwd->slots[id % DNS_SLOTS];
	*slot = (struct dns_slot){
		.tag = le32toh(tag),
		.guest_id = (uint16_t)(msg[0] << 8 | msg[1]),
		.our_id = id,
		.used = true,
	};
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
	if (send(fwd->fd, msg, len, MSG_DONTWAIT) < 0)
		slot->used = false;	/* the guest's resolver retries */
}

int dns_forward_new(struct vm *vm, const char *server, dns_answer_fn *answer, void *opaque,
		    struct dns_forward **out, novm_error_t *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct dns_forward *fwd;

	if (inet_pton(AF_INET, server, &sin.sin_addr) != 1)
		return novm_error(err, EINVAL, "DNS relay: `%s` is not an IPv4 address", server);
	fwd = calloc(1, sizeof(*fwd));
	if (!fwd)
		return novm_error(err, ENOMEM, "DNS relay");
	fwd->vm = vm;
	fwd->answer = answer;
	fwd->opaque = opaque;
	fwd->next_id = (uint16_t)random();
	fwd->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fwd->fd < 0 || connect(fwd->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;
		if (fwd->fd >= 0)
			close(fwd->fd);
		free(fwd);
		return novm_error(err, e, "DNS relay: socket to %s:53", server);
	}
	int ret = ioloop_add(&vm->loop, fwd->fd, on_answer, fwd);
	if (ret < 0) {
		close(fwd->fd);
		free(fwd);
		return novm_error(err, -ret, "DNS relay: watch its socket");
	}
	*out = fwd;
	return 0;
}

void dns_forward_free(struct dns_forward *fwd)
{
	if (!fwd)
		return;
	close(fwd->fd);	/* also drops it from the I/O loop */
	free(fwd);
}
