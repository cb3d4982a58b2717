#include "channel/dns-forward.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent.h"
#include "kvm.h"

/* Queries in flight.  A guest that floods overwrites its own oldest
 * queries, nothing more. */
#define DNS_SLOTS 256
#define DNS_HEADER 12
/* Ids drawn from getrandom() at a time. */
#define DNS_ID_BATCH 64

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
	unsigned next_slot;	/* where the search for a free slot starts */
	/* Each query's id is random, so that other processes in the namespace
	 * cannot guess the id of an answer they would forge. */
	uint16_t ids[DNS_ID_BATCH];
	unsigned ids_left;
};

static struct dns_slot *slot_of_id(struct dns_forward *fwd, uint16_t id)
{
	for (unsigned i = 0; i < DNS_SLOTS; i++)
		if (fwd->slots[i].used && fwd->slots[i].our_id == id)
			return &fwd->slots[i];
	return NULL;
}

static uint16_t random_id(struct dns_forward *fwd)
{
	if (!fwd->ids_left) {
		/* The host's pool is long initialized: no wait, but never
		 * predictable ids either (GRND_INSECURE before the pool is
		 * ready is still not a sequence another process can follow). */
		ssize_t n = getrandom(fwd->ids, sizeof(fwd->ids), GRND_NONBLOCK);
		if (n != (ssize_t)sizeof(fwd->ids))
			n = getrandom(fwd->ids, sizeof(fwd->ids), GRND_INSECURE);
		if (n != (ssize_t)sizeof(fwd->ids))
			for (unsigned i = 0; i < DNS_ID_BATCH; i++)
				fwd->ids[i] = (uint16_t)random();	/* not reached on Linux >= 5.6 */
		fwd->ids_left = DNS_ID_BATCH;
	}
	return fwd->ids[--fwd->ids_left];
}

/* A random id no query in flight has, and a slot for it: a free one, or
 * the next in turn (the oldest, roughly) when the guest floods. */
static struct dns_slot *new_query(struct dns_forward *fwd, uint16_t *id)
{
	struct dns_slot *slot = NULL;

	do
		*id = random_id(fwd);
	while (slot_of_id(fwd, *id));	/* at most 256 of 65536 are taken */
	for (unsigned i = 0; i < DNS_SLOTS && !slot; i++) {
		struct dns_slot *s = &fwd->slots[(fwd->next_slot + i) % DNS_SLOTS];
		if (!s->used)
			slot = s;
	}
	if (!slot)
		slot = &fwd->slots[fwd->next_slot % DNS_SLOTS];
	fwd->next_slot = (unsigned)(slot - fwd->slots + 1) % DNS_SLOTS;
	return slot;
}

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
		struct dns_slot *slot = slot_of_id(fwd, id);
		if (!slot)
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
	uint16_t id;
	struct dns_slot *slot = new_query(fwd, &id);
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
